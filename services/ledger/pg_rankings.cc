// PgLedgerStore's rankings: the ranking rows every posting adds to, the walk over all of them for
// a rebuild of Redis, and exclusions from rankings.
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/pg/pg_pool.h"
#include "services/ledger/pg_ledger_rows.h"
#include "services/ledger/pg_ledger_store.h"

namespace civicpoints::ledger {

using pg_rows::Exec;
using pg_rows::InBatch;
using pg_rows::Micros;
using pg_rows::OnUniqueViolation;
using pg_rows::RowToScore;
using pg_rows::SetTime;
using pg_rows::TextArray;

namespace {

// Columns of an exclusion (table alias `x`) with its rider's account path (alias `a`, left
// joined), read by RowToExclusion by these names.
constexpr char kExclusionColumns[] =
    "x.person_id, x.reason, x.excluded_by, "
    "(extract(epoch FROM x.created_at) * 1000000)::bigint AS created_micros, "
    "coalesce(a.district_id, '') AS district_id, coalesce(a.street_id, '') AS street_id, "
    "coalesce(a.community_id, '') AS community_id";

v1::RankingExclusion RowToExclusion(const pqxx::row& r) {
  v1::RankingExclusion x;
  x.set_person_id(r["person_id"].c_str());
  x.set_reason(r["reason"].c_str());
  x.set_excluded_by_person_id(r["excluded_by"].c_str());
  SetTime(x.mutable_create_time(), r["created_micros"].as<int64_t>());
  if (std::string(r["community_id"].c_str()).size() > 0) {
    x.mutable_org_path()->set_district_id(r["district_id"].c_str());
    x.mutable_org_path()->set_street_id(r["street_id"].c_str());
    x.mutable_org_path()->set_community_id(r["community_id"].c_str());
  }
  return x;
}

std::optional<v1::RankingExclusion> QueryExclusion(pqxx::transaction_base& tx,
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

std::vector<RankingScore> BumpRankingVersions(pqxx::transaction_base& tx,
                                              const std::string& person_id, bool excluded) {
  std::vector<RankingScore> out;
  for (const auto& row :
       Exec(tx,
            "UPDATE ranking_scores SET version = version + 1 WHERE person_id = $1 "
            "RETURNING ranking_key, score, "
            "(extract(epoch FROM reached_at) * 1000000)::bigint AS reached_micros, version",
            person_id)) {
    RankingScore score = RowToScore(row, person_id);
    if (excluded) score.score = 0;
    out.push_back(std::move(score));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<RankingScore>> PgLedgerStore::AddRankingScores(
    pqxx::dbtransaction& tx, const std::string& person_id, const std::vector<std::string>& keys,
    int64_t delta, absl::Time reached_at, absl::Time occur_time, const common::v1::OrgPath& path) {
  return InBatch([&]() -> absl::StatusOr<std::vector<RankingScore>> {
    // Season rankings exist for the season's own node and every node below it on the award's
    // path.
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
        "  WHERE x.person_id = $1) THEN 0 ELSE score END AS score, "
        "(extract(epoch FROM reached_at) * 1000000)::bigint AS reached_micros, version",
        person_id, delta, Micros(reached_at), TextArray(keys), Micros(occur_time),
        path.district_id(), path.street_id(), path.community_id());
    std::vector<RankingScore> out;
    for (const auto& row : r) out.push_back(RowToScore(row, person_id));
    return out;
  });
}

absl::Status PgLedgerStore::ForEachRankingScore(
    size_t chunk, const std::function<absl::Status(std::vector<RankingScore>&)>& fn) {
  return pool_->WithReadConnection("read ranking scores", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    // A keyset walk keeps memory flat however many rows there are.
    std::string last_key, last_person;
    while (true) {
      pqxx::result r =
          Exec(tx,
               "SELECT s.ranking_key, s.person_id, "
               "CASE WHEN x.person_id IS NULL THEN s.score ELSE 0 END AS score, "
               "(extract(epoch FROM s.reached_at) * 1000000)::bigint AS reached_micros, "
               "s.version FROM ranking_scores s "
               "LEFT JOIN ranking_exclusions x ON x.person_id = s.person_id "
               "WHERE (s.ranking_key, s.person_id) > ($1, $2) "
               "ORDER BY s.ranking_key, s.person_id LIMIT $3",
               last_key, last_person, static_cast<int64_t>(chunk));
      if (r.empty()) return absl::OkStatus();
      std::vector<RankingScore> scores;
      for (const auto& row : r) scores.push_back(RowToScore(row, row["person_id"].c_str()));
      last_key = scores.back().ranking_key;
      last_person = scores.back().person_id;
      if (absl::Status s = fn(scores); !s.ok()) return s;
    }
  });
}

absl::StatusOr<std::optional<v1::RankingExclusion>> PgLedgerStore::FindExclusion(
    pqxx::dbtransaction& tx, const std::string& person_id) {
  return InBatch([&]() -> absl::StatusOr<std::optional<v1::RankingExclusion>> {
    return QueryExclusion(tx, person_id);
  });
}

absl::StatusOr<v1::RankingExclusion> PgLedgerStore::Exclude(pqxx::dbtransaction& tx,
                                                            const std::string& person_id,
                                                            const std::string& reason,
                                                            const std::string& actor,
                                                            std::vector<RankingScore>* scores) {
  return InBatch(
      [&]() -> absl::StatusOr<v1::RankingExclusion> {
        Exec(tx,
             "INSERT INTO ranking_exclusions (person_id, reason, excluded_by) VALUES ($1, $2, $3)",
             person_id, reason, actor);
        Exec(tx,
             "INSERT INTO ranking_exclusion_events (person_id, action, reason, actor_id) "
             "VALUES ($1, 'exclude', $2, $3)",
             person_id, reason, actor);
        Exec(tx, "UPDATE accounts SET ranking_excluded = true WHERE person_id = $1", person_id);
        *scores = BumpRankingVersions(tx, person_id, /*excluded=*/true);
        return *QueryExclusion(tx, person_id);
      },
      OnUniqueViolation::kRace);
}

absl::StatusOr<absl::Time> PgLedgerStore::Restore(pqxx::dbtransaction& tx,
                                                  const std::string& person_id,
                                                  const std::string& reason,
                                                  const std::string& actor,
                                                  std::vector<RankingScore>* scores) {
  return InBatch([&]() -> absl::StatusOr<absl::Time> {
    Exec(tx, "DELETE FROM ranking_exclusions WHERE person_id = $1", person_id);
    pqxx::result r = Exec(tx,
                          "INSERT INTO ranking_exclusion_events (person_id, action, reason, "
                          "actor_id) VALUES ($1, 'restore', $2, $3) "
                          "RETURNING (extract(epoch FROM created_at) * 1000000)::bigint "
                          "AS created_micros",
                          person_id, reason, actor);
    Exec(tx, "UPDATE accounts SET ranking_excluded = false WHERE person_id = $1", person_id);
    *scores = BumpRankingVersions(tx, person_id, /*excluded=*/false);
    return absl::FromUnixMicros(r[0]["created_micros"].as<int64_t>());
  });
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
      out.push_back(row["person_id"].c_str());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace civicpoints::ledger
