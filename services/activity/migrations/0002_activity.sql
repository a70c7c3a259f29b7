-- Activity: places, activities and enrolments, points rules, and awards (which are also the
-- outbox the relay delivers to the ledger). Times are timestamptz; us()/from_us() convert to and
-- from the microseconds the code uses.

CREATE FUNCTION us(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;
CREATE FUNCTION from_us(v bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE
  AS $$ SELECT to_timestamp(v / 1000000.0) $$;

-- Org paths fetched from identity (ResolveOrgPath). A node never moves, so an entry never goes
-- stale; the cache spares identity a call per request.
CREATE TABLE org_paths (
  org_id        text     PRIMARY KEY,
  level         smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
  district_id   text     NOT NULL DEFAULT '',
  street_id     text     NOT NULL DEFAULT '',
  community_id  text     NOT NULL DEFAULT ''
);

-- Rider stations (小哥驿站), love corners (爱心角) and activity venues.
CREATE TABLE places (
  place_id                text             PRIMARY KEY,
  kind                    smallint         NOT NULL CHECK (kind BETWEEN 1 AND 3),
  name                    text             NOT NULL,
  description             text             NOT NULL DEFAULT '',
  address                 text             NOT NULL,
  latitude                double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
  longitude               double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
  community_id            text             NOT NULL,
  street_id               text             NOT NULL,
  district_id             text             NOT NULL,
  services                smallint[]       NOT NULL DEFAULT '{}',
  opening_hours           bytea            NOT NULL DEFAULT '',  -- serialized OpeningHours
  temporarily_closed      boolean          NOT NULL DEFAULT false,
  closed_until            timestamptz,
  check_in_radius_meters  integer          NOT NULL DEFAULT 200
                                           CHECK (check_in_radius_meters BETWEEN 20 AND 2000),
  keeper_person_id        text             NOT NULL DEFAULT '',
  retired_at              timestamptz,
  retire_reason           text,
  created_by              text             NOT NULL,
  created_at              timestamptz      NOT NULL DEFAULT now(),
  updated_at              timestamptz      NOT NULL DEFAULT now(),
  version                 bigint           NOT NULL DEFAULT 1
);
CREATE INDEX places_community ON places (community_id, place_id);
CREATE INDEX places_street ON places (street_id, place_id);
CREATE INDEX places_district ON places (district_id, place_id);
CREATE INDEX places_location ON places (latitude, longitude) WHERE retired_at IS NULL;

CREATE TABLE activities (
  activity_id              text        PRIMARY KEY,
  title                    text        NOT NULL,
  description              text        NOT NULL DEFAULT '',
  category                 smallint    NOT NULL CHECK (category BETWEEN 1 AND 8),
  place_id                 text        NOT NULL REFERENCES places (place_id),
  organiser_org_id         text        NOT NULL,
  district_id              text        NOT NULL,
  street_id                text        NOT NULL,
  community_id             text        NOT NULL DEFAULT '',
  start_at                 timestamptz NOT NULL,
  end_at                   timestamptz NOT NULL CHECK (end_at > start_at),
  enrol_close_at           timestamptz NOT NULL,
  check_in_lead_minutes    integer     NOT NULL CHECK (check_in_lead_minutes BETWEEN 0 AND 120),
  capacity                 integer     NOT NULL CHECK (capacity BETWEEN 1 AND 5000),
  enrolled_count           integer     NOT NULL DEFAULT 0,
  checked_in_count         integer     NOT NULL DEFAULT 0,
  confirmed_count          integer     NOT NULL DEFAULT 0,
  points                   bigint      NOT NULL CHECK (points BETWEEN 0 AND 1000),
  audience                 smallint    NOT NULL CHECK (audience IN (1, 2)),
  check_in_radius_meters   integer     NOT NULL CHECK (check_in_radius_meters = 0 OR
                                                       check_in_radius_meters BETWEEN 20 AND 2000),
  code_period_seconds      integer     NOT NULL CHECK (code_period_seconds BETWEEN 15 AND 300),
  code_secret              bytea       NOT NULL,
  cancelled_at             timestamptz,
  cancel_reason            text        NOT NULL DEFAULT '',
  created_by               text        NOT NULL,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  version                  bigint      NOT NULL DEFAULT 1,
  -- A seat is held by ENROLLED, CHECKED_IN and CONFIRMED riders.
  CHECK (enrolled_count BETWEEN 0 AND capacity),
  CHECK (confirmed_count <= checked_in_count AND checked_in_count <= enrolled_count)
);
CREATE INDEX activities_district ON activities (district_id, start_at, activity_id);
CREATE INDEX activities_street ON activities (street_id, start_at, activity_id);
CREATE INDEX activities_community ON activities (community_id, start_at, activity_id);
CREATE INDEX activities_place ON activities (place_id, start_at);

-- status: 1 enrolled, 2 withdrawn, 3 checked in, 4 confirmed, 5 attendance rejected
-- (EnrolmentStatus). check_in_method: 1 code, 2 staff.
CREATE TABLE enrolments (
  activity_id         text        NOT NULL REFERENCES activities (activity_id),
  rider_id            text        NOT NULL,
  status              smallint    NOT NULL CHECK (status BETWEEN 1 AND 5),
  enrolled_at         timestamptz NOT NULL DEFAULT now(),
  withdrawn_at        timestamptz,
  checked_in_at       timestamptz,
  check_in_method     smallint    NOT NULL DEFAULT 0,
  checked_in_by       text        NOT NULL DEFAULT '',
  check_in_distance_m integer     NOT NULL DEFAULT 0,
  reviewed_at         timestamptz,
  reviewed_by         text        NOT NULL DEFAULT '',
  reject_reason       text        NOT NULL DEFAULT '',
  PRIMARY KEY (activity_id, rider_id)
);
CREATE INDEX enrolments_rider ON enrolments (rider_id, enrolled_at DESC);

-- Wrong check-in codes per rider and activity, in 10-minute windows (the only thing a refused
-- check-in writes).
CREATE TABLE code_attempts (
  activity_id   text        NOT NULL,
  rider_id      text        NOT NULL,
  window_start  timestamptz NOT NULL,
  wrong         integer     NOT NULL,
  PRIMARY KEY (activity_id, rider_id, window_start)
);

-- Points rule overrides of one org node, as a serialized PointsRules (lists and limits only).
CREATE TABLE points_rules (
  org_id      text        PRIMARY KEY,
  rules       bytea       NOT NULL,
  version     bigint      NOT NULL,
  updated_by  text        NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What a rider earned per day (Asia/Shanghai, the day the work was done), so daily caps are
-- applied under one row lock per rider and day.
CREATE TABLE rider_days (
  rider_id         text    NOT NULL,
  day              date    NOT NULL,
  points           bigint  NOT NULL DEFAULT 0,
  service_records  integer NOT NULL DEFAULT 0,
  post_shifts      integer NOT NULL DEFAULT 0,
  PRIMARY KEY (rider_id, day)
);

-- One award per source and rider, written in the confirming transaction; a PENDING row is the
-- outbox entry the relay delivers under idempotency_key. status: 1 pending, 2 awarded, 3 capped,
-- 4 failed (AwardStatus). source_kind: 1 attendance, 2 post shift, 3 service record.
CREATE TABLE awards (
  idempotency_key    text        PRIMARY KEY CHECK (length(idempotency_key) <= 128),
  source_kind        smallint    NOT NULL CHECK (source_kind BETWEEN 1 AND 3),
  source_id          text        NOT NULL,
  rider_id           text        NOT NULL,
  points             bigint      NOT NULL CHECK (points BETWEEN 0 AND 1000),
  points_before_cap  bigint      NOT NULL CHECK (points_before_cap BETWEEN 0 AND 1000),
  status             smallint    NOT NULL CHECK (status BETWEEN 1 AND 4),
  district_id        text        NOT NULL,
  street_id          text        NOT NULL,
  community_id       text        NOT NULL,
  rule_org_id        text        NOT NULL,
  rule_version       bigint      NOT NULL,
  verified_by        text        NOT NULL,
  occur_at           timestamptz NOT NULL,
  reason             text        NOT NULL DEFAULT '',
  created_at         timestamptz NOT NULL DEFAULT now(),
  awarded_at         timestamptz,
  ledger_entry_id    text        NOT NULL DEFAULT '',
  attempts           integer     NOT NULL DEFAULT 0,
  last_error         text        NOT NULL DEFAULT '',
  next_attempt_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_kind, source_id, rider_id),
  CHECK ((status = 3) = (points = 0))
);
CREATE INDEX awards_outbox ON awards (next_attempt_at) WHERE status = 1;
CREATE INDEX awards_rider ON awards (rider_id, created_at DESC, idempotency_key);
CREATE INDEX awards_created ON awards (created_at DESC, idempotency_key);
