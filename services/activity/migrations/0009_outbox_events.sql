-- Domain events for city systems (common/events/outbox.h), written in the same transaction as the
-- change they describe; the event relay publishes them to the events service in `seq` order and
-- stamps published_at, and deletes them a day after.
CREATE TABLE outbox_events (
  seq           bigserial   PRIMARY KEY,
  event_id      uuid        NOT NULL DEFAULT gen_random_uuid(),
  type          text        NOT NULL,
  subject       text        NOT NULL,
  occurred_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  district_id   text        NOT NULL DEFAULT '',
  street_id     text        NOT NULL DEFAULT '',
  community_id  text        NOT NULL DEFAULT '',
  data_type     text        NOT NULL,
  data          bytea       NOT NULL,
  published_at  timestamptz
);

-- The relay's queue: what is not yet published, in order.
CREATE INDEX outbox_events_unpublished ON outbox_events (seq) WHERE published_at IS NULL;
