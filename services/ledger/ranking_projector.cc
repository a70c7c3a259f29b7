#include "services/ledger/ranking_projector.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/pg/pg_pool.h"
#include "common/status/status_macros.h"
#include "services/ledger/pg_ledger_rows.h"
#include "services/ledger/ranking_keys.h"
#include "services/ledger/ranking_rebuild.h"

namespace civicpoints::ledger {
namespace {

// The entries after a sequence that move earned points, each where it counts (the view
// ranking_changes, migrations/0009).
constexpr char kChangesSql[] = R"sql(
SELECT sequence, person_id, delta, district_id, street_id, community_id,
       (extract(epoch FROM created_at) * 1000000)::bigint AS created_micros,
       (extract(epoch FROM counts_at) * 1000000)::bigint AS counts_micros
  FROM ranking_changes
 WHERE sequence > $1
 ORDER BY sequence
 LIMIT $2
)sql";

// The same, up to a sequence, in one season's range.
constexpr char kSeasonFillSql[] = R"sql(
SELECT sequence, person_id, delta, district_id, street_id, community_id,
       (extract(epoch FROM created_at) * 1000000)::bigint AS created_micros,
       (extract(epoch FROM counts_at) * 1000000)::bigint AS counts_micros
  FROM ranking_changes
 WHERE sequence <= $1 AND counts_at >= to_timestamp($2::bigint / 1000000.0)
   AND counts_at < to_timestamp($3::bigint / 1000000.0)
 ORDER BY sequence
)sql";

// One row of kChangesSql: its change and the org path and moment it counts at.
struct JournalChange {
  RankingChange change;
  common::v1::OrgPath path;
  absl::Time counts_at;
};

JournalChange ReadChange(const pqxx::row& row) {
  JournalChange c;
  c.change = {.person_id = row["person_id"].as<std::string>(),
              .delta = row["delta"].as<int64_t>(),
              .sequence = row["sequence"].as<int64_t>(),
              .time = absl::FromUnixMicros(row["created_micros"].as<int64_t>())};
  c.path.set_district_id(row["district_id"].as<std::string>());
  c.path.set_street_id(row["street_id"].as<std::string>());
  c.path.set_community_id(row["community_id"].as<std::string>());
  c.counts_at = absl::FromUnixMicros(row["counts_micros"].as<int64_t>());
  return c;
}

// Seasons other ledger processes created are seen within this.
constexpr absl::Duration kSeasonsRefresh = absl::Seconds(5);

// How long a holder of the projection's lease keeps it without renewing: a pass, and a whole
// rebuild. A process that died holding it keeps the others out this long.
constexpr absl::Duration kPassLease = absl::Seconds(10);
constexpr absl::Duration kRebuildLease = absl::Minutes(10);
// How long a rebuild or an explicit catch-up waits for the lease, and how often a process without
// it asks again.
constexpr absl::Duration kLeaseWait = absl::Seconds(5);
constexpr absl::Duration kLeaseRetry = absl::Milliseconds(20);

std::string NewHolder() {
  std::random_device random;
  return absl::StrCat("ledger-", getpid(), "-", absl::Hex(random()), absl::Hex(random()));
}

}  // namespace

RankingProjector::RankingProjector(pg::PgPool* pool, RankingProjection* projection,
                                   RankingProjectorOptions options)
    : pool_(pool), projection_(projection), options_(options), holder_(NewHolder()) {}

RankingProjector::~RankingProjector() { Stop(); }

void RankingProjector::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void RankingProjector::Start() {
  {
    absl::MutexLock lock(&mu_);
    nudged_ = true;  // the first pass at once: a Redis that restarted empty is rebuilt now
  }
  thread_ = std::thread([this] { Loop(); });
}

bool RankingProjector::WaitForFirstCatchUp(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return caught_up_ || failing_ || stopping_; };
  mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  return caught_up_;
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

