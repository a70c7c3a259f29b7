-- Named seasons: ranking periods with a fixed time range and an owning org node (an exchange
-- window's earning period). Awards count in every season whose range holds their occur_time and
-- whose node holds their org path.
CREATE TABLE seasons (
  seq          bigserial   PRIMARY KEY,
  season_id    text        NOT NULL UNIQUE,
  display_name text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 64),
  scope_level  smallint    NOT NULL CHECK (scope_level BETWEEN 1 AND 4),
  scope_org_id text        NOT NULL DEFAULT '',
  start_time   timestamptz NOT NULL,
  end_time     timestamptz NOT NULL CHECK (end_time > start_time),
  creator_id   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seasons_by_time ON seasons (start_time, end_time);

-- Frozen rankings (taken from ranking_scores in one transaction), kept as the serialized
-- RankingSnapshot message so a snapshot reads back exactly as it was taken.
CREATE TABLE ranking_snapshots (
  snapshot_id text        PRIMARY KEY,
  snapshot    bytea       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
