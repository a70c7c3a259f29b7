-- The points journal: accounts, append-only hash-chained entries, holds, and the authoritative
-- ranking scores that Redis caches. Invariants live here as well as in code: balances never go
-- negative, amounts are bounded, entries are never updated or deleted.

CREATE TABLE accounts (
  person_id        text        PRIMARY KEY CHECK (length(person_id) BETWEEN 1 AND 64),
  available        bigint      NOT NULL DEFAULT 0 CHECK (available >= 0),
  held             bigint      NOT NULL DEFAULT 0 CHECK (held >= 0),
  -- Points ever awarded, and the same net of reversals and deductions (what rankings count).
  gross_earned     bigint      NOT NULL DEFAULT 0 CHECK (gross_earned >= 0),
  earned           bigint      NOT NULL DEFAULT 0 CHECK (earned >= 0),
  spent            bigint      NOT NULL DEFAULT 0 CHECK (spent >= 0),
  entry_count      bigint      NOT NULL DEFAULT 0,
  head_hash        bytea       NOT NULL DEFAULT decode(repeat('00', 32), 'hex'),
  ranking_excluded boolean     NOT NULL DEFAULT false,
  district_id      text        NOT NULL DEFAULT '',
  street_id        text        NOT NULL DEFAULT '',
  community_id     text        NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT accounts_total_bounded CHECK (available + held <= 1000000000000),
  -- Every point earned is available, held or spent: the books balance per account.
  CONSTRAINT accounts_balance CHECK (available + held + spent = earned)
);

CREATE TABLE entries (
  sequence          bigserial   PRIMARY KEY,
  person_id         text        NOT NULL REFERENCES accounts (person_id),
  account_sequence  bigint      NOT NULL CHECK (account_sequence >= 1),
  kind              smallint    NOT NULL CHECK (kind BETWEEN 1 AND 6),
  amount            bigint      NOT NULL CHECK (amount BETWEEN 1 AND 1000000),
  available_delta   bigint      NOT NULL,
  held_delta        bigint      NOT NULL,
  earned_delta      bigint      NOT NULL,
  available_after   bigint      NOT NULL CHECK (available_after >= 0),
  held_after        bigint      NOT NULL CHECK (held_after >= 0),
  source_kind       smallint    NOT NULL CHECK (source_kind BETWEEN 1 AND 6),
  source_id         text        NOT NULL DEFAULT '',
  points_rule_id    text        NOT NULL DEFAULT '',
  verified_by       text        NOT NULL DEFAULT '',
  district_id       text        NOT NULL DEFAULT '',
  street_id         text        NOT NULL DEFAULT '',
  community_id      text        NOT NULL DEFAULT '',
  reason            text        NOT NULL DEFAULT '',
  actor_id          text        NOT NULL DEFAULT '',
  order_id          text        NOT NULL DEFAULT '',
  reversed_entry_id text        NOT NULL DEFAULT '',
  bulk_award_id     text        NOT NULL DEFAULT '',
  occur_time        timestamptz NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  prev_hash         bytea       NOT NULL,
  hash              bytea       NOT NULL,
  UNIQUE (person_id, account_sequence)
);

CREATE INDEX entries_by_account_time ON entries (person_id, created_at DESC, sequence DESC);
CREATE INDEX entries_by_source ON entries (source_kind, source_id, person_id) WHERE kind = 1;
CREATE UNIQUE INDEX entries_one_reversal_per_award ON entries (reversed_entry_id)
  WHERE kind = 6;

-- Entries are append-only: a mistake is undone by a compensating entry, never by an edit.
CREATE FUNCTION forbid_entry_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger entries are append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
  FOR EACH ROW EXECUTE FUNCTION forbid_entry_change();

-- The hash of an entry: SHA-256 over the previous hash and every field that gives the entry its
-- meaning, each length-prefixed so no two field lists encode alike. VerifyJournal recomputes it.
CREATE FUNCTION entry_hash(e entries) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT sha256(e.prev_hash || convert_to(
    (SELECT string_agg(length(f)::text || ':' || f, '' ORDER BY ord)
       FROM unnest(ARRAY[
         e.person_id, e.account_sequence::text, e.kind::text, e.amount::text,
         e.available_delta::text, e.held_delta::text, e.earned_delta::text,
         e.available_after::text, e.held_after::text, e.source_kind::text, e.source_id,
         e.points_rule_id, e.verified_by, e.district_id, e.street_id, e.community_id, e.reason,
         e.actor_id, e.order_id, e.reversed_entry_id, e.bulk_award_id,
         (extract(epoch FROM e.occur_time) * 1000000)::bigint::text,
         (extract(epoch FROM e.created_at) * 1000000)::bigint::text
       ]) WITH ORDINALITY AS t(f, ord)),
    'UTF8'))
$$;

-- Appends one entry to an account and moves its balances, under the account's row lock, chaining
-- the entry's hash to the account's head. Raises SQLSTATE CPL01 when the account does not exist
-- (and p_open is false), CPL02 when available or held would go negative, CPL03 when the account
-- would exceed its bound. Returns the stored entry.
CREATE FUNCTION post_entry(
  p_person text, p_open boolean, p_kind smallint, p_amount bigint,
  p_available_delta bigint, p_held_delta bigint, p_earned_delta bigint,
  p_source_kind smallint, p_source_id text, p_points_rule_id text, p_verified_by text,
  p_district_id text, p_street_id text, p_community_id text, p_reason text, p_actor_id text,
  p_order_id text, p_reversed_entry_id text, p_bulk_award_id text, p_occur_time timestamptz)
