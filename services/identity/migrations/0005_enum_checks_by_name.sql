-- Enum columns are checked against the values the proto defines, through the functions made from
-- the binary's descriptors before every migration (common/pg/sql_enums.h), instead of number
-- ranges written by hand.
ALTER TABLE org_nodes
  DROP CONSTRAINT org_nodes_level_check,
  ADD CONSTRAINT org_nodes_level_defined CHECK (org_level_defined(level));
ALTER TABLE people
  DROP CONSTRAINT people_status_check,
  ADD CONSTRAINT people_status_defined CHECK (person_status_defined(status));
ALTER TABLE role_grants
  ADD CONSTRAINT role_grants_role_defined CHECK (role_defined(role));
ALTER TABLE check_ins
  DROP CONSTRAINT check_ins_method_check,
  DROP CONSTRAINT check_ins_status_check,
  ADD CONSTRAINT check_ins_method_defined CHECK (check_in_method_defined(method)),
  ADD CONSTRAINT check_ins_status_defined CHECK (check_in_status_defined(status));
-- Service accounts hold the two roles of systems, not of people.
ALTER TABLE service_accounts
  DROP CONSTRAINT service_accounts_role_check,
  ADD CONSTRAINT service_accounts_role_of_a_system
    CHECK (role IN (role('CITY_SYSTEM'), role('INTERNAL_SERVICE')));
