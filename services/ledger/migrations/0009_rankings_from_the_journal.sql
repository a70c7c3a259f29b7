-- Rankings are a projection of the journal (docs/design/ledger-projection.md): an award writes its
-- entry, its account and its idempotency record, nothing more. Live rankings are kept in Redis by
-- the ledger's projector from the entries after its watermark; snapshots and window cuts are
-- computed from the journal here.

CREATE OR REPLACE FUNCTION post_entry(
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
  -- Entries are appended in commit order: the lock is held from the first entry to the commit,
  -- and a commit is visible before its locks are released, so whoever reads an entry can also
  -- read every entry with a smaller sequence that will ever exist.
  PERFORM pg_advisory_xact_lock(7400016);
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

DROP FUNCTION award_entry(text, bigint, smallint, text, text, text, text, text, text, text, text,
                          text, timestamptz, text[]);

-- One award in one statement: the posting and the check for an earlier award of the same source.
CREATE FUNCTION award_entry(
  p_person text, p_amount bigint, p_source_kind smallint, p_source_id text,
  p_points_rule_id text, p_verified_by text, p_district_id text, p_street_id text,
  p_community_id text, p_reason text, p_actor_id text, p_bulk_award_id text,
  p_occur_time timestamptz,
  OUT entry entries, OUT account accounts, OUT duplicate_of text)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  entry := post_entry(p_person, true, 1::smallint, p_amount, p_amount, 0, p_amount, p_source_kind,
                      p_source_id, p_points_rule_id, p_verified_by, p_district_id, p_street_id,
                      p_community_id, p_reason, p_actor_id, '', '', p_bulk_award_id, p_occur_time);
  duplicate_of := '';
  IF p_source_id <> '' THEN
    -- After the account lock: an award of the same source under another key that committed first
    -- is visible here.
    SELECT e.sequence::text INTO duplicate_of FROM entries e
     WHERE e.kind = 1 AND e.source_kind = p_source_kind AND e.source_id = p_source_id
       AND e.person_id = p_person AND e.sequence <> entry.sequence
       AND NOT EXISTS (SELECT 1 FROM entries r WHERE r.kind = 6
                         AND r.reversed_entry_id = e.sequence::text)
     LIMIT 1;
    duplicate_of := coalesce(duplicate_of, '');
  END IF;
  SELECT * INTO account FROM accounts WHERE person_id = p_person;
END $$;

-- Each entry that moves earned points, with the org path and the moment it counts at in rankings:
-- an award its own; a reversal the reversed award's; a deduction its own path, or the account's
-- for deductions stored without one. The projector and the snapshots read rankings through this.
CREATE VIEW ranking_changes AS
SELECT e.sequence, e.person_id, e.earned_delta AS delta, e.created_at,
       CASE WHEN e.kind = 6 THEN r.district_id
            WHEN e.kind = 2 AND e.community_id = '' THEN coalesce(a.district_id, '')
            ELSE e.district_id END AS district_id,
       CASE WHEN e.kind = 6 THEN r.street_id
            WHEN e.kind = 2 AND e.community_id = '' THEN coalesce(a.street_id, '')
            ELSE e.street_id END AS street_id,
       CASE WHEN e.kind = 6 THEN r.community_id
            WHEN e.kind = 2 AND e.community_id = '' THEN coalesce(a.community_id, '')
            ELSE e.community_id END AS community_id,
       CASE WHEN e.kind = 6 THEN r.occur_time ELSE e.occur_time END AS counts_at
  FROM entries e
  LEFT JOIN entries r
    ON r.sequence = CASE WHEN e.kind = 6 THEN e.reversed_entry_id::bigint END
  LEFT JOIN accounts a ON e.kind = 2 AND e.community_id = '' AND a.person_id = e.person_id
 WHERE e.earned_delta <> 0;

DROP TABLE ranking_scores;
