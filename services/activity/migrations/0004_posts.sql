-- Governance posts (社区治理岗位): posts a community opens with a number of seats, riders' claims on
-- those seats, and the duty shifts riders on a post log for staff to confirm. A confirmed shift's
-- award lives in `awards` (source_kind 2, key "post-shift/<shift_id>").

-- kind: PostKind 1–5. status: 1 open, 2 closed (PostStatus). seats_taken counts PENDING and
-- APPROVED claims; it changes only under the post's row lock, and the CHECK keeps it within the
-- seats.
CREATE TABLE posts (
  post_id       text        PRIMARY KEY,
  kind          smallint    NOT NULL CHECK (kind BETWEEN 1 AND 5),
  title         text        NOT NULL,
  description   text        NOT NULL DEFAULT '',
  community_id  text        NOT NULL,
  street_id     text        NOT NULL,
  district_id   text        NOT NULL,
  seats_total   integer     NOT NULL CHECK (seats_total BETWEEN 1 AND 500),
  seats_taken   integer     NOT NULL DEFAULT 0,
  status        smallint    NOT NULL CHECK (status IN (1, 2)),
  created_by    text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  version       bigint      NOT NULL DEFAULT 1,
  CHECK (seats_taken BETWEEN 0 AND seats_total)
);
CREATE INDEX posts_community ON posts (community_id, created_at DESC, post_id DESC);
CREATE INDEX posts_street ON posts (street_id, created_at DESC, post_id DESC);
CREATE INDEX posts_district ON posts (district_id, created_at DESC, post_id DESC);

-- status: 1 pending, 2 approved, 3 rejected, 4 withdrawn (PostClaimStatus). A rider holds at most
-- one pending or approved claim per post.
CREATE TABLE post_claims (
  claim_id    text        PRIMARY KEY,
  post_id     text        NOT NULL REFERENCES posts (post_id),
  rider_id    text        NOT NULL,
  status      smallint    NOT NULL CHECK (status BETWEEN 1 AND 4),
  note        text        NOT NULL DEFAULT '',
  reason      text        NOT NULL DEFAULT '',
  decided_by  text        NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  decided_at  timestamptz,
  CHECK ((status = 1) = (decided_at IS NULL))
);
CREATE UNIQUE INDEX post_claims_held ON post_claims (post_id, rider_id) WHERE status IN (1, 2);
CREATE INDEX post_claims_post ON post_claims (post_id, created_at, claim_id);
CREATE INDEX post_claims_rider ON post_claims (rider_id, created_at, claim_id);

-- status: 1 submitted, 2 confirmed, 3 rejected (DutyShiftStatus). Overlaps between a rider's
-- submitted and confirmed shifts are refused under a per-rider advisory lock.
CREATE TABLE duty_shifts (
  shift_id         text             PRIMARY KEY,
  post_id          text             NOT NULL REFERENCES posts (post_id),
  claim_id         text             NOT NULL REFERENCES post_claims (claim_id),
  rider_id         text             NOT NULL,
  start_at         timestamptz      NOT NULL,
  end_at           timestamptz      NOT NULL,
  summary          text             NOT NULL,
  latitude         double precision CHECK (latitude BETWEEN -90 AND 90),
  longitude        double precision CHECK (longitude BETWEEN -180 AND 180),
  attachment_refs  text[]           NOT NULL DEFAULT '{}',
  status           smallint         NOT NULL CHECK (status BETWEEN 1 AND 3),
  reject_reason    text             NOT NULL DEFAULT '',
  reviewed_by      text             NOT NULL DEFAULT '',
  reviewed_at      timestamptz,
  created_at       timestamptz      NOT NULL DEFAULT now(),
  CHECK (end_at > start_at),
  CHECK ((latitude IS NULL) = (longitude IS NULL)),
  CHECK ((status = 1) = (reviewed_at IS NULL))
);
CREATE INDEX duty_shifts_post ON duty_shifts (post_id, start_at DESC, shift_id DESC);
CREATE INDEX duty_shifts_rider ON duty_shifts (rider_id, start_at DESC, shift_id DESC);
