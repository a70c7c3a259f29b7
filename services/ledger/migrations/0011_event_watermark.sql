-- How far the journal has been published to the event feed (journal_events.h): the journal is the
-- ledger's outbox. A ledger that already has entries starts at its newest one: the feed announces
-- what happens from the upgrade on, not the whole history.
CREATE TABLE event_watermark (
  singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  published_through  bigint  NOT NULL
);
INSERT INTO event_watermark (published_through) SELECT coalesce(max(sequence), 0) FROM entries;
