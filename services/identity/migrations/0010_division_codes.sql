-- An org node may carry its statistical division code (统计用区划代码): twelve digits, unique, so
-- city systems can map their own ids onto the tree. The form per level is checked by the service
-- (division_code.h); the table keeps the digits and the uniqueness.
ALTER TABLE org_nodes ADD COLUMN division_code text UNIQUE CHECK (division_code ~ '^[0-9]{12}$');
