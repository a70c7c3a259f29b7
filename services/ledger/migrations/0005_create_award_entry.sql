-- One award in one statement: the posting, the check for an earlier award of the same source, the
-- ranking rows (seasons included) and the account after it. Issued apart these were five round
-- trips per award; the work per award is what bounds the ledger's throughput.
CREATE FUNCTION award_entry(
  p_person text, p_amount bigint, p_source_kind smallint, p_source_id text,
  p_points_rule_id text, p_verified_by text, p_district_id text, p_street_id text,
  p_community_id text, p_reason text, p_actor_id text, p_bulk_award_id text,
  p_occur_time timestamptz, p_ranking_keys text[],
  OUT entry entries, OUT account accounts, OUT duplicate_of text,
  OUT r_keys text[], OUT r_scores bigint[], OUT r_reached bigint[], OUT r_versions bigint[])
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  excluded boolean;
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
  IF duplicate_of = '' THEN
    excluded := EXISTS (SELECT 1 FROM ranking_exclusions x WHERE x.person_id = p_person);
    WITH k AS (
      SELECT unnest(p_ranking_keys) AS k
      UNION ALL
      SELECT sc.k || '|season:' || s.season_id FROM seasons s
      JOIN (VALUES (1, 'city'), (2, 'district:' || p_district_id),
                   (3, 'street:' || p_street_id), (4, 'community:' || p_community_id))
        AS sc(level, k) ON sc.level >= s.scope_level
      WHERE s.start_time <= entry.occur_time AND entry.occur_time < s.end_time
        AND (s.scope_level = 1 OR (s.scope_level = 2 AND s.scope_org_id = p_district_id)
          OR (s.scope_level = 3 AND s.scope_org_id = p_street_id)
          OR (s.scope_level = 4 AND s.scope_org_id = p_community_id))),
    up AS (
      INSERT INTO ranking_scores AS r (ranking_key, person_id, score, reached_at, version)
      SELECT k.k, p_person, p_amount, entry.created_at, 1 FROM k
      ON CONFLICT (ranking_key, person_id) DO UPDATE SET
        score = r.score + p_amount, reached_at = EXCLUDED.reached_at, version = r.version + 1
      RETURNING r.ranking_key, r.score, r.reached_at, r.version)
    SELECT array_agg(up.ranking_key), array_agg(CASE WHEN excluded THEN 0 ELSE up.score END),
           array_agg((extract(epoch FROM up.reached_at) * 1000000)::bigint), array_agg(up.version)
      INTO r_keys, r_scores, r_reached, r_versions FROM up;
  END IF;
  SELECT * INTO account FROM accounts WHERE person_id = p_person;
END $$;
