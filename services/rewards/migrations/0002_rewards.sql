-- The rewards schema: gift catalog, station stock with its audited movements, exchange windows with
-- their frozen ranking cut, and redemption orders. Enum columns hold the proto enum numbers (see
-- protos/civicpoints/rewards/v1/*.proto).

-- Times cross the wire as microseconds since the epoch; these two convert.
CREATE FUNCTION us(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS 'SELECT (extract(epoch FROM t) * 1000000)::bigint';
CREATE FUNCTION from_us(v bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE
  AS 'SELECT to_timestamp(v / 1000000.0)';

-- Catalog. The owner's org path is copied from identity at creation (nodes never move), so scope
-- checks and "owned by this node or its ancestors" need no call to identity.
CREATE TABLE gifts (
  gift_id            text        PRIMARY KEY,
  name               text        NOT NULL,
  description        text        NOT NULL DEFAULT '',
  image_uri          text        NOT NULL DEFAULT '',
  category           smallint    NOT NULL CHECK (category BETWEEN 1 AND 7),
  points_cost        bigint      NOT NULL CHECK (points_cost BETWEEN 1 AND 1000000),
  active             boolean     NOT NULL,
  owner_org_id       text        NOT NULL,
  owner_district_id  text        NOT NULL DEFAULT '',
  owner_street_id    text        NOT NULL DEFAULT '',
  creator_id         text        NOT NULL,
  version            bigint      NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX gifts_owner_name ON gifts (owner_org_id, lower(name));
CREATE INDEX gifts_browse ON gifts (category, name, gift_id);

-- Rider stations as activity described them when first used here (org path and keeper).
CREATE TABLE stations (
  station_id        text        PRIMARY KEY,
  district_id       text        NOT NULL,
  street_id         text        NOT NULL,
  community_id      text        NOT NULL,
  keeper_person_id  text        NOT NULL DEFAULT '',
  checked_at        timestamptz NOT NULL DEFAULT now()
);

-- Stock of one gift at one station; on hand = available + reserved.
CREATE TABLE station_stock (
  station_id  text        NOT NULL REFERENCES stations (station_id),
  gift_id     text        NOT NULL REFERENCES gifts (gift_id),
  available   bigint      NOT NULL CHECK (available >= 0),
  reserved    bigint      NOT NULL CHECK (reserved >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (station_id, gift_id),
  CHECK (available + reserved <= 1000000)
) WITH (fillfactor = 70);
CREATE INDEX station_stock_gift ON station_stock (gift_id, available DESC, station_id);

-- Every change of station_stock, append-only. A redemption moves stock at most once per kind, so a
-- saga step that runs twice cannot move it twice.
CREATE TABLE stock_movements (
  movement_id      bigserial   PRIMARY KEY,
  station_id       text        NOT NULL,
  gift_id          text        NOT NULL,
  kind             smallint    NOT NULL CHECK (kind BETWEEN 1 AND 5),
  available_delta  bigint      NOT NULL,
  reserved_delta   bigint      NOT NULL,
  on_hand_delta    bigint      NOT NULL,
  available_after  bigint      NOT NULL,
  on_hand_after    bigint      NOT NULL,
  reason           text        NOT NULL DEFAULT '',
  actor_id         text        NOT NULL DEFAULT '',
  redemption_id    text,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_station ON stock_movements (station_id, movement_id DESC);
CREATE UNIQUE INDEX stock_movements_once ON stock_movements (redemption_id, kind)
  WHERE redemption_id IS NOT NULL;
CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'stock_movements is append-only';
END $$;
CREATE TRIGGER stock_movements_no_change BEFORE UPDATE OR DELETE ON stock_movements
  FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only();

-- Exchange windows. `eligibility` is the serialized EligibilityRule, `snapshot` the serialized
-- EligibilitySnapshot once the window opened with a ranking rule.
CREATE TABLE exchange_windows (
  window_id            text        PRIMARY KEY,
  title                text        NOT NULL,
  description          text        NOT NULL DEFAULT '',
  owner_org_id         text        NOT NULL,
  owner_district_id    text        NOT NULL DEFAULT '',
  owner_street_id      text        NOT NULL DEFAULT '',
  owner_community_id   text        NOT NULL DEFAULT '',
  start_at             timestamptz NOT NULL,
  end_at               timestamptz NOT NULL,
  eligibility          bytea       NOT NULL,
  has_ranking          boolean     NOT NULL,
  max_items_per_rider  integer     NOT NULL DEFAULT 0,
  pickup_ttl_s         bigint,
  state                smallint    NOT NULL CHECK (state BETWEEN 1 AND 3),
  rule_text            text        NOT NULL,
  snapshot             bytea,
  creator_id           text        NOT NULL,
  version              bigint      NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  opened_at            timestamptz,
  closed_at            timestamptz,
  close_reason         text        NOT NULL DEFAULT '',
  CHECK (start_at < end_at)
);
CREATE INDEX exchange_windows_start ON exchange_windows (start_at, window_id);
CREATE INDEX exchange_windows_due ON exchange_windows (state, start_at, end_at);

CREATE TABLE window_stations (
  window_id   text NOT NULL REFERENCES exchange_windows (window_id),
  station_id  text NOT NULL,
  position    integer NOT NULL,
  PRIMARY KEY (window_id, station_id)
);
CREATE INDEX window_stations_station ON window_stations (station_id);

CREATE TABLE window_gifts (
  window_id      text    NOT NULL REFERENCES exchange_windows (window_id),
  gift_id        text    NOT NULL REFERENCES gifts (gift_id),
  position       integer NOT NULL,
  max_per_rider  integer NOT NULL DEFAULT 0,
  PRIMARY KEY (window_id, gift_id)
);
CREATE INDEX window_gifts_gift ON window_gifts (gift_id);

-- The frozen ranking cut: every rider inside it when the window opened (ties included), with their
-- shared rank (1 + riders with more points).
CREATE TABLE window_eligible (
  window_id  text    NOT NULL REFERENCES exchange_windows (window_id),
  rider_id   text    NOT NULL,
  rank       integer NOT NULL,
  points     bigint  NOT NULL,
  PRIMARY KEY (window_id, rider_id)
);
CREATE INDEX window_eligible_rank ON window_eligible (window_id, rank, rider_id);

-- Redemption orders. `intent` is the final state a settling step is heading for (FULFILLED by
-- capture; CANCELLED, EXPIRED or FAILED by release), written before the ledger call so that a crash
-- in between is finished by recovery; 0 when no step is under way.
CREATE TABLE redemptions (
  redemption_id     text        PRIMARY KEY,
  rider_id          text        NOT NULL,
  window_id         text        NOT NULL REFERENCES exchange_windows (window_id),
  station_id        text        NOT NULL,
  gift_id           text        NOT NULL REFERENCES gifts (gift_id),
  gift_name         text        NOT NULL,
  quantity          integer     NOT NULL CHECK (quantity BETWEEN 1 AND 10),
  unit_points       bigint      NOT NULL,
  points            bigint      NOT NULL,
  state             smallint    NOT NULL CHECK (state BETWEEN 1 AND 6),
  intent            smallint    NOT NULL DEFAULT 0,
  intent_reason     smallint    NOT NULL DEFAULT 0,
  stock_reserved    boolean     NOT NULL DEFAULT false,
  pickup_code       text        NOT NULL DEFAULT '',
  district_id       text        NOT NULL,
  street_id         text        NOT NULL,
  community_id      text        NOT NULL,
  pickup_ttl_s      bigint      NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  ready_at          timestamptz,
  expire_at         timestamptz,
  ended_at          timestamptz,
  fulfilled_by      text        NOT NULL DEFAULT '',
  failure_reason    smallint    NOT NULL DEFAULT 0,
  failure_message   text        NOT NULL DEFAULT '',
  cancel_reason     text        NOT NULL DEFAULT '',
  updated_at        timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 80);
-- A pickup code names one READY order.
CREATE UNIQUE INDEX redemptions_ready_code ON redemptions (pickup_code) WHERE state = 2;
CREATE INDEX redemptions_code ON redemptions (pickup_code, ended_at DESC) WHERE pickup_code <> '';
CREATE INDEX redemptions_rider ON redemptions (rider_id, created_at DESC, redemption_id);
CREATE INDEX redemptions_window_rider ON redemptions (window_id, rider_id);
CREATE INDEX redemptions_pickups ON redemptions (station_id, expire_at, redemption_id) WHERE state = 2;
CREATE INDEX redemptions_unsettled ON redemptions (updated_at) WHERE state = 1 OR intent <> 0;
CREATE INDEX redemptions_expiry ON redemptions (expire_at) WHERE state = 2;
CREATE INDEX redemptions_ended ON redemptions (ended_at) WHERE ended_at IS NOT NULL;

-- CreateRedemption's idempotency keys, per rider (apps choose them): the order a key made, or the
-- refusal it got before any order existed.
CREATE TABLE redemption_requests (
  rider_id        text        NOT NULL,
  key             text        NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
  request_hash    bytea       NOT NULL,
  redemption_id   text,
  refusal_code    integer     NOT NULL DEFAULT 0,
  refusal_reason  smallint    NOT NULL DEFAULT 0,
  refusal_message text        NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rider_id, key)
);
CREATE INDEX redemption_requests_created_at ON redemption_requests (created_at);

-- Fixed-window counters (wrong pickup codes per keeper).
CREATE TABLE throttle_windows (
  bucket        text        NOT NULL,
  window_start  timestamptz NOT NULL,
  hits          integer     NOT NULL,
  PRIMARY KEY (bucket, window_start)
);