absl::StatusOr<ProjectionRun> RankingProjector::Pass(std::optional<int64_t> watermark, bool* more) {
  const int64_t from = watermark.value_or(0);
  const absl::Time now = absl::Now();
  // Seasons and the filled list are read again when Redis starts over, when this process created
  // a season, and every kSeasonsRefresh for seasons other processes created.
  const bool reload =
      !watermark.has_value() || seasons_stale_ || now >= seasons_read_at_ + kSeasonsRefresh;
  if (!watermark.has_value()) {
    filled_.clear();
  } else if (reload) {
    ASSIGN_OR_RETURN(filled_, projection_->FilledSeasons());
  }
  std::map<std::string, std::vector<RankingChange>> changes;
  std::vector<std::string> newly_filled;
  int64_t through = from;
  // The lambda runs on this thread while pass_mu_ is held; clang's analysis checks a lambda's
  // body on its own, so it is told so.
  RETURN_IF_ERROR(pool_->WithReadConnection(
      "project rankings", [&](pqxx::connection_base& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pass_mu_) {
        changes.clear();
        newly_filled.clear();
        // Entries come in commit order (the journal lock): the rows after `from` are a complete
        // prefix of what will ever follow it, whatever snapshot each statement sees. The queries
        // are prepared once per connection and never parallel: a pass reads a few rows through an
        // index, and planning the view (2.5 ms) and starting a worker (5 ms) each time cost the
        // database more than the awards did.
        pqxx::read_transaction tx(c);
        tx.exec("SET LOCAL max_parallel_workers_per_gather = 0");
        if (reload) {
          seasons_ = ReadSeasons(tx);
          // A season new to the projection first gets the entries up to the watermark; they come
          // first in each of its rankings, as journal order wants.
          for (const SeasonRange& season : seasons_) {
            if (std::find(filled_.begin(), filled_.end(), season.season_id) != filled_.end())
              continue;
            newly_filled.push_back(season.season_id);
            if (from == 0) continue;  // the pass below applies the whole journal
            for (const pqxx::row& row :
                 pg_rows::Exec(tx, kSeasonFillSql, from, absl::ToUnixMicros(season.start),
                               absl::ToUnixMicros(season.end))) {
              const JournalChange c = ReadChange(row);
              for (const std::string& key : SeasonKeysFor(c.path, c.counts_at, {season})) {
                changes[key].push_back(c.change);
              }
            }
          }
        }
        const pqxx::result rows = pg_rows::Exec(
            tx, kChangesSql, from, static_cast<int64_t>(options_.max_entries_per_pass));
        *more = static_cast<int>(rows.size()) >= options_.max_entries_per_pass;
        if (!rows.empty()) through = rows.back()["sequence"].as<int64_t>();
        for (const pqxx::row& row : rows) {
          const JournalChange c = ReadChange(row);
          for (const std::string& key : RankingKeysFor(c.path, c.counts_at)) {
            changes[key].push_back(c.change);
          }
          for (const std::string& key : SeasonKeysFor(c.path, c.counts_at, seasons_)) {
            changes[key].push_back(c.change);
          }
        }
        return absl::OkStatus();
      }));
  if (!watermark.has_value()) RETURN_IF_ERROR(RestoreExcluded());
  ASSIGN_OR_RETURN(const int64_t applied, projection_->Apply(changes, through));
  for (const std::string& season : newly_filled) {
    RETURN_IF_ERROR(projection_->MarkSeasonFilled(season));
    filled_.push_back(season);
  }
  if (reload) {
    seasons_read_at_ = now;
    seasons_stale_ = false;
  }
  if (!watermark.has_value() || through > from) {
    // A pass that began on a whole projection only raises a watermark still there: if Redis was
    // flushed meanwhile, the next catch-up rebuilds instead of trusting these few changes.
    RETURN_IF_ERROR(
        projection_->RaiseWatermark(through, /*only_if_present=*/watermark.has_value()));
  }
  return ProjectionRun{.watermark = through, .changes = applied};
}

