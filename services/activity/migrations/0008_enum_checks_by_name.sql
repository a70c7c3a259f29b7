-- Enum columns are checked against the values the proto defines, through the functions made from
-- the binary's descriptors before every migration (common/pg/sql_enums.h), instead of number
-- ranges written by hand. A zero check-in method or appeal decision means none.
ALTER TABLE org_paths
  DROP CONSTRAINT org_paths_level_check,
  ADD CONSTRAINT org_paths_level_defined CHECK (org_level_defined(level));
ALTER TABLE places
  DROP CONSTRAINT places_kind_check,
  ADD CONSTRAINT places_kind_defined CHECK (place_kind_defined(kind));
ALTER TABLE activities
  DROP CONSTRAINT activities_category_check,
  DROP CONSTRAINT activities_audience_check,
  ADD CONSTRAINT activities_category_defined CHECK (activity_category_defined(category)),
  ADD CONSTRAINT activities_audience_defined CHECK (activity_audience_defined(audience));
ALTER TABLE enrolments
  DROP CONSTRAINT enrolments_status_check,
  ADD CONSTRAINT enrolments_status_defined CHECK (enrolment_status_defined(status)),
  ADD CONSTRAINT enrolments_check_in_method_named
    CHECK (check_in_method_name(check_in_method) IS NOT NULL);
ALTER TABLE awards
  DROP CONSTRAINT awards_source_kind_check,
  DROP CONSTRAINT awards_status_check,
  ADD CONSTRAINT awards_source_kind_defined CHECK (award_source_kind_defined(source_kind)),
  ADD CONSTRAINT awards_status_defined CHECK (award_status_defined(status));
ALTER TABLE posts
  DROP CONSTRAINT posts_kind_check,
  DROP CONSTRAINT posts_status_check,
  ADD CONSTRAINT posts_kind_defined CHECK (post_kind_defined(kind)),
  ADD CONSTRAINT posts_status_defined CHECK (post_status_defined(status));
ALTER TABLE post_claims
  DROP CONSTRAINT post_claims_status_check,
  ADD CONSTRAINT post_claims_status_defined CHECK (post_claim_status_defined(status));
ALTER TABLE duty_shifts
  DROP CONSTRAINT duty_shifts_status_check,
  ADD CONSTRAINT duty_shifts_status_defined CHECK (duty_shift_status_defined(status));
ALTER TABLE service_records
  DROP CONSTRAINT service_records_kind_check,
  DROP CONSTRAINT service_records_status_check,
  DROP CONSTRAINT service_records_decision_check,
  ADD CONSTRAINT service_records_kind_defined CHECK (service_record_kind_defined(kind)),
  ADD CONSTRAINT service_records_status_defined CHECK (service_record_status_defined(status)),
  ADD CONSTRAINT service_records_decision_named CHECK (appeal_decision_name(decision) IS NOT NULL);
