// Rankings as a projection of the journal, in Redis (docs/design/ledger-projection.md).
//
// A ranking (ranking_keys.h) is three Redis keys under one hash tag, so every script touches one
// cluster slot: a sorted set of riders, a hash of each rider's running sum with the journal
// sequence and time of the entry that last raised it, and the ranking's watermark, the last journal
// sequence applied to it. Changes carry their sequence and a script applies only those above the
// watermark, so applying the same changes twice, or from two processes, changes nothing. A global
// watermark says how far the whole journal is applied; its absence means Redis holds no
// projection (new, or flushed).
//
// A rider's points in a ranking are the sum of the changes, shown while above zero. Equal points go
// to whoever reached them first by journal order: the Redis score is points × 2^30 plus the
// complement of the reaching sequence, exact while points stay under 2^23 (8,388,608) and
// sequences under 2^30 (1,073,741,824); beyond, ties fall back to Redis's member order. Riders
// excluded from rankings stay in the projection and are skipped by every read, so excluding or
// restoring one is one set write. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_LEDGER_RANKING_PROJECTION_H_
#define CIVICPOINTS_SERVICES_LEDGER_RANKING_PROJECTION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace civicpoints::redis {
class RedisClient;
}

namespace civicpoints::ledger {

// One journal entry's change to one rider's points in one ranking.
struct RankingChange {
  std::string person_id;
  int64_t delta = 0;     // a raise (award) or a fall (reversal, deduction)
  int64_t sequence = 0;  // the entry's journal sequence
  absl::Time time;       // the entry's time, shown as when a raise reached its score
};

// One rider's total in one ranking, as a rebuild computes it from the journal: the sum of the
// changes and the last raise (its sequence and time; 0 when none raised).
struct RankingTotal {
  std::string person_id;
  int64_t sum = 0;
  int64_t reach_sequence = 0;
  absl::Time reach_time = absl::UnixEpoch();
};

// One rider's place in a ranking.
struct RankingPlace {
  std::string person_id;
  int64_t points = 0;
  int64_t rank = 0;            // 1-based, among riders not excluded
  int64_t reach_sequence = 0;  // the entry that brought the rider to these points
  absl::Time reach_time;
};

class RankingProjection {
 public:
  // `redis` must outlive this object.
  explicit RankingProjection(redis::RedisClient* redis) : redis_(redis) {}

  // Applies each ranking's changes (in journal order) above its watermark and raises the
  // ranking's watermark to `through`, every ranking in one round trip per few hundred. Errors:
  // UNAVAILABLE when Redis cannot be reached (nothing is lost: the caller applies again from its
  // global watermark); INTERNAL when Redis refuses a script.
  // Returns how many changes counted (those not applied before).
  absl::StatusOr<int64_t> Apply(const std::map<std::string, std::vector<RankingChange>>& changes,
                                int64_t through);

  // Writes totals as they are (not added to what a ranking holds: for rankings just cleared) and
  // sets each named ranking's watermark to `through`, in pipelined multi-member commands. Errors
  // as Apply.
  absl::Status WriteTotals(const std::map<std::string, std::vector<RankingTotal>>& totals,
                           int64_t through);

  // How far the whole journal is applied; nullopt when Redis holds no projection.
  absl::StatusOr<std::optional<int64_t>> Watermark();
  // Raises the global watermark to `sequence` (never lowers it). With `only_if_present`, a
  // watermark that is not there stays away: a pass that began on a projection Redis has since
  // lost (FLUSHALL) must not make its few changes look like the whole journal; the next catch-up
  // then finds no watermark and rebuilds.
  absl::Status RaiseWatermark(int64_t sequence, bool only_if_present = false);

  // Riders at 0-based places start .. start+count-1, best first; `total` (if given) gets how many
  // riders the ranking holds, both counting only riders not excluded.
  absl::StatusOr<std::vector<RankingPlace>> Range(const std::string& ranking_key, int64_t start,
                                                  int64_t count, int64_t* total = nullptr);
  // A rider's place, or nullopt when the rider has no points there or is excluded.
  absl::StatusOr<std::optional<RankingPlace>> PlaceOf(const std::string& ranking_key,
                                                      const std::string& person_id);
  // Up to `above` riders just above the rider, the rider and up to `below` just below; empty when
  // the rider is not ranked.
  absl::StatusOr<std::vector<RankingPlace>> Around(const std::string& ranking_key,
                                                   const std::string& person_id, int64_t above,
                                                   int64_t below);

  // How many riders the ranking holds, not counting excluded ones.
  absl::StatusOr<int64_t> Count(const std::string& ranking_key);

  // The projection's lease: one applier at a time among the ledger processes sharing this Redis
  // (RankingProjector takes it for each pass and each rebuild). Hold renews it for `ttl` if
  // `holder` has it or nobody does, and says whether `holder` has it now; the ttl bounds how long
  // a holder that died keeps others out. Release gives it up if `holder` has it.
  absl::StatusOr<bool> HoldLease(const std::string& holder, absl::Duration ttl);
  absl::Status ReleaseLease(const std::string& holder);

  // Seasons whose rankings were filled from the journal before them (RankingProjector).
  absl::StatusOr<std::vector<std::string>> FilledSeasons();
  absl::Status MarkSeasonFilled(const std::string& season_id);

  // Deletes the whole projection (every ranking, the global watermark and the filled seasons; the
  // exclusion list stays) and returns how many rankings it held.
  absl::StatusOr<int64_t> Clear();
  // Deletes the rankings whose key `matching` accepts (their sums and watermarks with them) and
  // returns how many there were.
  absl::StatusOr<int64_t> ClearMatching(const std::function<bool(const std::string&)>& matching);

  // The riders excluded from every ranking. Reads keep the set up to a second (one Redis round
  // trip less per ranking read); this object's own writes drop it at once, another process's
  // show within that second.
  absl::Status SetExcluded(const std::string& person_id, bool excluded);
  absl::Status ReplaceExcluded(const std::vector<std::string>& person_ids);
  absl::StatusOr<std::vector<std::string>> Excluded();

 private:
  void ForgetExcluded();

  redis::RedisClient* const redis_;
  absl::Mutex excluded_mu_;
  std::vector<std::string> excluded_ ABSL_GUARDED_BY(excluded_mu_);
  absl::Time excluded_read_at_ ABSL_GUARDED_BY(excluded_mu_) = absl::InfinitePast();
  int64_t excluded_version_ ABSL_GUARDED_BY(excluded_mu_) = 0;  // bumped by every write
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_RANKING_PROJECTION_H_
