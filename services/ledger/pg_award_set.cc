// PgLedgerStore's statements for awards in sets (award_set.h): a batch's awards lock their
// accounts, check their keys and sources, and write their entries, accounts and idempotency
// records in a fixed handful of statements whatever the batch's size.
#include <algorithm>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/time_units.h"
#include "services/ledger/pg_ledger_rows.h"
#include "services/ledger/pg_ledger_store.h"

namespace civicpoints::ledger {

using pg_rows::Bytes;
using pg_rows::Exec;
using pg_rows::HexArray;
using pg_rows::InBatch;
using pg_rows::IntArray;
using pg_rows::kAccountColumns;
using pg_rows::OnUniqueViolation;
using pg_rows::RowToAccount;
using pg_rows::TextArray;
using pg_rows::TimestampText;

absl::StatusOr<std::vector<v1::Account>> PgLedgerStore::LockJournalAndAccounts(
    pqxx::dbtransaction& tx, const std::vector<std::string>& person_ids) {
  static const std::string kLock =
      absl::StrCat("SELECT ", kAccountColumns,
                   " FROM accounts a WHERE a.person_id = ANY($1::text[]) "
                   "ORDER BY a.person_id FOR UPDATE");
  return InBatch([&]() -> absl::StatusOr<std::vector<v1::Account>> {
    // A statement of its own: a lock taken inside the accounts' query would be skipped by a plan
    // that finds no account (all of them new) before it asks for it. Generic plans start with the
    // next statement.
    Exec(tx,
         "SELECT pg_advisory_xact_lock(7400016), "
         "set_config('plan_cache_mode', 'force_generic_plan', true)");
    pqxx::result r = Exec(tx, kLock, TextArray(person_ids));
    std::vector<v1::Account> out;
    out.reserve(person_ids.size());
    for (const pqxx::row& row : r) out.push_back(RowToAccount(row));
    if (out.size() == person_ids.size()) return out;
    // Riders awarded for the first time: opened, in person order, and then locked too.
    std::set<std::string> found;
    for (const v1::Account& a : out) found.insert(a.person_id());
    std::vector<std::string> missing;
    for (const std::string& id : person_ids) {
      if (found.count(id) == 0) missing.push_back(id);
    }
    const std::string ids = TextArray(missing);
    Exec(tx,
         "INSERT INTO accounts (person_id) SELECT p FROM unnest($1::text[]) p ORDER BY p "
         "ON CONFLICT DO NOTHING",
         ids);
    for (const pqxx::row& row : Exec(tx, kLock, ids)) out.push_back(RowToAccount(row));
    return out;
  });
}

absl::StatusOr<PgLedgerStore::AwardChecks> PgLedgerStore::CheckAwards(
    pqxx::dbtransaction& tx, const std::vector<KeyLookup>& keys,
    const std::vector<SourceLookup>& sources, int draw) {
  // One round trip: rows tagged 'k' (a stored result, the caller's own before one stored before
  // keys had callers), 's' (an earlier award of the source that is not reversed), 't' (the
  // clock) and 'n' (a journal sequence).
  static const std::string kSql =
      "SELECT 'k' AS what, u.i, s.request_hash, s.response, NULL::bigint AS sequence "
      "  FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[]) WITH ORDINALITY "
      "    AS u(caller, method, key, legacy, i) "
      "  JOIN LATERAL (SELECT request_hash, response FROM idempotency_keys k "
      "                 WHERE k.caller IN (u.caller, CASE WHEN u.legacy THEN '' ELSE u.caller END) "
      "                   AND k.method = u.method AND k.key = u.key "
      "                 ORDER BY k.caller DESC LIMIT 1) s ON true "
      "UNION ALL "
      "SELECT 's', u.i, NULL, NULL, d.sequence "
      "  FROM unnest($5::smallint[], $6::text[], $7::text[]) WITH ORDINALITY "
      "    AS u(kind, source_id, person_id, i) "
      "  JOIN LATERAL (SELECT e.sequence FROM entries e "
      "                 WHERE e.kind = entry_kind('AWARD') AND e.source_kind = u.kind "
      "                   AND e.source_id = u.source_id AND e.person_id = u.person_id "
      "                   AND NOT EXISTS (SELECT 1 FROM entries r WHERE r.kind = "
      "entry_kind('REVERSAL') "
      "                                     AND r.reversed_entry_id = e.sequence::text) "
      "                 LIMIT 1) d ON true "
      "UNION ALL "
      "SELECT 't', 0, NULL, NULL, "
      "       (extract(epoch FROM date_trunc('microseconds', clock_timestamp())) * "
      "1000000)::bigint "
      "UNION ALL "
      "SELECT 'n', 0, NULL, NULL, nextval(pg_get_serial_sequence('entries', 'sequence')) "
      "  FROM generate_series(1, $8)";
  return InBatch([&]() -> absl::StatusOr<AwardChecks> {
    std::vector<std::string> callers, methods, names;
    std::vector<std::string> legacy;
    for (const KeyLookup& k : keys) {
      callers.push_back(k.caller);
      methods.push_back(k.method);
      names.push_back(k.key);
      legacy.push_back(k.legacy ? "true" : "false");
    }
    std::vector<int> kinds;
    std::vector<std::string> source_ids, persons;
    for (const SourceLookup& s : sources) {
      kinds.push_back(static_cast<int>(s.kind));
      source_ids.push_back(s.source_id);
      persons.push_back(s.person_id);
    }
    pqxx::result r =
        Exec(tx, kSql, TextArray(callers), TextArray(methods), TextArray(names), TextArray(legacy),
             IntArray(kinds), TextArray(source_ids), TextArray(persons), draw);
    AwardChecks out;
    for (const pqxx::row& row : r) {
      const std::string what = row["what"].c_str();
      // WITH ORDINALITY counts from 1.
      const size_t i = row["i"].as<size_t>() - 1;
      if (what == "k") {
        out.stored[i] = IdempotentResult{Bytes(row["request_hash"]), Bytes(row["response"])};
      } else if (what == "s") {
        out.awarded.emplace(i, row["sequence"].as<int64_t>());
      } else if (what == "t") {
        out.now_micros = row["sequence"].as<int64_t>();
      } else {
        out.sequences.push_back(row["sequence"].as<int64_t>());
      }
    }
    std::sort(out.sequences.begin(), out.sequences.end());
    return out;
  });
}

absl::Status PgLedgerStore::AppendEntries(pqxx::dbtransaction& tx,
                                          const std::vector<v1::Entry>& entries,
                                          const std::vector<v1::Account>& accounts,
                                          const std::vector<IdempotentRecord>& records) {
  static const std::string kSql =
      "WITH updated AS ("
      "  UPDATE accounts a SET available = u.available, held = u.held, "
      "    gross_earned = u.gross_earned, earned = u.earned, spent = u.spent, "
      "    entry_count = u.entry_count, head_hash = decode(u.head_hash, 'hex'), "
      "    district_id = CASE WHEN u.community_id <> '' THEN u.district_id "
      "                       ELSE a.district_id END, "
      "    street_id = CASE WHEN u.community_id <> '' THEN u.street_id ELSE a.street_id END, "
      "    community_id = CASE WHEN u.community_id <> '' THEN u.community_id "
      "                        ELSE a.community_id END, "
      "    updated_at = u.updated_at "
      "  FROM unnest($32::text[], $33::bigint[], $34::bigint[], $35::bigint[], $36::bigint[], "
      "    $37::bigint[], $38::bigint[], $39::text[], $40::text[], $41::text[], $42::text[], "
      "    $43::timestamptz[]) "
      "    AS u(person_id, available, held, gross_earned, earned, spent, entry_count, "
      "      head_hash, district_id, street_id, community_id, updated_at) "
      "  WHERE a.person_id = u.person_id), "
      "appended AS ("
      "  INSERT INTO entries (sequence, person_id, account_sequence, kind, amount, "
      "    available_delta, held_delta, earned_delta, available_after, held_after, source_kind, "
      "    source_id, points_rule_id, verified_by, district_id, street_id, community_id, reason, "
      "    actor_id, order_id, reversed_entry_id, bulk_award_id, occur_time, created_at, "
      "    prev_hash, hash) "
      "  SELECT sequence, person_id, account_sequence, kind, amount, available_delta, "
      "    held_delta, earned_delta, available_after, held_after, source_kind, source_id, "
      "    points_rule_id, verified_by, district_id, street_id, community_id, reason, actor_id, "
      "    order_id, reversed_entry_id, bulk_award_id, occur_time, created_at, "
      "    decode(prev_hash, 'hex'), decode(hash, 'hex') "
      "  FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::smallint[], $5::bigint[], "
      "    $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], "
      "    $11::smallint[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], "
      "    $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], "
      "    $23::timestamptz[], $24::timestamptz[], $25::text[], $26::text[]) "
      "    AS u(sequence, person_id, account_sequence, kind, amount, available_delta, "
      "      held_delta, earned_delta, available_after, held_after, source_kind, source_id, "
      "      points_rule_id, verified_by, district_id, street_id, community_id, reason, "
      "      actor_id, order_id, reversed_entry_id, bulk_award_id, occur_time, created_at, "
      "      prev_hash, hash)), "
      "kept AS ("
      "  INSERT INTO idempotency_keys (caller, method, key, request_hash, response) "
      "  SELECT caller, method, key, decode(request_hash, 'hex'), decode(response, 'hex') "
      "  FROM unnest($27::text[], $28::text[], $29::text[], $30::text[], $31::text[]) "
      "    AS k(caller, method, key, request_hash, response)) "
      "SELECT 1";
  return InBatch(
      [&] {
        std::vector<int64_t> sequences, account_sequences, amounts, available_deltas, held_deltas,
            earned_deltas, available_after, held_after;
        std::vector<int> kinds, source_kinds;
        std::vector<std::string> persons, source_ids, rules, verifiers, districts, streets,
            communities, reasons, actors, orders, reversed, bulk_ids, occur, created, prev, hash;
        for (const v1::Entry& e : entries) {
          sequences.push_back(e.sequence());
          persons.push_back(e.person_id());
          account_sequences.push_back(e.account_sequence());
          kinds.push_back(static_cast<int>(e.kind()));
          amounts.push_back(e.amount());
          available_deltas.push_back(e.available_delta());
          held_deltas.push_back(e.held_delta());
          earned_deltas.push_back(e.earned_delta());
          available_after.push_back(e.available_after());
          held_after.push_back(e.held_after());
          source_kinds.push_back(static_cast<int>(e.source_kind()));
          source_ids.push_back(e.source_id());
          rules.push_back(e.points_rule_id());
          verifiers.push_back(e.verified_by_person_id());
          districts.push_back(e.org_path().district_id());
          streets.push_back(e.org_path().street_id());
          communities.push_back(e.org_path().community_id());
          reasons.push_back(e.reason());
          actors.push_back(e.actor_id());
          orders.push_back(e.order_id());
          reversed.push_back(e.reversed_entry_id());
          bulk_ids.push_back(e.bulk_award_id());
          occur.push_back(TimestampText(times::UsOf(e.occur_time())));
          created.push_back(TimestampText(times::UsOf(e.create_time())));
          prev.push_back(e.prev_hash());
          hash.push_back(e.hash());
        }
        std::vector<std::string> callers, methods, keys, request_hashes, responses;
        for (const IdempotentRecord& k : records) {
          callers.push_back(k.caller);
          methods.push_back(k.method);
          keys.push_back(k.key);
          request_hashes.push_back(k.request_hash);
          responses.push_back(k.response);
        }
        std::vector<std::string> account_persons, heads, account_districts, account_streets,
            account_communities, updated;
        std::vector<int64_t> available, held, gross, earned, spent, counts;
        for (const v1::Account& a : accounts) {
          account_persons.push_back(a.person_id());
          available.push_back(a.available());
          held.push_back(a.held());
          gross.push_back(a.lifetime_earned());
          earned.push_back(a.net_earned());
          spent.push_back(a.lifetime_spent());
          counts.push_back(a.entry_count());
          heads.push_back(a.head_hash());
          account_districts.push_back(a.org_path().district_id());
          account_streets.push_back(a.org_path().street_id());
          account_communities.push_back(a.org_path().community_id());
          updated.push_back(TimestampText(times::UsOf(a.update_time())));
        }
        Exec(tx, kSql, IntArray(sequences), TextArray(persons), IntArray(account_sequences),
             IntArray(kinds), IntArray(amounts), IntArray(available_deltas), IntArray(held_deltas),
             IntArray(earned_deltas), IntArray(available_after), IntArray(held_after),
             IntArray(source_kinds), TextArray(source_ids), TextArray(rules), TextArray(verifiers),
             TextArray(districts), TextArray(streets), TextArray(communities), TextArray(reasons),
             TextArray(actors), TextArray(orders), TextArray(reversed), TextArray(bulk_ids),
             TextArray(occur), TextArray(created), HexArray(prev), HexArray(hash),
             TextArray(callers), TextArray(methods), TextArray(keys), HexArray(request_hashes),
             HexArray(responses), TextArray(account_persons), IntArray(available), IntArray(held),
             IntArray(gross), IntArray(earned), IntArray(spent), IntArray(counts), HexArray(heads),
             TextArray(account_districts), TextArray(account_streets),
             TextArray(account_communities), TextArray(updated));
        return absl::OkStatus();
      },
      OnUniqueViolation::kRace);
}

}  // namespace civicpoints::ledger
