-- The recovery pass's backoff per order: an order it could not settle waits before its next turn
-- (5 s, doubling, at most 10 minutes), and the pass takes orders by their next turn, so orders
-- stuck for good no longer fill every pass ahead of the others. '-infinity': never tried, first.
ALTER TABLE redemptions
  ADD COLUMN recovery_attempts int         NOT NULL DEFAULT 0,
  ADD COLUMN next_recovery_at  timestamptz NOT NULL DEFAULT '-infinity';

DROP INDEX redemptions_unsettled;
CREATE INDEX redemptions_unsettled ON redemptions (next_recovery_at, updated_at)
  WHERE state = 1 OR intent <> 0;
