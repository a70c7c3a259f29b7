#include "services/ledger/ranking_rebuild.h"

#include <future>
#include <map>
#include <pqxx/pqxx>
#include <utility>

#include "common/log/log.h"
#include "common/pg/pg_pool.h"
#include "common/status/status_macros.h"
#include "services/ledger/pg_ledger_rows.h"

namespace civicpoints::ledger {
namespace {

constexpr char kSeasonsSql[] = R"sql(
SELECT season_id, scope_level, scope_org_id,
       (extract(epoch FROM start_time) * 1000000)::bigint AS start_micros,
       (extract(epoch FROM end_time) * 1000000)::bigint AS end_micros
  FROM seasons
)sql";

// Each rider's changes per org path and Shanghai day up to a sequence, rider by rider; the last
// raise is the greatest (sequence, time) pair among the raising changes.
constexpr char kDaysSql[] = R"sql(
SELECT person_id, district_id, street_id, community_id,
       (extract(epoch FROM date_trunc('day', counts_at, 'Asia/Shanghai')) * 1000000)::bigint
         AS day_micros,
       sum(delta)::bigint AS delta,
       max(ARRAY[sequence, (extract(epoch FROM created_at) * 1000000)::bigint])
         FILTER (WHERE delta > 0) AS reach
  FROM ranking_changes
 WHERE sequence <= $1
 GROUP BY 1, 2, 3, 4, 5
 ORDER BY 1
)sql";

// The same per season and org path over each season's range and node, season by season.
constexpr char kSeasonsTotalsSql[] = R"sql(
SELECT s.season_id, c.person_id, c.district_id, c.street_id, c.community_id,
       sum(c.delta)::bigint AS delta,
       max(ARRAY[c.sequence, (extract(epoch FROM c.created_at) * 1000000)::bigint])
         FILTER (WHERE c.delta > 0) AS reach
  FROM ranking_changes c
  JOIN seasons s
    ON c.counts_at >= s.start_time AND c.counts_at < s.end_time
   AND (s.scope_level = org_level('CITY')
        OR (s.scope_level = org_level('DISTRICT') AND s.scope_org_id = c.district_id)
        OR (s.scope_level = org_level('STREET') AND s.scope_org_id = c.street_id)
        OR (s.scope_level = org_level('COMMUNITY') AND s.scope_org_id = c.community_id))
 WHERE c.sequence <= $1
 GROUP BY 1, 2, 3, 4, 5
 ORDER BY 1, 2
)sql";

// Members buffered before they are written.
constexpr int64_t kMembersPerWrite = 50000;

// Folds rows (rider by rider) into ranking totals and writes them out in chunks.
class TotalsBuilder {
 public:
  TotalsBuilder(RankingProjection* projection, int64_t through,
                const std::function<bool(const std::string&)>& matching)
      : projection_(projection), through_(through), matching_(matching) {}