RETURNS entries LANGUAGE plpgsql
-- The tables it names are the ledger schema's, whatever search_path the caller has.
SET search_path FROM CURRENT
AS $$
DECLARE
  a accounts;
  e entries;
BEGIN
  IF p_open THEN
    INSERT INTO accounts (person_id) VALUES (p_person) ON CONFLICT DO NOTHING;
  END IF;
  SELECT * INTO a FROM accounts WHERE person_id = p_person FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'account % has no points yet', p_person USING ERRCODE = 'CPL01';
  END IF;
  IF a.available + p_available_delta < 0 OR a.held + p_held_delta < 0
     OR a.earned + p_earned_delta < 0 THEN
    RAISE EXCEPTION 'account % has % points available, % needed', p_person, a.available,
      -p_available_delta USING ERRCODE = 'CPL02';
  END IF;
  IF a.available + p_available_delta + a.held + p_held_delta > 1000000000000 THEN
    RAISE EXCEPTION 'account % would exceed 1000000000000 points', p_person
      USING ERRCODE = 'CPL03';
  END IF;

  e.sequence := nextval(pg_get_serial_sequence('entries', 'sequence'));
  e.person_id := p_person;
  e.account_sequence := a.entry_count + 1;
  e.kind := p_kind;
  e.amount := p_amount;
  e.available_delta := p_available_delta;
  e.held_delta := p_held_delta;
  e.earned_delta := p_earned_delta;
  e.available_after := a.available + p_available_delta;
  e.held_after := a.held + p_held_delta;
  e.source_kind := p_source_kind;
  e.source_id := p_source_id;
  e.points_rule_id := p_points_rule_id;
  e.verified_by := p_verified_by;
  e.district_id := p_district_id;
  e.street_id := p_street_id;
  e.community_id := p_community_id;
  e.reason := p_reason;
  e.actor_id := p_actor_id;
  e.order_id := p_order_id;
  e.reversed_entry_id := p_reversed_entry_id;
  e.bulk_award_id := p_bulk_award_id;
  -- Microsecond precision is what timestamptz stores; the hash must see the stored values.
  e.occur_time := date_trunc('microseconds', coalesce(p_occur_time, clock_timestamp()));
  e.created_at := date_trunc('microseconds', clock_timestamp());
  e.prev_hash := a.head_hash;
  e.hash := entry_hash(e);
  INSERT INTO entries VALUES (e.*);

  UPDATE accounts SET
    available = e.available_after,
    held = e.held_after,
    gross_earned = gross_earned + CASE WHEN p_kind = 1 THEN p_amount ELSE 0 END,
    earned = earned + p_earned_delta,
    spent = spent + CASE WHEN p_kind = 4 THEN p_amount ELSE 0 END,
    entry_count = e.account_sequence,
    head_hash = e.hash,
    district_id = CASE WHEN p_kind = 1 AND p_community_id <> '' THEN p_district_id ELSE district_id END,
    street_id = CASE WHEN p_kind = 1 AND p_community_id <> '' THEN p_street_id ELSE street_id END,
    community_id = CASE WHEN p_kind = 1 AND p_community_id <> '' THEN p_community_id ELSE community_id END,
    updated_at = e.created_at
  WHERE person_id = p_person;
  RETURN e;
END $$;

-- One hold per redemption order; its state moves HELD → CAPTURED or HELD → RELEASED, once.
CREATE TABLE holds (
  order_id        text        PRIMARY KEY CHECK (length(order_id) BETWEEN 1 AND 64),
  person_id       text        NOT NULL REFERENCES accounts (person_id),
  amount          bigint      NOT NULL CHECK (amount BETWEEN 1 AND 1000000),
  state           smallint    NOT NULL CHECK (state BETWEEN 1 AND 3),
  expire_time     timestamptz,
  expired         boolean     NOT NULL DEFAULT false,
  hold_sequence   bigint      NOT NULL REFERENCES entries (sequence),
  settle_sequence bigint      REFERENCES entries (sequence),
  district_id     text        NOT NULL DEFAULT '',
  street_id       text        NOT NULL DEFAULT '',
  community_id    text        NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now(),
  settled_at      timestamptz,
  CHECK ((state = 1) = (settle_sequence IS NULL))
);
CREATE INDEX holds_due ON holds (expire_time) WHERE state = 1 AND expire_time IS NOT NULL;

-- Authoritative ranking scores, one row per ranking (scope and period) and rider, changed in the
-- same transaction as the entry that moves them. `version` grows with every change so the Redis
-- copy accepts only newer values; `reached_at` is when the score last rose (earlier wins a tie).
CREATE TABLE ranking_scores (
  ranking_key text        NOT NULL,
  person_id   text        NOT NULL,
  score       bigint      NOT NULL CHECK (score >= 0),
  reached_at  timestamptz NOT NULL,
  version     bigint      NOT NULL,
  PRIMARY KEY (ranking_key, person_id)
);
CREATE INDEX ranking_scores_by_person ON ranking_scores (person_id);