absl::StatusOr<std::pair<int64_t, ProjectionRun>> RankingProjector::RebuildMatching(
    const std::function<bool(const std::string&)>& matching) {
  ++rebuilds_waiting_;
  absl::Cleanup done = [this] { --rebuilds_waiting_; };
  absl::MutexLock pass(&pass_mu_);
  RETURN_IF_ERROR(TakeLeaseForRebuild());
  absl::Cleanup release = [this] { projection_->ReleaseLease(holder_).IgnoreError(); };
  // Up to the watermark, read under the lease: the regular passes apply the rest, to these
  // rankings as to the others. Nothing projected yet (or Redis flushed): the whole journal is due.
  ASSIGN_OR_RETURN(std::optional<int64_t> watermark, projection_->Watermark());
  if (!watermark.has_value()) return RebuildLocked();
  ASSIGN_OR_RETURN(const int64_t old_rankings, projection_->ClearMatching(matching));
  ASSIGN_OR_RETURN(RebuiltRankings rebuilt,
                   RebuildFromJournal(pool_, projection_, matching, *watermark));
  if (on_change_) on_change_();
  return std::make_pair(old_rankings,
                        ProjectionRun{.watermark = *watermark, .changes = rebuilt.members});
}

absl::StatusOr<std::pair<int64_t, ProjectionRun>> RankingProjector::RebuildLocked() {
  RETURN_IF_ERROR(TakeLeaseForRebuild());
  absl::Cleanup release = [this] { projection_->ReleaseLease(holder_).IgnoreError(); };
  ASSIGN_OR_RETURN(const int64_t old_rankings, projection_->Clear());
  ASSIGN_OR_RETURN(RebuiltRankings rebuilt,
                   RebuildFromJournal(
                       pool_, projection_, [](const std::string&) { return true; }, std::nullopt));
  RETURN_IF_ERROR(RestoreExcluded());
  for (const SeasonRange& season : rebuilt.seasons) {
    RETURN_IF_ERROR(projection_->MarkSeasonFilled(season.season_id));
  }
  // Last: a projection with a watermark is a whole one.
  RETURN_IF_ERROR(projection_->RaiseWatermark(rebuilt.through));
  seasons_ = rebuilt.seasons;
  filled_.clear();
  for (const SeasonRange& season : rebuilt.seasons) filled_.push_back(season.season_id);
  seasons_read_at_ = absl::Now();
  seasons_stale_ = false;
  {
    absl::MutexLock lock(&mu_);
    failing_ = false;
    applied_ = std::max(applied_, rebuilt.through);
    caught_up_ = true;
  }
  if (on_change_) on_change_();
  last_rebuild_ = std::make_pair(
      old_rankings, ProjectionRun{.watermark = rebuilt.through, .changes = rebuilt.members});
  ++rebuilds_finished_;
  return last_rebuild_;
}

void RankingProjector::SeasonsChanged() {
  absl::MutexLock pass(&pass_mu_);
  seasons_stale_ = true;
}

absl::StatusOr<ProjectionRun> RankingProjector::CatchUpLocked(bool wait_for_lease) {
  absl::StatusOr<ProjectionRun> run = ApplyUnderLease(wait_for_lease);
  absl::MutexLock lock(&mu_);
  if (!run.ok()) {
    failing_ = true;  // waiters stop waiting
  } else if (!run->lease_elsewhere || applied_ > 0) {
    caught_up_ = true;  // (another process's projection counts once it has a watermark)
  }
  return run;
}

absl::StatusOr<ProjectionRun> RankingProjector::ApplyUnderLease(bool wait_for_lease) {
  const absl::Time give_up = absl::Now() + (wait_for_lease ? kLeaseWait : absl::ZeroDuration());
  for (;;) {
    ASSIGN_OR_RETURN(const bool held, projection_->HoldLease(holder_, kPassLease));
    if (held) break;
    if (absl::Now() >= give_up) {
      // Another ledger process is applying, this process's entries with the rest: its watermark
      // answers this process's waiters.
      ASSIGN_OR_RETURN(std::optional<int64_t> watermark, projection_->Watermark());
      absl::MutexLock lock(&mu_);
      failing_ = false;
      if (watermark.has_value()) applied_ = std::max(applied_, *watermark);
      return ProjectionRun{.watermark = applied_, .lease_elsewhere = true};
    }
    absl::SleepFor(kLeaseRetry);
  }
  // Given up after each catch-up, so that the processes take turns and a rebuild gets in.
  absl::Cleanup release = [this] { projection_->ReleaseLease(holder_).IgnoreError(); };
  ASSIGN_OR_RETURN(std::optional<int64_t> watermark, projection_->Watermark());
  if (!watermark.has_value() && rebuilds_waiting_.load() == 0) {
    // Redis is new or was flushed: the aggregate writes the whole journal far faster than passes
    // replaying it would.
    log::Info("rankings rebuilt from the journal: Redis holds no projection");
    ASSIGN_OR_RETURN(auto rebuilt, RebuildLocked());
    return rebuilt.second;
  }
  ProjectionRun total;
  for (;;) {
    bool more = false;
    absl::StatusOr<ProjectionRun> done = Pass(watermark, &more);
    {
      absl::MutexLock lock(&mu_);
      failing_ = !done.ok();
      if (done.ok()) applied_ = done->watermark;
    }
    if (!done.ok()) return done.status();
    total.watermark = done->watermark;
    total.changes += done->changes;
    watermark = done->watermark;  // what the pass left in Redis, under this process's lease
    if (done->changes > 0 && on_change_) on_change_();
    // A rebuild asked for meanwhile goes first; the thread resumes from what it leaves.
    if (!more || rebuilds_waiting_.load() > 0) return total;
  }
}

