-- The event feed: every service's domain events in one order. Rows are appended only under the
-- transaction-scoped advisory lock FeedStore takes, so `seq` order is commit order and a reader
-- that saw seq N never misses a later commit below it.
CREATE TABLE feed (
  seq           bigserial   PRIMARY KEY,
  event_id      uuid        NOT NULL UNIQUE,
  source        text        NOT NULL,
  type          text        NOT NULL,
  subject       text        NOT NULL,
  occurred_at   timestamptz NOT NULL,
  district_id   text        NOT NULL,
  street_id     text        NOT NULL,
  community_id  text        NOT NULL,
  data_type     text        NOT NULL,
  data          bytea       NOT NULL,
  appended_at   timestamptz NOT NULL DEFAULT now()
);

-- How far retention has deleted: a cursor below it is OUT_OF_RANGE.
CREATE TABLE feed_retention (
  singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  pruned_through  bigint  NOT NULL DEFAULT 0
);
INSERT INTO feed_retention DEFAULT VALUES;

-- Microseconds since the epoch ↔ timestamptz, as the other services' schemas have them.
CREATE FUNCTION us(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;
CREATE FUNCTION from_us(v bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE
  AS $$ SELECT to_timestamp(v / 1000000.0) $$;
