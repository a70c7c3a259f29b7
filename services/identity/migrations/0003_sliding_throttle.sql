-- Throttles keep one row per counted attempt (a sliding log) instead of hits per fixed window, so
-- a limit holds over the last N minutes exactly and a refused caller is told the exact wait. The
-- time is kept in microseconds as the service computes it, so waits come out exact.
CREATE TABLE throttle_events (
  event_id  bigserial PRIMARY KEY,
  bucket    text      NOT NULL,
  at_us     bigint    NOT NULL
);
CREATE INDEX throttle_events_bucket_at ON throttle_events (bucket, at_us);
CREATE INDEX throttle_events_at ON throttle_events (at_us);

DROP TABLE throttle_windows;
