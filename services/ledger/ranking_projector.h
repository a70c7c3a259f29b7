// RankingProjector: keeps the Redis projection (ranking_projection.h) up with the journal. It reads
// the entries after the projection's watermark, in journal order, turns each one that moves a
// rider's earned points into changes to the rankings it counts in (its scope × all time, month and
// ISO week, and the seasons holding it), applies them and raises the watermark. Reading "every
// entry after N" is complete because entries are appended in commit order (the journal lock,
// docs/design/ledger-projection.md).
//
// Where an entry counts: an award at its own org path and time; a reversal at the reversed award's;
// a deduction at its own path, or the account's for deductions stored without one.
//
// A season created after entries in its range were applied is filled from the journal up to the
// watermark, once (Redis remembers the filled seasons).
//
// Several ledger processes may share a Redis: each pass and each rebuild holds the projection's
// lease (RankingProjection::HoldLease), given up after it, so one applies at a time and they take
// turns; a process without the lease answers its waiters from the global watermark the holder
// raises.
//
// One thread applies, woken by Nudge() after a commit or every `idle_poll`; a Redis or PostgreSQL
// failure is retried after `retry`, nothing lost (the watermark has not moved). A Redis without a
// projection (new or flushed) gets the exclusion list back from PostgreSQL and the whole journal
// by one aggregate (ranking_rebuild.h), not by replaying it pass by pass. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_LEDGER_RANKING_PROJECTOR_H_
#define CIVICPOINTS_SERVICES_LEDGER_RANKING_PROJECTOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/ledger/ranking_keys.h"
#include "services/ledger/ranking_projection.h"

namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::ledger {

struct RankingProjectorOptions {
  absl::Duration idle_poll = absl::Seconds(1);
  absl::Duration retry = absl::Milliseconds(500);
  int max_entries_per_pass = 5000;
  // The thread's passes come at most this often: under load a pass then carries many awards, each
  // ranking one script call for all of them, instead of a pass (a query and twelve calls) per
  // award. A ranking read after one's own award waits up to this much longer.
  absl::Duration pass_interval = absl::Milliseconds(5);
};

// What a catch-up did.
struct ProjectionRun {
  int64_t watermark = 0;  // the journal is applied through this sequence
  int64_t changes = 0;    // changes that counted (not applied before)
  // Another ledger process held the projection's lease and applies for everyone; `watermark` is
  // how far it has come.
  bool lease_elsewhere = false;
};

class RankingProjector {
 public:
  // `pool` (the ledger's schema) and `projection` must outlive the projector.
  RankingProjector(pg::PgPool* pool, RankingProjection* projection,
                   RankingProjectorOptions options = {});
  ~RankingProjector();  // stops the thread

  // Runs after every pass that changed a ranking (e.g. to drop cached reads). Set before Start().
  void OnChange(std::function<void()> on_change) { on_change_ = std::move(on_change); }

  void Start();
  // Stops the thread (waiting for a pass in progress); idempotent. Whoever set OnChange stops the
  // projector before what the callback touches goes away.
  void Stop();

  // Applies everything committed so far, on the caller's thread (waiting up to 5 s for another
  // process's pass to end). Errors: UNAVAILABLE when PostgreSQL or Redis cannot be reached.
  absl::StatusOr<ProjectionRun> CatchUp();
  // Deletes the projection and writes it again from the journal's totals (ranking_rebuild.h);
  // returns how many rankings the old projection held and, as `changes`, the riders written.
  absl::StatusOr<std::pair<int64_t, ProjectionRun>> Rebuild();
  // The same for the rankings whose key `matching` accepts, from the journal up to the watermark
  // (the regular passes go on from there); returns how many rankings were deleted and the riders
  // written.
  absl::StatusOr<std::pair<int64_t, ProjectionRun>> RebuildMatching(
      const std::function<bool(const std::string&)>& matching);

  // This process created a season: the next pass reads the seasons again (others' seasons are
  // read every few seconds).
  void SeasonsChanged();

  // Wakes the thread: something was committed.
  void Nudge();
  // Waits until the projection holds the journal through `sequence`; false after `timeout`, or at
  // once while the last pass failed (Redis down: callers do not wait for what cannot come).
  bool WaitFor(int64_t sequence, absl::Duration timeout);

  // The watermark this process last reached (0 before its first pass).
  int64_t applied() const;

  // Waits until this projector's first catch-up (or rebuild) is done, so a read right after the
  // process started does not find the rankings still missing; false after `timeout`, or at once
  // while the last pass failed.
  bool WaitForFirstCatchUp(absl::Duration timeout);

 private:
  // One pass from `watermark` (the global one, read under the lease; nullopt: Redis holds no
  // projection): at most max_entries_per_pass entries. Sets `more` when entries remain.
  absl::StatusOr<ProjectionRun> Pass(std::optional<int64_t> watermark, bool* more)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(pass_mu_);
  // Applies what is due if this process gets the lease (waiting up to 5 s for it when asked);
  // otherwise answers from the holder's watermark. Sets `failing_` on an error.
  absl::StatusOr<ProjectionRun> CatchUpLocked(bool wait_for_lease)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(pass_mu_);
  absl::StatusOr<ProjectionRun> ApplyUnderLease(bool wait_for_lease)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(pass_mu_);
  void Loop();
  absl::StatusOr<std::pair<int64_t, ProjectionRun>> RebuildLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(pass_mu_);
  // Puts the exclusion list from PostgreSQL back into a Redis that lost it.
  absl::Status RestoreExcluded();
  // Waits (at most 5 s) for the projection's lease. Errors: UNAVAILABLE.
  absl::Status TakeLeaseForRebuild() ABSL_EXCLUSIVE_LOCKS_REQUIRED(pass_mu_);

  pg::PgPool* const pool_;
  RankingProjection* const projection_;
  const RankingProjectorOptions options_;
  const std::string holder_;                   // this projector's name on the lease
  std::atomic<int> rebuilds_waiting_{0};       // asked for, not begun: passes make way
  std::atomic<int64_t> rebuilds_finished_{0};  // whole rebuilds done
  std::pair<int64_t, ProjectionRun> last_rebuild_ ABSL_GUARDED_BY(pass_mu_);
  std::function<void()> on_change_;
  absl::Mutex pass_mu_;  // one pass at a time (the thread, CatchUp)
  std::vector<SeasonRange> seasons_ ABSL_GUARDED_BY(pass_mu_);
  std::vector<std::string> filled_ ABSL_GUARDED_BY(pass_mu_);  // seasons filled (Redis's list)
  absl::Time seasons_read_at_ ABSL_GUARDED_BY(pass_mu_) = absl::InfinitePast();
  bool seasons_stale_ ABSL_GUARDED_BY(pass_mu_) = true;
  mutable absl::Mutex mu_;
  int64_t applied_ ABSL_GUARDED_BY(mu_) = 0;
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
  bool nudged_ ABSL_GUARDED_BY(mu_) = false;
  bool caught_up_ ABSL_GUARDED_BY(mu_) = false;  // a catch-up or rebuild has completed
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_RANKING_PROJECTOR_H_
