// PgLedgerStore's seasons (named ranking periods, counted from the journal when created) and
// ranking snapshots (a ranking's top read from PostgreSQL and kept).
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "civicpoints/ledger/v1/errors.pb.h"
#include "common/base/time_units.h"
#include "common/pg/pg_pool.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"
#include "services/ledger/pg_ledger_rows.h"
#include "services/ledger/pg_ledger_store.h"
#include "services/ledger/ranking_keys.h"

namespace civicpoints::ledger {

using pg_rows::Bytes;
using pg_rows::Exec;
using pg_rows::InBatch;
using pg_rows::OnUniqueViolation;
using pg_rows::SetTime;

namespace {

// Columns of a season (table alias `s`), read by RowToSeason by these names.
constexpr char kSeasonColumns[] =
    "s.seq, s.season_id, s.display_name, s.scope_level, s.scope_org_id, "
    "(extract(epoch FROM s.start_time) * 1000000)::bigint AS start_micros, "
    "(extract(epoch FROM s.end_time) * 1000000)::bigint AS end_micros, s.creator_id, "
    "(extract(epoch FROM s.created_at) * 1000000)::bigint AS created_micros";

v1::Season RowToSeason(const pqxx::row& r) {
  v1::Season s;
  s.set_season_id(r["season_id"].c_str());
  s.set_display_name(r["display_name"].c_str());
  s.mutable_scope()->set_level(static_cast<common::v1::OrgLevel>(r["scope_level"].as<int>()));
  s.mutable_scope()->set_org_id(r["scope_org_id"].c_str());
  const int64_t start = r["start_micros"].as<int64_t>(), end = r["end_micros"].as<int64_t>();
  SetTime(s.mutable_start_time(), start);
  SetTime(s.mutable_end_time(), end);
  s.set_creator_id(r["creator_id"].c_str());
  SetTime(s.mutable_create_time(), r["created_micros"].as<int64_t>());
  const int64_t now = absl::ToUnixMicros(absl::Now());
  s.set_state(now < start ? v1::SEASON_STATE_UPCOMING
              : now < end ? v1::SEASON_STATE_ACTIVE
                          : v1::SEASON_STATE_ENDED);
  return s;
}

}  // namespace

absl::StatusOr<v1::Season> PgLedgerStore::InsertSeason(pqxx::dbtransaction& tx,
                                                       const v1::Season& season, int max_open) {
  return InBatch([&]() -> absl::StatusOr<v1::Season> {
    // Counted under a lock per node, so two creations at once cannot both pass the bound.
    Exec(tx, "SELECT pg_advisory_xact_lock(hashtextextended('season:' || $1 || ':' || $2, 0))",
         static_cast<int>(season.scope().level()), season.scope().org_id());
    const int64_t open =
        Exec(tx,
             "SELECT count(*) FROM seasons WHERE scope_level = $1 AND scope_org_id = $2 "
             "AND end_time > now()",
             static_cast<int>(season.scope().level()), season.scope().org_id())[0][0]
            .as<int64_t>();
    if (open >= max_open) {
      return Refuse(absl::StatusCode::kResourceExhausted, v1::LEDGER_ERROR_REASON_TOO_MANY_SEASONS,
                    absl::StrCat("the scope already has ", open,
                                 " upcoming or active seasons (at most ", max_open, ")"));
    }
    pqxx::result r = Exec(
        tx,
        absl::StrCat(
            "INSERT INTO seasons AS s (season_id, display_name, scope_level, scope_org_id, "
            "start_time, end_time, creator_id) VALUES ('season-' || "
            "currval(pg_get_serial_sequence('seasons', 'seq')), $1, $2, $3, "
            "to_timestamp($4::bigint / 1000000.0), to_timestamp($5::bigint / 1000000.0), $6) "
            "RETURNING ",
            kSeasonColumns),
        season.display_name(), static_cast<int>(season.scope().level()), season.scope().org_id(),
        times::UsOf(season.start_time()), times::UsOf(season.end_time()), season.creator_id());
    return RowToSeason(r[0]);
  });
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
              absl::StrCat("SELECT ", kSeasonColumns,
                           " FROM seasons s WHERE s.seq > $1 AND ($2 = 0 OR s.scope_level = "
                           "org_level('CITY') "
                           "OR (s.scope_level = $2 AND s.scope_org_id = $3) "
                           "OR (s.scope_level = org_level('DISTRICT') AND s.scope_org_id = $4) "
                           "OR (s.scope_level = org_level('STREET') AND s.scope_org_id = $5)) "
                           "ORDER BY s.seq LIMIT $6"),
              after_seq, level, org_id, district_id, street_id, limit)) {
      out.emplace_back(row["seq"].as<int64_t>(), RowToSeason(row));
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::vector<v1::RankingEntry>> PgLedgerStore::ReadRanking(
    pqxx::dbtransaction& tx, const std::string& ranking_key, int limit, bool include_ties,
    int64_t* as_of_sequence) {
  ASSIGN_OR_RETURN(const RankingWindow window, ParseRankingKey(ranking_key));
  // The window as conditions on ranking_changes (alias c); only fixed column names go into the
  // text, every value is a parameter.
  std::string where = "c.sequence <= head.as_of";
  switch (window.level) {
    case common::v1::ORG_LEVEL_DISTRICT:
      where += " AND c.district_id = $3";
      break;
    case common::v1::ORG_LEVEL_STREET:
      where += " AND c.street_id = $3";
      break;
    case common::v1::ORG_LEVEL_COMMUNITY:
      where += " AND c.community_id = $3";
      break;
    default:
      where += " AND $3 = ''";
  }
  if (window.start.has_value()) {
    where +=
        " AND c.counts_at >= to_timestamp($4::bigint / 1000000.0)"
        " AND c.counts_at < to_timestamp($5::bigint / 1000000.0)";
  } else {
    where += " AND $4::bigint = $5::bigint";
  }
  if (!window.season_id.empty()) {
    // As SeasonKeysFor: entries down to a community, in the season's range, under its node, for
    // rankings at or below the season's level.
    where +=
        " AND EXISTS (SELECT 1 FROM seasons s WHERE s.season_id = $6"
        " AND c.counts_at >= s.start_time AND c.counts_at < s.end_time"
        " AND c.community_id <> '' AND $7 >= s.scope_level"
        " AND (s.scope_level = org_level('CITY') OR (s.scope_level = org_level('DISTRICT') AND "
        "c.district_id = s.scope_org_id)"
        " OR (s.scope_level = org_level('STREET') AND c.street_id = s.scope_org_id)"
        " OR (s.scope_level = org_level('COMMUNITY') AND c.community_id = s.scope_org_id)))";
  } else {
    where += " AND $6 = '' AND $7 > 0";
  }
  const std::string sql = absl::StrCat(
      "WITH head AS (SELECT coalesce(max(sequence), 0) AS as_of FROM entries), "
      "totals AS (SELECT c.person_id, sum(c.delta) AS points, "
      "  max(c.sequence) FILTER (WHERE c.delta > 0) AS reach_sequence "
      "  FROM ranking_changes c, head WHERE ",
      where,
      " GROUP BY c.person_id), "
      "ranked AS (SELECT t.person_id, t.points, t.reach_sequence, "
      "  row_number() OVER (ORDER BY t.points DESC, t.reach_sequence) AS rank FROM totals t "
      "  WHERE t.points > 0 AND NOT EXISTS "
      "    (SELECT 1 FROM ranking_exclusions x WHERE x.person_id = t.person_id)) "
      "SELECT h.as_of, r.rank, r.person_id, r.points, "
      "  (extract(epoch FROM e.created_at) * 1000000)::bigint AS reached_micros "
      "FROM head h LEFT JOIN (ranked r JOIN entries e ON e.sequence = r.reach_sequence) "
      "  ON r.rank <= $1 OR ($2 AND r.rank <= $1 + 1000 "
      "    AND r.points = (SELECT points FROM ranked WHERE rank = $1)) "
      "ORDER BY r.rank");
  return InBatch([&]() -> absl::StatusOr<std::vector<v1::RankingEntry>> {
    pqxx::result r = Exec(tx, sql, limit, include_ties, window.org_id,
                          window.start.has_value() ? absl::ToUnixMicros(*window.start) : int64_t{0},
                          window.end.has_value() ? absl::ToUnixMicros(*window.end) : int64_t{0},
                          window.season_id, static_cast<int>(window.level));
    std::vector<v1::RankingEntry> out;
    for (const auto& row : r) {
      *as_of_sequence = row["as_of"].as<int64_t>();
      if (row["rank"].is_null()) continue;  // nobody ranked: the head alone
      v1::RankingEntry e;
      e.set_rank(row["rank"].as<int64_t>());
      e.set_person_id(row["person_id"].c_str());
      e.set_score(row["points"].as<int64_t>());
      SetTime(e.mutable_reach_time(), row["reached_micros"].as<int64_t>());
      out.push_back(std::move(e));
    }
    return out;
  });
}

absl::Status PgLedgerStore::SaveSnapshot(pqxx::dbtransaction& tx,
                                         const v1::RankingSnapshot& snapshot) {
  return InBatch(
      [&] {
        Exec(tx, "INSERT INTO ranking_snapshots (snapshot_id, snapshot) VALUES ($1, $2)",
             snapshot.snapshot_id(), pqxx::binarystring(snapshot.SerializeAsString()));
        return absl::OkStatus();
      },
      OnUniqueViolation::kRace);
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
      if (!snap.ParseFromString(Bytes(r[0]["snapshot"]))) {
        return absl::InternalError("stored snapshot does not parse");
      }
      out = std::move(snap);
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace civicpoints::ledger
