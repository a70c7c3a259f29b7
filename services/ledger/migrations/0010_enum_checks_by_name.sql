-- Enum columns are checked against the values the proto defines, through the functions made from
-- the binary's descriptors before every migration (common/pg/sql_enums.h), instead of number
-- ranges written by hand.
ALTER TABLE entries
  DROP CONSTRAINT entries_kind_check,
  DROP CONSTRAINT entries_source_kind_check,
  ADD CONSTRAINT entries_kind_defined CHECK (entry_kind_defined(kind)),
  ADD CONSTRAINT entries_source_kind_defined CHECK (source_kind_defined(source_kind));
ALTER TABLE holds
  DROP CONSTRAINT holds_state_check,
  ADD CONSTRAINT holds_state_defined CHECK (hold_state_defined(state));
ALTER TABLE seasons
  DROP CONSTRAINT seasons_scope_level_check,
  ADD CONSTRAINT seasons_scope_level_defined CHECK (org_level_defined(scope_level));
