-- Wrong check-in codes are counted in the sliding log every service's throttle keeps
-- (common/pg/throttle.h): one row per counted attempt, so "5 wrong codes in 10 minutes" holds over
-- any 10 minutes and a refused rider is told the exact wait, not the end of a clock slot.
CREATE TABLE throttle_events (
  event_id  bigserial PRIMARY KEY,
  bucket    text      NOT NULL,
  at_us     bigint    NOT NULL
);
CREATE INDEX throttle_events_bucket_at ON throttle_events (bucket, at_us);
CREATE INDEX throttle_events_at ON throttle_events (at_us);

DROP TABLE code_attempts;