  // `keys` are the rankings the row counts in.
  absl::Status Add(const pqxx::row& row, const std::vector<std::string>& keys) {
    const std::string person = row["person_id"].c_str();
    if (person != person_) RETURN_IF_ERROR(EndPerson(person));
    const int64_t delta = row["delta"].as<int64_t>();
    int64_t sequence = 0, micros = 0;
    if (!row["reach"].is_null()) {
      // "{sequence,micros}"
      const std::string reach = row["reach"].c_str();
      const size_t comma = reach.find(',');
      sequence = std::stoll(reach.substr(1, comma - 1));
      micros = std::stoll(reach.substr(comma + 1, reach.size() - comma - 2));
    }
    for (const std::string& key : keys) {
      if (!matching_(key)) continue;
      RankingTotal& t = current_[key];
      t.sum += delta;
      if (sequence > t.reach_sequence) {
        t.reach_sequence = sequence;
        t.reach_time = absl::FromUnixMicros(micros);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Finish() {
    RETURN_IF_ERROR(EndPerson(""));
    RETURN_IF_ERROR(Write());
    return Drain();
  }

  ~TotalsBuilder() { Drain().IgnoreError(); }

  int64_t members() const { return members_; }
  // How long folding waited for Redis.
  absl::Duration waiting() const { return waiting_; }

 private:
  absl::Status EndPerson(const std::string& next) {
    for (auto& [key, total] : current_) {
      total.person_id = person_;
      pending_[key].push_back(std::move(total));
      ++members_;
      ++buffered_;
    }
    current_.clear();
    person_ = next;
    return buffered_ >= kMembersPerWrite ? Write() : absl::OkStatus();
  }

  // Hands the buffered totals to a writer while the next ones are folded: Redis, on the other
  // core, is the slower of the two, and both together take about the longer one's time.
  absl::Status Write() {
    if (pending_.empty()) return absl::OkStatus();
    RETURN_IF_ERROR(Drain());
    in_flight_ =
        std::async(std::launch::async, [this, chunk = std::move(pending_)]() -> absl::Status {
          return projection_->WriteTotals(chunk, through_);
        });
    pending_.clear();
    buffered_ = 0;
    return absl::OkStatus();
  }

  // Waits for the chunk being written, if any.
  absl::Status Drain() {
    if (!in_flight_.valid()) return absl::OkStatus();
    const absl::Time waited = absl::Now();
    absl::Status written = in_flight_.get();
    waiting_ += absl::Now() - waited;
    return written;
  }

  RankingProjection* const projection_;
  const int64_t through_;
  const std::function<bool(const std::string&)>& matching_;
  std::string person_;
  std::map<std::string, RankingTotal> current_;
  std::map<std::string, std::vector<RankingTotal>> pending_;
  int64_t buffered_ = 0;
  int64_t members_ = 0;
  std::future<absl::Status> in_flight_;
  absl::Duration waiting_;
};

common::v1::OrgPath PathOf(const pqxx::row& row) {
  common::v1::OrgPath path;
  path.set_district_id(row["district_id"].c_str());
  path.set_street_id(row["street_id"].c_str());
  path.set_community_id(row["community_id"].c_str());
  return path;
}

}  // namespace

std::vector<SeasonRange> ReadSeasons(pqxx::transaction_base& tx) {
  std::vector<SeasonRange> seasons;
  for (const pqxx::row& row : tx.exec(kSeasonsSql)) {
    seasons.push_back({.season_id = row["season_id"].as<std::string>(),
                       .level = static_cast<common::v1::OrgLevel>(row["scope_level"].as<int>()),
                       .org_id = row["scope_org_id"].as<std::string>(),
                       .start = absl::FromUnixMicros(row["start_micros"].as<int64_t>()),
                       .end = absl::FromUnixMicros(row["end_micros"].as<int64_t>())});
  }
  return seasons;
}

absl::StatusOr<RebuiltRankings> RebuildFromJournal(
    pg::PgPool* pool, RankingProjection* projection,
    const std::function<bool(const std::string&)>& matching, std::optional<int64_t> through) {
  RebuiltRankings out;
  RETURN_IF_ERROR(pool->WithReadConnection("rebuild rankings", [&](pqxx::connection_base& c) {
    out = RebuiltRankings{};
    // One snapshot for the head, the seasons and every sum. Entries are appended
    // in commit order, so the snapshot's entries are all those up to its last sequence.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    tx.exec("SET LOCAL max_parallel_workers_per_gather = 0");
    tx.exec("SET LOCAL work_mem = '256MB'");           // the sums sort in memory
    tx.exec("SET LOCAL statement_timeout = '10min'");  // a whole journal, not one request
    out.through =
        through.has_value()
            ? *through
            : tx.exec("SELECT coalesce(max(sequence), 0) FROM entries")[0][0].as<int64_t>();
    out.seasons = ReadSeasons(tx);
    const absl::Time start = absl::Now();
    TotalsBuilder totals(projection, out.through, matching);
    const pqxx::result days = pg_rows::Exec(tx, kDaysSql, out.through);
    const absl::Time summed = absl::Now();
    for (const pqxx::row& row : days) {
      // Any moment of the Shanghai day lies in the same month and ISO week.
      const absl::Time noon =
          absl::FromUnixMicros(row["day_micros"].as<int64_t>()) + absl::Hours(12);
      RETURN_IF_ERROR(totals.Add(row, RankingKeysFor(PathOf(row), noon)));
    }
    RETURN_IF_ERROR(totals.Finish());
    out.members = totals.members();
    log::Info("rankings rebuilt from the journal's daily sums",
              {{"through", out.through},
               {"rows", static_cast<int64_t>(days.size())},
               {"members", out.members},
               {"sum_ms", absl::ToInt64Milliseconds(summed - start)},
               {"fold_ms", absl::ToInt64Milliseconds(absl::Now() - summed - totals.waiting())},
               {"redis_wait_ms", absl::ToInt64Milliseconds(totals.waiting())}});
    if (!out.seasons.empty()) {
      std::map<std::string, const SeasonRange*> seasons;
      for (const SeasonRange& season : out.seasons) seasons[season.season_id] = &season;
      TotalsBuilder in_seasons(projection, out.through, matching);
      for (const pqxx::row& row : pg_rows::Exec(tx, kSeasonsTotalsSql, out.through)) {
        const SeasonRange& season = *seasons.at(row["season_id"].as<std::string>());
        RETURN_IF_ERROR(in_seasons.Add(row, SeasonKeysFor(PathOf(row), season.start, {season})));
      }
      RETURN_IF_ERROR(in_seasons.Finish());
      out.members += in_seasons.members();
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace civicpoints::ledger
