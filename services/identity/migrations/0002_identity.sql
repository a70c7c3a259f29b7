-- The identity schema: org tree, people, role grants, sessions, signing keys, community check-in,
-- service accounts and API keys. Enum columns hold the proto enum numbers (see the .proto files).

-- Times cross the wire as microseconds since the epoch; these two convert.
CREATE FUNCTION us(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS 'SELECT (extract(epoch FROM t) * 1000000)::bigint';
CREATE FUNCTION from_us(v bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE
  AS 'SELECT to_timestamp(v / 1000000.0)';

-- Org tree. A node's path (district, street, community ids) is fixed at creation: nodes never move,
-- so the ids are stored on the node and subtree queries are equality tests, not recursion.
CREATE TABLE org_nodes (
  org_id        text        PRIMARY KEY,
  code          text        NOT NULL UNIQUE,
  name          text        NOT NULL,
  level         smallint    NOT NULL CHECK (level BETWEEN 1 AND 4),
  parent_id     text        REFERENCES org_nodes (org_id),
  district_id   text,
  street_id     text,
  community_id  text,
  retired_at    timestamptz,
  version       bigint      NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((level = 1) = (parent_id IS NULL))
);
CREATE INDEX org_nodes_children ON org_nodes (parent_id, code);
INSERT INTO org_nodes (org_id, code, name, level) VALUES ('root', 'root', '全市', 1);

-- People: riders and staff. The phone number is held only as an HMAC (lookup, uniqueness) and a
-- masked form; both are erased (NULL) when the account is closed.
CREATE TABLE people (
  person_id                 text        PRIMARY KEY,
  display_name              text        NOT NULL,
  phone_hash                bytea       UNIQUE,
  phone_masked              text,
  password_hash             text,
  password_change_required  boolean     NOT NULL DEFAULT false,
  status                    smallint    NOT NULL DEFAULT 1 CHECK (status BETWEEN 1 AND 3),
  is_rider                  boolean     NOT NULL DEFAULT false,
  -- The rider consented to aggregate statistics; dashboards count only those who did.
  counted_in_stats          boolean     NOT NULL DEFAULT false,
  origin_community_id       text        REFERENCES org_nodes (org_id),
  registered_at             timestamptz,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  last_active_at            timestamptz
);
CREATE INDEX people_newest ON people (created_at DESC, person_id DESC);
CREATE INDEX people_registered ON people (registered_at) WHERE is_rider;

-- A rider's accounts on delivery platforms; one platform rider id belongs to one person.
CREATE TABLE platform_accounts (
  person_id          text        NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
  platform           smallint    NOT NULL,
  platform_name      text        NOT NULL DEFAULT '',
  platform_rider_id  text        NOT NULL,
  linked_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (person_id, platform, platform_name, platform_rider_id)
);
CREATE UNIQUE INDEX platform_accounts_owner
  ON platform_accounts (platform, platform_name, platform_rider_id);

-- Consent given to the privacy policy (PIPL), one row per giving.
CREATE TABLE consents (
  person_id       text        NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
  policy_version  text        NOT NULL,
  purposes        smallint[]  NOT NULL,
  consented_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consents_person ON consents (person_id, consented_at);

CREATE TABLE role_grants (
  grant_id       text        PRIMARY KEY,
  person_id      text        NOT NULL REFERENCES people (person_id),
  role           smallint    NOT NULL,
  org_id         text        NOT NULL REFERENCES org_nodes (org_id),
  granted_by     text        NOT NULL DEFAULT '',
  granted_at     timestamptz NOT NULL DEFAULT now(),
  revoked_by     text,
  revoked_at     timestamptz,
  revoke_reason  text
);
CREATE UNIQUE INDEX role_grants_one_active ON role_grants (person_id, role, org_id)
  WHERE revoked_at IS NULL;
CREATE INDEX role_grants_person ON role_grants (person_id, granted_at DESC);
CREATE INDEX role_grants_org ON role_grants (org_id);

-- A session is one sign-in on one device: a family of refresh tokens, each replacing the last.
CREATE TABLE sessions (
  session_id       text        PRIMARY KEY,
  person_id        text        NOT NULL REFERENCES people (person_id),
  device_name      text        NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_refresh_at  timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  revoked_at       timestamptz,
  revoke_reason    text
);
CREATE INDEX sessions_open ON sessions (person_id) WHERE revoked_at IS NULL;

-- Refresh tokens by SHA-256 of the token (the token itself is never stored). rotated_at is set
-- when the token was traded for its successor.
CREATE TABLE refresh_tokens (
  token_hash  bytea       PRIMARY KEY,
  session_id  text        NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  issued_at   timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  rotated_at  timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Token-signing keys. A key's state follows from its times (see key_ring.h): it signs from
-- activates_at until a newer key activates, and is published until 15 minutes after that.
CREATE TABLE signing_keys (
  kid                text        PRIMARY KEY,
  public_key         bytea       NOT NULL CHECK (length(public_key) = 32),
  sealed_secret_key  bytea       NOT NULL,
  activates_at       timestamptz NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  revoked_at         timestamptz,
  revoke_reason      text
);

CREATE TABLE check_in_codes (
  code          text        PRIMARY KEY,
  community_id  text        NOT NULL REFERENCES org_nodes (org_id),
  issued_at     timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  replaced_at   timestamptz
);
CREATE UNIQUE INDEX check_in_codes_current ON check_in_codes (community_id)
  WHERE replaced_at IS NULL;

-- Community check-ins. At most one ACTIVE (2) and one PENDING (1) per rider.
CREATE TABLE check_ins (
  check_in_id    text        PRIMARY KEY,
  person_id      text        NOT NULL REFERENCES people (person_id),
  community_id   text        NOT NULL REFERENCES org_nodes (org_id),
  street_id      text        NOT NULL,
  district_id    text        NOT NULL,
  method         smallint    NOT NULL CHECK (method IN (1, 2)),
  status         smallint    NOT NULL CHECK (status BETWEEN 1 AND 5),
  note           text        NOT NULL DEFAULT '',
  created_at     timestamptz NOT NULL DEFAULT now(),
  decided_at     timestamptz,
  decided_by     text,
  reject_reason  text,
  started_at     timestamptz,
  ended_at       timestamptz,
  superseded_by  text
);
CREATE UNIQUE INDEX check_ins_one_active ON check_ins (person_id) WHERE status = 2;
CREATE UNIQUE INDEX check_ins_one_pending ON check_ins (person_id) WHERE status = 1;
CREATE INDEX check_ins_person ON check_ins (person_id, created_at DESC, check_in_id DESC);
CREATE INDEX check_ins_community ON check_ins (community_id, created_at DESC, check_in_id DESC);
CREATE INDEX check_ins_street ON check_ins (street_id, created_at DESC);
CREATE INDEX check_ins_district ON check_ins (district_id, created_at DESC);

CREATE TABLE service_accounts (
  service_account_id  text        PRIMARY KEY,
  display_name        text        NOT NULL,
  description         text        NOT NULL DEFAULT '',
  role                smallint    NOT NULL CHECK (role IN (7, 8)),
  org_id              text        NOT NULL REFERENCES org_nodes (org_id),
  created_by          text        NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  disabled_at         timestamptz,
  disable_reason      text
);
CREATE INDEX service_accounts_org ON service_accounts (org_id);

-- API keys: only a keyed hash of the 32 random bytes is kept.
CREATE TABLE api_keys (
  api_key_id          text        PRIMARY KEY,
  service_account_id  text        NOT NULL REFERENCES service_accounts (service_account_id),
  display_name        text        NOT NULL,
  secret_hash         bytea       NOT NULL,
  secret_prefix       text        NOT NULL,
  scopes              text[]      NOT NULL,
  created_by          text        NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  expires_at          timestamptz NOT NULL,
  revoked_at          timestamptz,
  revoke_reason       text,
  last_used_at        timestamptz
);
CREATE INDEX api_keys_account ON api_keys (service_account_id, created_at DESC);

-- Fixed-window counters for throttling (failed logins, wrong codes, phone lookups, exchanges).
CREATE TABLE throttle_windows (
  bucket        text        NOT NULL,
  window_start  timestamptz NOT NULL,
  hits          integer     NOT NULL,
  PRIMARY KEY (bucket, window_start)
);

-- Who did what to whom, for status changes, revocations and key operations.
CREATE TABLE audit_events (
  event_id   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text        NOT NULL,
  action     text        NOT NULL,
  target     text        NOT NULL,
  detail     text        NOT NULL DEFAULT ''
);
