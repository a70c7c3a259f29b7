// PgLedgerStore's exclusions from rankings (the rankings themselves are a projection of the
// journal: ranking_projector.h).
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
using pg_rows::OnUniqueViolation;
using pg_rows::SetTime;

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

}  // namespace

absl::StatusOr<std::optional<v1::RankingExclusion>> PgLedgerStore::FindExclusion(
    pqxx::dbtransaction& tx, const std::string& person_id) {
  return InBatch([&]() -> absl::StatusOr<std::optional<v1::RankingExclusion>> {
    return QueryExclusion(tx, person_id);
  });
}

absl::StatusOr<v1::RankingExclusion> PgLedgerStore::Exclude(pqxx::dbtransaction& tx,
                                                            const std::string& person_id,
                                                            const std::string& reason,
                                                            const std::string& actor) {
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
        return *QueryExclusion(tx, person_id);
      },
      OnUniqueViolation::kRace);
}

absl::StatusOr<absl::Time> PgLedgerStore::Restore(pqxx::dbtransaction& tx,
                                                  const std::string& person_id,
                                                  const std::string& reason,
                                                  const std::string& actor) {
  return InBatch([&]() -> absl::StatusOr<absl::Time> {
    Exec(tx, "DELETE FROM ranking_exclusions WHERE person_id = $1", person_id);
    pqxx::result r = Exec(tx,
                          "INSERT INTO ranking_exclusion_events (person_id, action, reason, "
                          "actor_id) VALUES ($1, 'restore', $2, $3) "
                          "RETURNING (extract(epoch FROM created_at) * 1000000)::bigint "
                          "AS created_micros",
                          person_id, reason, actor);
    Exec(tx, "UPDATE accounts SET ranking_excluded = false WHERE person_id = $1", person_id);
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