absl::StatusOr<ProjectionRun> RankingProjector::CatchUp() {
  absl::MutexLock pass(&pass_mu_);
  return CatchUpLocked(/*wait_for_lease=*/true);
}

absl::Status RankingProjector::RestoreExcluded() {
  // Read from PostgreSQL now, not from a snapshot the rebuild took earlier: an exclusion or a
  // restore committed meanwhile has already written Redis, and a stale list would undo it. Read
  // again after the write until two reads agree, so one committed between read and write is in.
  std::vector<std::string> written;
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<std::string> excluded;
    RETURN_IF_ERROR(pool_->WithReadConnection("read exclusions", [&](pqxx::connection_base& c) {
      excluded.clear();
      pqxx::read_transaction tx(c);
      for (const pqxx::row& row :
           tx.exec("SELECT person_id FROM ranking_exclusions ORDER BY person_id")) {
        excluded.push_back(row[0].as<std::string>());
      }
      return absl::OkStatus();
    }));
    if (attempt > 0 && excluded == written) return absl::OkStatus();
    RETURN_IF_ERROR(projection_->ReplaceExcluded(excluded));
    written = std::move(excluded);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<int64_t, ProjectionRun>> RankingProjector::Rebuild() {
  ++rebuilds_waiting_;
  absl::Cleanup done = [this] { --rebuilds_waiting_; };
  const int64_t finished_before = rebuilds_finished_.load();
  absl::MutexLock pass(&pass_mu_);
  // One finished while this waited (the thread's, for a flushed Redis): the projection is whole
  // again, and that one's figures answer.
  if (rebuilds_finished_.load() != finished_before) return last_rebuild_;
  return RebuildLocked();
}

absl::Status RankingProjector::TakeLeaseForRebuild() {
  const absl::Time give_up = absl::Now() + kLeaseWait;
  for (;;) {
    ASSIGN_OR_RETURN(const bool held, projection_->HoldLease(holder_, kRebuildLease));
    if (held) return absl::OkStatus();
    if (absl::Now() >= give_up) {
      return absl::UnavailableError(
          "another ledger process kept the rankings' lease for 5 s; retry the rebuild");
    }
    absl::SleepFor(kLeaseRetry);
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
    absl::StatusOr<ProjectionRun> reached;
    {
      absl::MutexLock pass(&pass_mu_);
      reached = CatchUpLocked(/*wait_for_lease=*/false);
    }
    if (reached.ok() && (reached->lease_elsewhere || reached->changes > 0)) {
      // Another process applies (ask again shortly, not at every nudge), or this one just did:
      // the awards committed meanwhile go together in the next pass.
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                           reached->lease_elsewhere ? kLeaseRetry : options_.pass_interval);
      if (reached->lease_elsewhere) nudged_ = true;
    }
    if (!reached.ok() && !failed_before) {
      log::Warn("rankings fall behind the journal until Redis and PostgreSQL answer",
                {{"error", std::string(reached.status().message())}});
    } else if (reached.ok() && failed_before) {
      log::Info("rankings caught up with the journal",
                {{"sequence", absl::StrCat(reached->watermark)}});
    }
    failed_before = !reached.ok();
  }
}

}  // namespace civicpoints::ledger
