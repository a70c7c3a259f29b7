-- Checked-in and confirmed counts are read from the enrolments themselves: keeping them on the
-- activity row made every check-in update that one row, so one activity's check-ins ran one at a
-- time. The seat count stays on the row (enrolment checks capacity under its lock).
ALTER TABLE activities DROP COLUMN checked_in_count, DROP COLUMN confirmed_count;
CREATE INDEX enrolments_activity_status ON enrolments (activity_id, status);
