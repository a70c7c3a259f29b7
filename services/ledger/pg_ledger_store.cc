#include "services/ledger/pg_ledger_store.h"

#include <pqxx/array>
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/pg/pg_pool.h"

namespace civicpoints::ledger {
namespace {

// Columns of an entry in the order RowToEntry reads them; times as epoch microseconds.
constexpr char kEntryColumns[] =
    "e.sequence, e.person_id, e.account_sequence, e.kind, e.amount, e.available_delta, "
    "e.held_delta, e.earned_delta, e.available_after, e.held_after, e.source_kind, e.source_id, "
    "e.points_rule_id, e.verified_by, e.district_id, e.street_id, e.community_id, e.reason, "
    "e.actor_id, e.order_id, e.reversed_entry_id, e.bulk_award_id, "
    "(extract(epoch FROM e.occur_time) * 1000000)::bigint, "
    "(extract(epoch FROM e.created_at) * 1000000)::bigint, e.prev_hash, e.hash";

constexpr char kAccountColumns[] =
    "a.person_id, a.available, a.held, a.gross_earned, a.earned, a.spent, a.district_id, "
    "a.street_id, a.community_id, a.ranking_excluded, a.entry_count, a.head_hash, "
    "(extract(epoch FROM a.created_at) * 1000000)::bigint, "
    "(extract(epoch FROM a.updated_at) * 1000000)::bigint";

constexpr char kHoldColumns[] =
    "h.order_id, h.person_id, h.amount, h.state, "
    "coalesce((extract(epoch FROM h.expire_time) * 1000000)::bigint, 0), h.expired, "
    "h.district_id, h.street_id, h.community_id, h.hold_sequence::text, "
    "coalesce(h.settle_sequence::text, ''), "
    "(extract(epoch FROM h.created_at) * 1000000)::bigint, "
    "coalesce((extract(epoch FROM h.settled_at) * 1000000)::bigint, 0)";

void SetTime(google::protobuf::Timestamp* ts, int64_t micros) {
  ts->set_seconds(micros / 1000000);
  ts->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

std::string Bytes(const pqxx::field& f) { return pqxx::binarystring(f).str(); }

v1::Entry RowToEntry(const pqxx::row& r) {
  v1::Entry e;
  e.set_sequence(r[0].as<int64_t>());
  e.set_entry_id(r[0].c_str());
  e.set_person_id(r[1].c_str());
  e.set_account_sequence(r[2].as<int64_t>());
  e.set_kind(static_cast<v1::EntryKind>(r[3].as<int>()));
  e.set_amount(r[4].as<int64_t>());
  e.set_available_delta(r[5].as<int64_t>());
  e.set_held_delta(r[6].as<int64_t>());
  e.set_earned_delta(r[7].as<int64_t>());
  e.set_available_after(r[8].as<int64_t>());
  e.set_held_after(r[9].as<int64_t>());
  e.set_source_kind(static_cast<v1::SourceKind>(r[10].as<int>()));
  e.set_source_id(r[11].c_str());
  e.set_points_rule_id(r[12].c_str());
  e.set_verified_by_person_id(r[13].c_str());
  if (!r[16].is_null() && std::string(r[16].c_str()).size() > 0) {
    e.mutable_org_path()->set_district_id(r[14].c_str());
    e.mutable_org_path()->set_street_id(r[15].c_str());
    e.mutable_org_path()->set_community_id(r[16].c_str());
  }
  e.set_reason(r[17].c_str());
  e.set_actor_id(r[18].c_str());
  e.set_order_id(r[19].c_str());
  e.set_reversed_entry_id(r[20].c_str());
  e.set_bulk_award_id(r[21].c_str());
  SetTime(e.mutable_occur_time(), r[22].as<int64_t>());
  SetTime(e.mutable_create_time(), r[23].as<int64_t>());
  e.set_prev_hash(Bytes(r[24]));
  e.set_hash(Bytes(r[25]));
  return e;
}

v1::Account RowToAccount(const pqxx::row& r) {
  v1::Account a;
  a.set_person_id(r[0].c_str());
  a.set_available(r[1].as<int64_t>());
  a.set_held(r[2].as<int64_t>());
  a.set_lifetime_earned(r[3].as<int64_t>());
  a.set_net_earned(r[4].as<int64_t>());
  a.set_lifetime_spent(r[5].as<int64_t>());
  if (std::string(r[8].c_str()).size() > 0) {
    a.mutable_org_path()->set_district_id(r[6].c_str());
    a.mutable_org_path()->set_street_id(r[7].c_str());
    a.mutable_org_path()->set_community_id(r[8].c_str());
  }
  a.set_ranking_excluded(r[9].as<bool>());
  a.set_entry_count(r[10].as<int64_t>());
  a.set_head_hash(Bytes(r[11]));
  SetTime(a.mutable_create_time(), r[12].as<int64_t>());
  SetTime(a.mutable_update_time(), r[13].as<int64_t>());
  return a;
}

v1::Hold RowToHold(const pqxx::row& r) {
  v1::Hold h;
  h.set_order_id(r[0].c_str());
  h.set_person_id(r[1].c_str());
  h.set_amount(r[2].as<int64_t>());
  h.set_state(static_cast<v1::HoldState>(r[3].as<int>()));
  if (r[4].as<int64_t>() != 0) SetTime(h.mutable_expire_time(), r[4].as<int64_t>());
  h.set_expired(r[5].as<bool>());
  if (std::string(r[8].c_str()).size() > 0) {
    h.mutable_org_path()->set_district_id(r[6].c_str());
    h.mutable_org_path()->set_street_id(r[7].c_str());
    h.mutable_org_path()->set_community_id(r[8].c_str());
  }
  h.set_hold_entry_id(r[9].c_str());
  h.set_settle_entry_id(r[10].c_str());
  SetTime(h.mutable_create_time(), r[11].as<int64_t>());
  if (r[12].as<int64_t>() != 0) SetTime(h.mutable_settle_time(), r[12].as<int64_t>());
  return h;
}

// A PostgreSQL text[] literal with every element quoted.
std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string IntArray(const std::vector<int>& items) {
  return absl::StrCat("{", absl::StrJoin(items, ","), "}");
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// Runs a statement as a prepared statement of the connection, named after its text, so PostgreSQL
// plans each statement once per connection instead of on every call.
template <typename... Args>
pqxx::result Exec(pqxx::transaction_base& tx, const std::string& sql, Args&&... args) {
  const std::string name = absl::StrCat("cp_", absl::Hex(std::hash<std::string>{}(sql)));
  tx.conn().prepare(name, sql);  // registers once; the same text again is a lookup
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

}  // namespace

namespace {

// post_entry()'s refusals (its SQLSTATEs CPL01..03) as statuses; anything else is rethrown. The
// transaction stays in error until the GroupCommitter rolls back to the unit's savepoint.
absl::Status PostingError(const pqxx::sql_error& e) {
  const std::string state = e.sqlstate();
  std::string message = e.what();
  if (size_t nl = message.find('\n'); nl != std::string::npos) message.resize(nl);
  if (size_t colon = message.find(": "); colon != std::string::npos) message.erase(0, colon + 2);
  if (state == "CPL01") return absl::NotFoundError(message);
  if (state == "CPL02") return absl::FailedPreconditionError(message);
  if (state == "CPL03") return absl::ResourceExhaustedError(message);
  throw;
}

}  // namespace

absl::StatusOr<v1::Entry> PgLedgerStore::Post(pqxx::dbtransaction& tx, const Posting& p) {
  try {
    pqxx::result r =
        Exec(tx,
             absl::StrCat(
                 "SELECT ", kEntryColumns,
                 " FROM post_entry($1, $2, $3::smallint, $4, $5, $6, $7, $8::smallint, $9, $10, "
                 "$11, $12, $13, $14, $15, $16, $17, $18, $19, "
                 "CASE WHEN $20::bigint = 0 THEN NULL "
                 "ELSE to_timestamp($20::bigint / 1000000.0) END) e"),
             p.person_id, p.open_account, static_cast<int>(p.kind), p.amount, p.available_delta,
             p.held_delta, p.earned_delta, static_cast<int>(p.source_kind), p.source_id,
             p.points_rule_id, p.verified_by, p.org_path.district_id(), p.org_path.street_id(),
             p.org_path.community_id(), p.reason, p.actor_id, p.order_id, p.reversed_entry_id,
             p.bulk_award_id, p.occur_time.has_value() ? Micros(*p.occur_time) : int64_t{0});
    return RowToEntry(r[0]);
  } catch (const pqxx::sql_error& e) {
    return PostingError(e);
  }
}

absl::StatusOr<PgLedgerStore::AwardResult> PgLedgerStore::PostAward(
    pqxx::dbtransaction& tx, const Posting& p, const std::vector<std::string>& keys) {
  static const std::string kSql = absl::StrCat(
      "SELECT ", kEntryColumns, ", ", kAccountColumns,
      ", x.duplicate_of, x.r_keys, x.r_scores, x.r_reached, x.r_versions "
      "FROM award_entry($1, $2, $3::smallint, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
      "CASE WHEN $13::bigint = 0 THEN NULL ELSE to_timestamp($13::bigint / 1000000.0) END, "
      "$14::text[]) x, LATERAL (SELECT (x.entry).*) e, LATERAL (SELECT (x.account).*) a");
  try {
    pqxx::result r =
        Exec(tx, kSql, p.person_id, p.amount, static_cast<int>(p.source_kind), p.source_id,
             p.points_rule_id, p.verified_by, p.org_path.district_id(), p.org_path.street_id(),
             p.org_path.community_id(), p.reason, p.actor_id, p.bulk_award_id,
             p.occur_time.has_value() ? Micros(*p.occur_time) : int64_t{0}, TextArray(keys));
    const pqxx::row row = r[0];
    constexpr pqxx::row::size_type kEntryEnd = 26, kAccountEnd = 40;
    AwardResult out;
    out.entry = RowToEntry(row.slice(0, kEntryEnd));
    out.account = RowToAccount(row.slice(kEntryEnd, kAccountEnd));
    out.duplicate_of = row[kAccountEnd].c_str();
    auto strings = [](const pqxx::field& f) {
      std::vector<std::string> values;
      if (f.is_null()) return values;
      pqxx::array_parser parser = f.as_array();
      for (auto e = parser.get_next(); e.first != pqxx::array_parser::done; e = parser.get_next()) {
        if (e.first == pqxx::array_parser::string_value) values.push_back(e.second);
      }
      return values;
    };
    const std::vector<std::string> rkeys = strings(row[kAccountEnd + 1]);
    const std::vector<std::string> scores = strings(row[kAccountEnd + 2]);
    const std::vector<std::string> reached = strings(row[kAccountEnd + 3]);
    const std::vector<std::string> versions = strings(row[kAccountEnd + 4]);
    for (size_t i = 0;
         i < rkeys.size() && i < scores.size() && i < reached.size() && i < versions.size(); ++i) {
      RankingScore score{rkeys[i], p.person_id};
      int64_t micros = 0;
      if (!absl::SimpleAtoi(scores[i], &score.score) || !absl::SimpleAtoi(reached[i], &micros) ||
          !absl::SimpleAtoi(versions[i], &score.version)) {
        return absl::InternalError("award_entry returned a malformed ranking row");
      }
      score.reached_at = absl::FromUnixMicros(micros);
      out.scores.push_back(std::move(score));
    }
    return out;
  } catch (const pqxx::sql_error& e) {
    return PostingError(e);
  }
}

std::optional<IdempotentResult> PgLedgerStore::FindIdempotent(pqxx::dbtransaction& tx,
                                                              const std::string& caller,
                                                              const std::string& method,
                                                              const std::string& key, bool legacy) {
  // Rows from before migrations/0007 have an empty caller; the caller's own row sorts first.
  pqxx::result r = Exec(tx,
                        "SELECT request_hash, response FROM idempotency_keys "
                        "WHERE caller IN ($1, CASE WHEN $4 THEN '' ELSE $1 END) "
                        "AND method = $2 AND key = $3 ORDER BY caller DESC LIMIT 1",
                        caller, method, key, legacy);
  if (r.empty()) return std::nullopt;
  return IdempotentResult{Bytes(r[0][0]), Bytes(r[0][1])};
}

void PgLedgerStore::SaveIdempotent(pqxx::dbtransaction& tx, const std::string& caller,
                                   const std::string& method, const std::string& key,
                                   const std::string& request_hash, const std::string& response) {
  Exec(tx,
       "INSERT INTO idempotency_keys (caller, method, key, request_hash, response) "
       "VALUES ($1, $2, $3, $4, $5)",
       caller, method, key, pqxx::binarystring(request_hash), pqxx::binarystring(response));
}

std::vector<RankingScore> PgLedgerStore::AddRankingScores(
    pqxx::dbtransaction& tx, const std::string& person_id, const std::vector<std::string>& keys,
    int64_t delta, absl::Time reached_at, absl::Time occur_time, const common::v1::OrgPath& path) {
  // Season rankings exist for the season's own node and every node below it on the award's path.
  pqxx::result r = Exec(
      tx,
      "WITH k AS ("
      "  SELECT unnest($4::text[]) AS k "
      "  UNION ALL "
      "  SELECT sc.k || '|season:' || s.season_id FROM seasons s "
      "  JOIN (VALUES (1, 'city'), (2, 'district:' || $6), (3, 'street:' || $7), "
      "              (4, 'community:' || $8)) AS sc(level, k) ON sc.level >= s.scope_level "
      "  WHERE s.start_time <= to_timestamp($5::bigint / 1000000.0) "
      "    AND to_timestamp($5::bigint / 1000000.0) < s.end_time AND $8 <> '' "
      "    AND (s.scope_level = 1 OR (s.scope_level = 2 AND s.scope_org_id = $6) "
      "      OR (s.scope_level = 3 AND s.scope_org_id = $7) "
      "      OR (s.scope_level = 4 AND s.scope_org_id = $8))) "
      "INSERT INTO ranking_scores AS r (ranking_key, person_id, score, reached_at, version) "
      "SELECT k, $1, GREATEST($2::bigint, 0), to_timestamp($3::bigint / 1000000.0), 1 FROM k "
      "ON CONFLICT (ranking_key, person_id) DO UPDATE SET "
      "  score = GREATEST(r.score + $2::bigint, 0), "
      "  reached_at = CASE WHEN $2::bigint > 0 THEN EXCLUDED.reached_at ELSE r.reached_at END, "
      "  version = r.version + 1 "
      "RETURNING ranking_key, CASE WHEN EXISTS (SELECT 1 FROM ranking_exclusions x "
      "  WHERE x.person_id = $1) THEN 0 ELSE score END, "
      "(extract(epoch FROM reached_at) * 1000000)::bigint, version",
      person_id, delta, Micros(reached_at), TextArray(keys), Micros(occur_time), path.district_id(),
      path.street_id(), path.community_id());
  std::vector<RankingScore> out;
  for (const auto& row : r) {
    out.push_back({row[0].c_str(), person_id, row[1].as<int64_t>(),
                   absl::FromUnixMicros(row[2].as<int64_t>()), row[3].as<int64_t>()});
  }
  return out;
}

namespace {

constexpr char kSeasonColumns[] =
    "s.seq, s.season_id, s.display_name, s.scope_level, s.scope_org_id, "
    "(extract(epoch FROM s.start_time) * 1000000)::bigint, "
    "(extract(epoch FROM s.end_time) * 1000000)::bigint, s.creator_id, "
    "(extract(epoch FROM s.created_at) * 1000000)::bigint";

v1::Season RowToSeason(const pqxx::row& r) {
  v1::Season s;
  s.set_season_id(r[1].c_str());
  s.set_display_name(r[2].c_str());
  s.mutable_scope()->set_level(static_cast<common::v1::OrgLevel>(r[3].as<int>()));
  s.mutable_scope()->set_org_id(r[4].c_str());
  SetTime(s.mutable_start_time(), r[5].as<int64_t>());
  SetTime(s.mutable_end_time(), r[6].as<int64_t>());
  s.set_creator_id(r[7].c_str());
  SetTime(s.mutable_create_time(), r[8].as<int64_t>());
  const int64_t now = absl::ToUnixMicros(absl::Now());
  s.set_state(now < r[5].as<int64_t>()   ? v1::SEASON_STATE_UPCOMING
              : now < r[6].as<int64_t>() ? v1::SEASON_STATE_ACTIVE
                                         : v1::SEASON_STATE_ENDED);
  return s;
}

int64_t TsMicros(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000000 + ts.nanos() / 1000;
}

}  // namespace

v1::Season PgLedgerStore::InsertSeason(pqxx::dbtransaction& tx, const v1::Season& season,
                                       std::vector<RankingScore>* scores) {
  pqxx::result r =
      Exec(tx,
           absl::StrCat(
               "INSERT INTO seasons AS s (season_id, display_name, scope_level, scope_org_id, "
               "start_time, end_time, creator_id) VALUES ('season-' || "
               "currval(pg_get_serial_sequence('seasons', 'seq')), $1, $2, $3, "
               "to_timestamp($4::bigint / 1000000.0), to_timestamp($5::bigint / 1000000.0), $6) "
               "RETURNING ",
               kSeasonColumns),
           season.display_name(), static_cast<int>(season.scope().level()), season.scope().org_id(),
           TsMicros(season.start_time()), TsMicros(season.end_time()), season.creator_id());
  v1::Season created = RowToSeason(r[0]);
  // Postings that already happened in the season's range count in it, scope by scope, as new
  // postings would (the same join as AddRankingScores, over the journal).
  for (const auto& row : Exec(
           tx,
           "INSERT INTO ranking_scores (ranking_key, person_id, score, reached_at, version) "
           "SELECT sc.k || '|season:' || s.season_id, e.person_id, GREATEST(sum(e.earned_delta), "
           "0), "
           "  max(e.created_at), 1 "
           "FROM seasons s JOIN entries e ON e.occur_time >= s.start_time "
           "  AND e.occur_time < s.end_time AND e.earned_delta <> 0 AND e.community_id <> '' "
           "  AND (s.scope_level = 1 OR (s.scope_level = 2 AND e.district_id = s.scope_org_id) "
           "    OR (s.scope_level = 3 AND e.street_id = s.scope_org_id) "
           "    OR (s.scope_level = 4 AND e.community_id = s.scope_org_id)) "
           "CROSS JOIN LATERAL (VALUES (1, 'city'), (2, 'district:' || e.district_id), "
           "  (3, 'street:' || e.street_id), (4, 'community:' || e.community_id)) AS sc(level, k) "
           "WHERE s.season_id = $1 AND sc.level >= s.scope_level "
           "GROUP BY 1, 2 "
           "RETURNING ranking_key, person_id, CASE WHEN EXISTS (SELECT 1 FROM ranking_exclusions x "
           "  WHERE x.person_id = ranking_scores.person_id) THEN 0 ELSE score END, "
           "(extract(epoch FROM reached_at) * 1000000)::bigint, version",
           created.season_id())) {
    scores->push_back({row[0].c_str(), row[1].c_str(), row[2].as<int64_t>(),
                       absl::FromUnixMicros(row[3].as<int64_t>()), row[4].as<int64_t>()});
  }
  return created;
}

absl::StatusOr<std::optional<v1::Season>> PgLedgerStore::GetSeason(const std::string& season_id) {
  std::optional<v1::Season> out;
  absl::Status st = pool_->WithReadConnection("read season", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r =
        Exec(tx, absl::StrCat("SELECT ", kSeasonColumns, " FROM seasons s WHERE s.season_id = $1"),
             season_id);
    if (!r.empty()) out = RowToSeason(r[0]);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::Season>>> PgLedgerStore::ListSeasons(
    int level, const std::string& org_id, const std::string& district_id,
    const std::string& street_id, int64_t after_seq, int limit) {
  std::vector<std::pair<int64_t, v1::Season>> out;
  absl::Status st = pool_->WithReadConnection("list seasons", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    for (const auto& row :
         Exec(tx,
              absl::StrCat(
                  "SELECT ", kSeasonColumns,
                  " FROM seasons s WHERE s.seq > $1 AND ($2 = 0 OR s.scope_level = 1 "
                  "OR (s.scope_level = $2 AND s.scope_org_id = $3) "
                  "OR (s.scope_level = 2 AND s.scope_org_id = $4) "
                  "OR (s.scope_level = 3 AND s.scope_org_id = $5)) ORDER BY s.seq LIMIT $6"),
              after_seq, level, org_id, district_id, street_id, limit)) {
      out.emplace_back(row[0].as<int64_t>(), RowToSeason(row));
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

std::vector<v1::RankingEntry> PgLedgerStore::ReadRanking(pqxx::dbtransaction& tx,
                                                         const std::string& ranking_key, int limit,
                                                         bool include_ties,
                                                         int64_t* as_of_sequence) {
  *as_of_sequence = tx.exec1("SELECT coalesce(max(sequence), 0) FROM entries")[0].as<int64_t>();
  // The same order Redis keeps: points, then who reached them first, then person id.
  pqxx::result r =
      Exec(tx,
           "WITH ranked AS (SELECT s.person_id, s.score, s.reached_at, "
           "  row_number() OVER (ORDER BY s.score DESC, date_trunc('second', s.reached_at), "
           "    s.person_id DESC) AS rank "
           "  FROM ranking_scores s WHERE s.ranking_key = $1 AND s.score > 0 "
           "  AND NOT EXISTS (SELECT 1 FROM ranking_exclusions x WHERE x.person_id = s.person_id)) "
           "SELECT rank, person_id, score, (extract(epoch FROM reached_at) * 1000000)::bigint "
           "FROM ranked WHERE rank <= $2 OR ($3 AND rank <= $2 + 1000 AND score = "
           "  (SELECT score FROM ranked WHERE rank = $2)) ORDER BY rank",
           ranking_key, limit, include_ties);
  std::vector<v1::RankingEntry> out;
  for (const auto& row : r) {
    v1::RankingEntry e;
    e.set_rank(row[0].as<int64_t>());
    e.set_person_id(row[1].c_str());
    e.set_score(row[2].as<int64_t>());
    SetTime(e.mutable_reach_time(), row[3].as<int64_t>());
    out.push_back(std::move(e));
  }
  return out;
}

void PgLedgerStore::SaveSnapshot(pqxx::dbtransaction& tx, const v1::RankingSnapshot& snapshot) {
  Exec(tx, "INSERT INTO ranking_snapshots (snapshot_id, snapshot) VALUES ($1, $2)",
       snapshot.snapshot_id(), pqxx::binarystring(snapshot.SerializeAsString()));
}

absl::StatusOr<std::optional<v1::RankingSnapshot>> PgLedgerStore::GetSnapshot(
    const std::string& snapshot_id) {
  std::optional<v1::RankingSnapshot> out;
  absl::Status st = pool_->WithReadConnection("read snapshot", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r =
        Exec(tx, "SELECT snapshot FROM ranking_snapshots WHERE snapshot_id = $1", snapshot_id);
    if (!r.empty()) {
      v1::RankingSnapshot snap;
      if (!snap.ParseFromString(Bytes(r[0][0]))) {
        return absl::InternalError("stored snapshot does not parse");
      }
      out = std::move(snap);
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

namespace {

constexpr char kExclusionColumns[] =
    "x.person_id, x.reason, x.excluded_by, (extract(epoch FROM x.created_at) * 1000000)::bigint, "
    "coalesce(a.district_id, ''), coalesce(a.street_id, ''), coalesce(a.community_id, '')";

v1::RankingExclusion RowToExclusion(const pqxx::row& r) {
  v1::RankingExclusion x;
  x.set_person_id(r[0].c_str());
  x.set_reason(r[1].c_str());
  x.set_excluded_by_person_id(r[2].c_str());
  SetTime(x.mutable_create_time(), r[3].as<int64_t>());
  if (std::string(r[6].c_str()).size() > 0) {
    x.mutable_org_path()->set_district_id(r[4].c_str());
    x.mutable_org_path()->set_street_id(r[5].c_str());
    x.mutable_org_path()->set_community_id(r[6].c_str());
  }
  return x;
}

std::vector<RankingScore> BumpRankingVersions(pqxx::dbtransaction& tx, const std::string& person_id,
                                              bool excluded) {
  std::vector<RankingScore> out;
  for (const auto& row :
       Exec(tx,
            "UPDATE ranking_scores SET version = version + 1 WHERE person_id = $1 "
            "RETURNING ranking_key, score, (extract(epoch FROM reached_at) * 1000000)::bigint, "
            "version",
            person_id)) {
    out.push_back({row[0].c_str(), person_id, excluded ? 0 : row[1].as<int64_t>(),
                   absl::FromUnixMicros(row[2].as<int64_t>()), row[3].as<int64_t>()});
  }
  return out;
}

}  // namespace

std::optional<v1::RankingExclusion> PgLedgerStore::FindExclusion(pqxx::dbtransaction& tx,
                                                                 const std::string& person_id) {
  pqxx::result r =
      Exec(tx,
           absl::StrCat("SELECT ", kExclusionColumns,
                        " FROM ranking_exclusions x LEFT JOIN accounts a USING (person_id) "
                        "WHERE x.person_id = $1"),
           person_id);
  if (r.empty()) return std::nullopt;
  return RowToExclusion(r[0]);
}

v1::RankingExclusion PgLedgerStore::Exclude(pqxx::dbtransaction& tx, const std::string& person_id,
                                            const std::string& reason, const std::string& actor,
                                            std::vector<RankingScore>* scores) {
  Exec(tx, "INSERT INTO ranking_exclusions (person_id, reason, excluded_by) VALUES ($1, $2, $3)",
       person_id, reason, actor);
  Exec(tx,
       "INSERT INTO ranking_exclusion_events (person_id, action, reason, actor_id) "
       "VALUES ($1, 'exclude', $2, $3)",
       person_id, reason, actor);
  Exec(tx, "UPDATE accounts SET ranking_excluded = true WHERE person_id = $1", person_id);
  *scores = BumpRankingVersions(tx, person_id, /*excluded=*/true);
  return *FindExclusion(tx, person_id);
}

absl::Time PgLedgerStore::Restore(pqxx::dbtransaction& tx, const std::string& person_id,
                                  const std::string& reason, const std::string& actor,
                                  std::vector<RankingScore>* scores) {
  Exec(tx, "DELETE FROM ranking_exclusions WHERE person_id = $1", person_id);
  pqxx::result r = Exec(
      tx,
      "INSERT INTO ranking_exclusion_events (person_id, action, reason, actor_id) "
      "VALUES ($1, 'restore', $2, $3) RETURNING (extract(epoch FROM created_at) * 1000000)::bigint",
      person_id, reason, actor);
  Exec(tx, "UPDATE accounts SET ranking_excluded = false WHERE person_id = $1", person_id);
  *scores = BumpRankingVersions(tx, person_id, /*excluded=*/false);
  return absl::FromUnixMicros(r[0][0].as<int64_t>());
}

absl::StatusOr<std::vector<v1::RankingExclusion>> PgLedgerStore::ListExclusions(
    const std::string& column, const std::string& org_id, const std::string& after_person,
    int limit) {
  std::vector<v1::RankingExclusion> out;
  absl::Status s = pool_->WithReadConnection("list exclusions", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    for (const auto& row :
         Exec(tx,
              absl::StrCat("SELECT ", kExclusionColumns,
                           " FROM ranking_exclusions x LEFT JOIN accounts a USING (person_id) "
                           "WHERE x.person_id > $1 AND ",
                           column.empty() ? "$2 = ''" : absl::StrCat("a.", column, " = $2"),
                           " ORDER BY x.person_id LIMIT $3"),
              after_person, org_id, limit)) {
      out.push_back(RowToExclusion(row));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<std::string>> PgLedgerStore::AllExcluded() {
  std::vector<std::string> out;
  absl::Status s = pool_->WithReadConnection("read exclusions", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    for (const auto& row : tx.exec("SELECT person_id FROM ranking_exclusions")) {
      out.push_back(row[0].c_str());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

std::optional<v1::Entry> PgLedgerStore::LoadEntry(pqxx::dbtransaction& tx,
                                                  const std::string& entry_id) {
  int64_t sequence = 0;
  if (!absl::SimpleAtoi(entry_id, &sequence) || sequence <= 0) return std::nullopt;
  pqxx::result r =
      Exec(tx, absl::StrCat("SELECT ", kEntryColumns, " FROM entries e WHERE e.sequence = $1"),
           sequence);
  if (r.empty()) return std::nullopt;
  return RowToEntry(r[0]);
}

std::optional<v1::Entry> PgLedgerStore::FindReversal(pqxx::dbtransaction& tx,
                                                     const std::string& entry_id) {
  pqxx::result r =
      Exec(tx,
           absl::StrCat("SELECT ", kEntryColumns,
                        " FROM entries e WHERE e.kind = 6 AND e.reversed_entry_id = $1"),
           entry_id);
  if (r.empty()) return std::nullopt;
  return RowToEntry(r[0]);
}

std::optional<v1::Hold> PgLedgerStore::LockHold(pqxx::dbtransaction& tx,
                                                const std::string& order_id) {
  pqxx::result r = Exec(
      tx, absl::StrCat("SELECT ", kHoldColumns, " FROM holds h WHERE h.order_id = $1 FOR UPDATE"),
      order_id);
  if (r.empty()) return std::nullopt;
  return RowToHold(r[0]);
}

void PgLedgerStore::InsertHold(pqxx::dbtransaction& tx, const v1::Hold& hold,
                               const v1::Entry& entry, const common::v1::OrgPath& path) {
  const int64_t expire = hold.has_expire_time() ? hold.expire_time().seconds() * 1000000 +
                                                      hold.expire_time().nanos() / 1000
                                                : 0;
  Exec(tx,
       "INSERT INTO holds (order_id, person_id, amount, state, expire_time, hold_sequence, "
       "district_id, street_id, community_id, created_at) VALUES ($1, $2, $3, 1, "
       "CASE WHEN $4::bigint = 0 THEN NULL ELSE to_timestamp($4::bigint / 1000000.0) END, $5, $6, "
       "$7, $8, to_timestamp($9::bigint / 1000000.0))",
       hold.order_id(), hold.person_id(), hold.amount(), expire, entry.sequence(),
       path.district_id(), path.street_id(), path.community_id(),
       entry.create_time().seconds() * 1000000 + entry.create_time().nanos() / 1000);
}

void PgLedgerStore::SettleHold(pqxx::dbtransaction& tx, const std::string& order_id,
                               v1::HoldState state, const v1::Entry& entry, bool expired) {
  Exec(tx,
       "UPDATE holds SET state = $2, settle_sequence = $3, expired = $4, "
       "settled_at = to_timestamp($5::bigint / 1000000.0) WHERE order_id = $1 AND state = 1",
       order_id, static_cast<int>(state), entry.sequence(), expired,
       entry.create_time().seconds() * 1000000 + entry.create_time().nanos() / 1000);
}

std::optional<v1::Account> PgLedgerStore::LoadAccountTx(pqxx::dbtransaction& tx,
                                                        const std::string& person_id) {
  pqxx::result r =
      Exec(tx, absl::StrCat("SELECT ", kAccountColumns, " FROM accounts a WHERE a.person_id = $1"),
           person_id);
  if (r.empty()) return std::nullopt;
  return RowToAccount(r[0]);
}

absl::StatusOr<v1::Account> PgLedgerStore::GetAccount(const std::string& person_id) {
  v1::Account account;
  absl::Status s = pool_->WithReadConnection("read account", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r = Exec(
        tx, absl::StrCat("SELECT ", kAccountColumns, " FROM accounts a WHERE a.person_id = $1"),
        person_id);
    if (r.empty()) {
      account.set_person_id(person_id);  // never posted to: all zero
    } else {
      account = RowToAccount(r[0]);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return account;
}

absl::StatusOr<std::optional<v1::Entry>> PgLedgerStore::GetEntry(const std::string& entry_id) {
  std::optional<v1::Entry> entry;
  absl::Status s = pool_->WithReadConnection("read entry", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    entry = LoadEntry(tx, entry_id);
    if (entry.has_value()) {
      if (std::optional<v1::Entry> reversal = FindReversal(tx, entry_id)) {
        entry->set_reversed_by_entry_id(reversal->entry_id());
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return entry;
}

absl::StatusOr<std::optional<v1::Hold>> PgLedgerStore::GetHold(const std::string& order_id) {
  std::optional<v1::Hold> hold;
  absl::Status s = pool_->WithReadConnection("read hold", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r = Exec(
        tx, absl::StrCat("SELECT ", kHoldColumns, " FROM holds h WHERE h.order_id = $1"), order_id);
    if (!r.empty()) hold = RowToHold(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return hold;
}

absl::StatusOr<std::optional<common::v1::OrgPath>> PgLedgerStore::FindOrgPath(
    common::v1::OrgLevel level, const std::string& org_id) {
  const char* sql = nullptr;
  switch (level) {
    case common::v1::ORG_LEVEL_STREET:
      sql =
          "SELECT district_id, street_id, '' FROM accounts WHERE street_id = $1 AND "
          "street_id <> '' LIMIT 1";
      break;
    case common::v1::ORG_LEVEL_COMMUNITY:
      sql =
          "SELECT district_id, street_id, community_id FROM accounts WHERE community_id = $1 AND "
          "community_id <> '' LIMIT 1";
      break;
    default:
      return absl::InvalidArgumentError("only a street's or a community's path is looked up");
  }
  std::optional<common::v1::OrgPath> path;
  absl::Status s = pool_->WithReadConnection("find org path", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r = Exec(tx, sql, org_id);
    if (!r.empty()) {
      path.emplace();
      path->set_district_id(r[0][0].as<std::string>());
      path->set_street_id(r[0][1].as<std::string>());
      path->set_community_id(r[0][2].as<std::string>());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return path;
}

absl::StatusOr<std::vector<v1::Entry>> PgLedgerStore::ListEntries(const EntryFilter& f) {
  std::vector<v1::Entry> entries;
  absl::Status s = pool_->WithReadConnection("list entries", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r = Exec(
        tx,
        absl::StrCat("SELECT ", kEntryColumns,
                     ", (SELECT rv.sequence::text FROM entries rv WHERE rv.kind = 6 "
                     "   AND rv.reversed_entry_id = e.sequence::text) "
                     "FROM entries e WHERE e.person_id = $1 "
                     "AND ($2::bigint = 0 OR e.sequence < $2::bigint) "
                     "AND ($3::bigint = 0 OR e.created_at >= to_timestamp($3::bigint / 1000000.0)) "
                     "AND ($4::bigint = 0 OR e.created_at < to_timestamp($4::bigint / 1000000.0)) "
                     "AND (cardinality($5::int[]) = 0 OR e.kind = ANY($5::int[])) "
                     "AND (cardinality($6::int[]) = 0 OR e.source_kind = ANY($6::int[])) "
                     "ORDER BY e.account_sequence DESC LIMIT $7"),
        f.person_id, f.before_sequence, f.start ? Micros(*f.start) : int64_t{0},
        f.end ? Micros(*f.end) : int64_t{0}, IntArray(f.kinds), IntArray(f.source_kinds), f.limit);
    for (const auto& row : r) {
      v1::Entry e = RowToEntry(row);
      if (!row[26].is_null()) e.set_reversed_by_entry_id(row[26].c_str());
      entries.push_back(std::move(e));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return entries;
}

absl::StatusOr<std::vector<std::string>> PgLedgerStore::DueHolds(int limit) {
  std::vector<std::string> orders;
  absl::Status s = pool_->WithReadConnection("find due holds", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    for (const auto& row :
         Exec(tx,
              "SELECT order_id FROM holds WHERE state = 1 AND expire_time <= now() "
              "ORDER BY expire_time LIMIT $1",
              limit)) {
      orders.push_back(row[0].c_str());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return orders;
}

absl::Status PgLedgerStore::ForEachRankingScore(
    size_t chunk, const std::function<absl::Status(std::vector<RankingScore>&)>& fn) {
  return pool_->WithReadConnection("read ranking scores", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    // A keyset walk keeps memory flat however many rows there are.
    std::string last_key, last_person;
    while (true) {
      pqxx::result r = Exec(
          tx,
          "SELECT s.ranking_key, s.person_id, CASE WHEN x.person_id IS NULL THEN s.score ELSE 0 "
          "END, "
          "(extract(epoch FROM s.reached_at) * 1000000)::bigint, s.version FROM ranking_scores s "
          "LEFT JOIN ranking_exclusions x ON x.person_id = s.person_id "
          "WHERE (s.ranking_key, s.person_id) > ($1, $2) "
          "ORDER BY s.ranking_key, s.person_id LIMIT $3",
          last_key, last_person, static_cast<int64_t>(chunk));
      if (r.empty()) return absl::OkStatus();
      std::vector<RankingScore> scores;
      for (const auto& row : r) {
        scores.push_back({row[0].c_str(), row[1].c_str(), row[2].as<int64_t>(),
                          absl::FromUnixMicros(row[3].as<int64_t>()), row[4].as<int64_t>()});
      }
      last_key = scores.back().ranking_key;
      last_person = scores.back().person_id;
      if (absl::Status s = fn(scores); !s.ok()) return s;
    }
  });
}

absl::StatusOr<PgLedgerStore::OrgFigures> PgLedgerStore::OrgStatistics(
    const std::string& column, const std::string& org_id, const std::string& child_column,
    absl::Time start, absl::Time end) {
  // Awards and corrections count when the thing happened, captures when the gift was handed out;
  // days are Shanghai days (UTC+8, no daylight saving).
  const std::string postings = absl::StrCat(
      "WITH p AS (SELECT kind, amount, person_id, ", child_column.empty() ? "''" : child_column,
      " AS child, CASE WHEN kind IN (1, 2, 6) THEN occur_time ELSE created_at END AS t "
      "FROM entries WHERE kind IN (1, 2, 4, 6) AND ",
      // The city names no node, but every query passes $1, which must appear to have a type.
      column.empty() ? "$1::text IS NOT NULL" : column + " = $1",
      "), r AS (SELECT * FROM p WHERE t >= to_timestamp($2::bigint / 1000000.0) "
      "AND t < to_timestamp($3::bigint / 1000000.0)) ");
  constexpr char kSums[] =
      "coalesce(sum(amount) FILTER (WHERE kind = 1), 0), "
      "coalesce(sum(amount) FILTER (WHERE kind IN (2, 6)), 0), "
      "coalesce(sum(amount) FILTER (WHERE kind = 4), 0), count(*) FILTER (WHERE kind = 1), "
      "count(DISTINCT person_id) FILTER (WHERE kind = 1)";
  OrgFigures out;
  absl::Status s = pool_->WithReadConnection("org statistics", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    const int64_t from = Micros(start), to = Micros(end);
    for (const auto& row :
         Exec(tx,
              postings + "SELECT to_char(t AT TIME ZONE INTERVAL '+08:00', 'YYYY-MM-DD') AS day, " +
                  kSums + " FROM r GROUP BY 1 ORDER BY 1",
              org_id, from, to)) {
      out.days.push_back(
          {row[0].c_str(), row[1].as<int64_t>(), row[2].as<int64_t>(), row[3].as<int64_t>()});
    }
    auto node = [](const pqxx::row& row) {
      return NodeFigures{row[0].c_str(),       row[1].as<int64_t>(), row[2].as<int64_t>(),
                         row[3].as<int64_t>(), row[4].as<int64_t>(), row[5].as<int64_t>()};
    };
    out.total =
        node(Exec(tx, postings + "SELECT $1::text, " + kSums + " FROM r", org_id, from, to)[0]);
    if (!child_column.empty()) {
      for (const auto& row : Exec(tx,
                                  postings + "SELECT child, " + kSums +
                                      " FROM r WHERE child <> '' GROUP BY child ORDER BY 2 DESC, 1",
                                  org_id, from, to)) {
        out.children.push_back(node(row));
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::map<std::string, PgLedgerStore::PeriodSums>> PgLedgerStore::SumPeriods(
    const std::string& person_id, const std::string& pg_format, absl::Time start, absl::Time end) {
  std::map<std::string, PeriodSums> out;
  absl::Status s = pool_->WithReadConnection("sum periods", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    for (const auto& row :
         Exec(tx,
              "WITH p AS (SELECT kind, amount, CASE WHEN kind IN (1, 2, 6) THEN occur_time "
              "  ELSE created_at END AS t FROM entries WHERE person_id = $1) "
              "SELECT to_char(t AT TIME ZONE INTERVAL '+08:00', $2), "
              "coalesce(sum(amount) FILTER (WHERE kind = 1), 0), "
              "coalesce(sum(amount) FILTER (WHERE kind = 2), 0), "
              "coalesce(sum(amount) FILTER (WHERE kind = 6), 0), "
              "coalesce(sum(amount) FILTER (WHERE kind = 4), 0), count(*) FILTER (WHERE kind = 1) "
              "FROM p WHERE t >= to_timestamp($3::bigint / 1000000.0) "
              "AND t < to_timestamp($4::bigint / 1000000.0) GROUP BY 1",
              person_id, pg_format, Micros(start), Micros(end))) {
      out[row[0].c_str()] = {row[1].as<int64_t>(), row[2].as<int64_t>(), row[3].as<int64_t>(),
                             row[4].as<int64_t>(), row[5].as<int64_t>()};
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<PgLedgerStore::JournalCheck> PgLedgerStore::VerifyJournal(
    const std::string& person_id, int64_t start_sequence, int max_entries,
    const std::function<bool()>& cancelled) {
  JournalCheck check;
  absl::Status s = pool_->WithReadConnection("verify journal", [&](pqxx::connection_base& c) {
    check = JournalCheck();
    pqxx::read_transaction tx(c);
    // In ledger-wide order, each entry with its account's previous entry's hash (by the unique
    // (person_id, account_sequence) index) and whether it is the account's last one.
    pqxx::result rows = Exec(
        tx,
        "SELECT e.sequence, e.person_id, e.account_sequence, e.prev_hash, e.hash, entry_hash(e), "
        "p.hash, a.available, a.held, a.entry_count, a.head_hash, "
        "NOT EXISTS (SELECT 1 FROM entries n WHERE n.person_id = e.person_id "
        "            AND n.account_sequence = e.account_sequence + 1) "
        "FROM entries e JOIN accounts a ON a.person_id = e.person_id "
        "LEFT JOIN entries p ON p.person_id = e.person_id "
        "  AND p.account_sequence = e.account_sequence - 1 "
        "WHERE e.sequence >= $1 AND ($2 = '' OR e.person_id = $2) "
        "ORDER BY e.sequence LIMIT $3",
        start_sequence, person_id, max_entries);
    std::set<std::string> accounts;
    for (const auto& row : rows) {
      if (check.entries_checked % 1000 == 0 && cancelled()) {
        return absl::CancelledError("the journal check was cancelled by its caller");
      }
      ++check.entries_checked;
      const std::string person = row[1].c_str();
      accounts.insert(person);
      const int64_t account_seq = row[2].as<int64_t>();
      check.last_checked_sequence = row[0].as<int64_t>();
      v1::JournalBreak b;
      b.set_person_id(person);
      b.set_entry_id(row[0].c_str());
      b.set_sequence(row[0].as<int64_t>());
      b.set_account_sequence(account_seq);
      const std::string stored_prev = Bytes(row[3]), stored = Bytes(row[4]),
                        recomputed = Bytes(row[5]);
      const std::string prev = account_seq == 1   ? std::string(32, '\0')
                               : row[6].is_null() ? std::string()
                                                  : Bytes(row[6]);
      if (account_seq > 1 && row[6].is_null()) {
        b.set_kind(v1::JOURNAL_BREAK_KIND_SEQUENCE_GAP);
        b.set_expected(absl::StrCat(account_seq - 1));
        b.set_found("none");
        b.set_detail(absl::StrCat("account ", person, " has entry ", account_seq, " but not entry ",
                                  account_seq - 1));
      } else if (stored_prev != prev) {
        b.set_kind(v1::JOURNAL_BREAK_KIND_PREV_HASH_MISMATCH);
        b.set_expected(absl::BytesToHexString(prev));
        b.set_found(absl::BytesToHexString(stored_prev));
        b.set_detail(absl::StrCat("entry ", row[0].c_str(),
                                  " does not chain to the account's previous entry"));
      } else if (stored != recomputed) {
        b.set_kind(v1::JOURNAL_BREAK_KIND_HASH_MISMATCH);
        b.set_expected(absl::BytesToHexString(recomputed));
        b.set_found(absl::BytesToHexString(stored));
        b.set_detail(absl::StrCat("entry ", row[0].c_str(), " was changed after it was written"));
      } else if (row[11].as<bool>()) {
        // The account's last entry: the account must agree with its whole journal.
        const pqxx::row sums = Exec(tx,
                                    "SELECT coalesce(sum(available_delta), 0), "
                                    "coalesce(sum(held_delta), 0), count(*) FROM entries "
                                    "WHERE person_id = $1",
                                    person)[0];
        if (sums[0].as<int64_t>() != row[7].as<int64_t>() ||
            sums[1].as<int64_t>() != row[8].as<int64_t>() || account_seq != row[9].as<int64_t>() ||
            sums[2].as<int64_t>() != account_seq || Bytes(row[10]) != stored) {
          b.set_kind(v1::JOURNAL_BREAK_KIND_ACCOUNT_MISMATCH);
          b.set_expected(absl::StrCat(sums[0].c_str(), "/", sums[1].c_str(), "/", account_seq));
          b.set_found(absl::StrCat(row[7].c_str(), "/", row[8].c_str(), "/", row[9].c_str()));
          b.set_detail(absl::StrCat(
              "account ", person, " balances (available/held/entries) disagree with its journal"));
        }
      }
      if (b.kind() != v1::JOURNAL_BREAK_KIND_UNSPECIFIED) {
        check.first_break = b;
        break;
      }
    }
    check.accounts_checked = static_cast<int64_t>(accounts.size());
    check.reached_end = static_cast<int>(rows.size()) < max_entries;
    // At the end, an account that claims entries but has none is a break too.
    if (!check.first_break && check.reached_end) {
      pqxx::result empty = Exec(tx,
                                "SELECT person_id, entry_count FROM accounts a "
                                "WHERE entry_count > 0 AND ($1 = '' OR person_id = $1) "
                                "AND NOT EXISTS (SELECT 1 FROM entries e "
                                "                WHERE e.person_id = a.person_id) LIMIT 1",
                                person_id);
      if (!empty.empty()) {
        v1::JournalBreak b;
        b.set_kind(v1::JOURNAL_BREAK_KIND_ACCOUNT_MISMATCH);
        b.set_person_id(empty[0][0].c_str());
        b.set_expected("0/0/0");
        b.set_found(absl::StrCat("?/?/", empty[0][1].c_str()));
        b.set_detail(absl::StrCat("account ", empty[0][0].c_str(),
                                  " counts entries its journal does not have"));
        check.first_break = b;
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return check;
}

}  // namespace civicpoints::ledger
