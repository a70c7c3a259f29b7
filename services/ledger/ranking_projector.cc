#include "services/ledger/ranking_projector.h"

#include <map>
#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/pg/pg_pool.h"
#include "common/status/status_macros.h"
#include "services/ledger/ranking_keys.h"

namespace civicpoints::ledger {
namespace {

// The entries after a sequence that move earned points, each with the path and moment it counts
// at (entry kinds: 1 award, 2 deduction, 6 reversal).
constexpr char kChangesSql[] = R"sql(
SELECT e.sequence, e.person_id, e.earned_delta,
       (extract(epoch FROM e.created_at) * 1000000)::bigint AS created_micros,
       CASE WHEN e.kind = 6 THEN r.district_id
            WHEN e.kind = 2 AND e.community_id = '' THEN a.district_id
            ELSE e.district_id END AS district_id,
       CASE WHEN e.kind = 6 THEN r.street_id
            WHEN e.kind = 2 AND e.community_id = '' THEN a.street_id
            ELSE e.street_id END AS street_id,
       CASE WHEN e.kind = 6 THEN r.community_id
            WHEN e.kind = 2 AND e.community_id = '' THEN a.community_id
            ELSE e.community_id END AS community_id,
       (extract(epoch FROM CASE WHEN e.kind = 6 THEN r.occur_time ELSE e.occur_time END)
         * 1000000)::bigint AS counts_micros
  FROM entries e
  LEFT JOIN entries r
    ON r.sequence = CASE WHEN e.kind = 6 THEN e.reversed_entry_id::bigint END
  LEFT JOIN accounts a ON e.kind = 2 AND e.community_id = '' AND a.person_id = e.person_id
 WHERE e.sequence > $1 AND e.earned_delta <> 0
 ORDER BY e.sequence
 LIMIT $2
)sql";

constexpr char kSeasonsSql[] = R"sql(
SELECT season_id, scope_level, scope_org_id,
       (extract(epoch FROM start_time) * 1000000)::bigint AS start_micros,
       (extract(epoch FROM end_time) * 1000000)::bigint AS end_micros
  FROM seasons
)sql";

}  // namespace

RankingProjector::RankingProjector(pg::PgPool* pool, RankingProjection* projection,
                                   RankingProjectorOptions options)
    : pool_(pool), projection_(projection), options_(options) {}

RankingProjector::~RankingProjector() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void RankingProjector::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void RankingProjector::Nudge() {
  absl::MutexLock lock(&mu_);
  nudged_ = true;
}

int64_t RankingProjector::applied() const {
  absl::MutexLock lock(&mu_);
  return applied_;
}

bool RankingProjector::WaitFor(int64_t sequence, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  nudged_ = true;
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return applied_ >= sequence || failing_ || stopping_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  return applied_ >= sequence;
}

absl::StatusOr<std::pair<int64_t, bool>> RankingProjector::Pass() {
  ASSIGN_OR_RETURN(std::optional<int64_t> watermark, projection_->Watermark());
  const int64_t from = watermark.value_or(0);
  std::map<std::string, std::vector<RankingChange>> changes;
  int64_t through = from;
  bool more = false;
  RETURN_IF_ERROR(pool_->WithReadConnection("project rankings", [&](pqxx::connection_base& c) {
    changes.clear();
    // One snapshot for the head and the entries: everything up to the head is in it.
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(
        c);
    const int64_t head =
        tx.exec1("SELECT coalesce(max(sequence), 0) FROM entries")[0].as<int64_t>();
    std::vector<SeasonRange> seasons;
    for (const pqxx::row& row : tx.exec(kSeasonsSql)) {
      seasons.push_back({.season_id = row["season_id"].as<std::string>(),
                         .level = static_cast<common::v1::OrgLevel>(row["scope_level"].as<int>()),
                         .org_id = row["scope_org_id"].as<std::string>(),
                         .start = absl::FromUnixMicros(row["start_micros"].as<int64_t>()),
                         .end = absl::FromUnixMicros(row["end_micros"].as<int64_t>())});
    }
    const pqxx::result rows = tx.exec_params(kChangesSql, from, options_.max_entries_per_pass);
    more = static_cast<int>(rows.size()) >= options_.max_entries_per_pass;
    through = more ? rows.back()["sequence"].as<int64_t>() : head;
    for (const pqxx::row& row : rows) {
      common::v1::OrgPath path;
      path.set_district_id(row["district_id"].is_null() ? "" : row["district_id"].c_str());
      path.set_street_id(row["street_id"].is_null() ? "" : row["street_id"].c_str());
      path.set_community_id(row["community_id"].is_null() ? "" : row["community_id"].c_str());
      const absl::Time counts_at = absl::FromUnixMicros(row["counts_micros"].as<int64_t>());
      const RankingChange change{.person_id = row["person_id"].as<std::string>(),
                                 .delta = row["earned_delta"].as<int64_t>(),
                                 .sequence = row["sequence"].as<int64_t>(),
                                 .time = absl::FromUnixMicros(row["created_micros"].as<int64_t>())};
      for (const std::string& key : RankingKeysFor(path, counts_at)) {
        changes[key].push_back(change);
      }
      for (const std::string& key : SeasonKeysFor(path, counts_at, seasons)) {
        changes[key].push_back(change);
      }
    }
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(projection_->Apply(changes, through));
  RETURN_IF_ERROR(projection_->RaiseWatermark(through));
  return std::make_pair(through, more);
}

absl::StatusOr<int64_t> RankingProjector::CatchUp() {
  absl::MutexLock pass(&pass_mu_);
  for (;;) {
    absl::StatusOr<std::pair<int64_t, bool>> done = Pass();
    absl::MutexLock lock(&mu_);
    failing_ = !done.ok();
    if (!done.ok()) return done.status();
    applied_ = done->first;
    if (!done->second) return applied_;
  }
}

void RankingProjector::Loop() {
  bool failed_before = false;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return nudged_ || stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&woken),
                           failed_before ? options_.retry : options_.idle_poll);
      if (stopping_) return;
      nudged_ = false;
    }
    absl::StatusOr<int64_t> reached = CatchUp();
    if (!reached.ok() && !failed_before) {
      log::Warn("rankings fall behind the journal until Redis and PostgreSQL answer",
                {{"error", std::string(reached.status().message())}});
    } else if (reached.ok() && failed_before) {
      log::Info("rankings caught up with the journal", {{"sequence", absl::StrCat(*reached)}});
    }
    failed_before = !reached.ok();
  }
}

}  // namespace civicpoints::ledger
