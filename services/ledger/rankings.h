// Live rankings in Redis sorted sets: the only place the ledger talks to Redis.
//
// Each ranking key (ranking_keys.h) is a sorted set "cp:rank:<key>" of person ids, with a hash
// "cp:rankv:<key>" of the version each member was written at. Writes carry absolute scores and
// versions from PostgreSQL's ranking_scores and are applied by a Lua script only when newer, so
// replays and out-of-order writes are harmless and a rebuild never double counts. Redis scores
// encode points and, below them, how early the score was reached (earlier ranks higher among equal
// points). Reads never touch PostgreSQL. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_LEDGER_RANKINGS_H_
#define CIVICPOINTS_SERVICES_LEDGER_RANKINGS_H_

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

// One rider's authoritative score in one ranking, as PostgreSQL holds it.
struct RankingScore {
  std::string ranking_key;
  std::string person_id;
  int64_t score = 0;  // 0 removes the rider from the ranking
  absl::Time reached_at;
  int64_t version = 0;
};

struct RankedRider {
  std::string person_id;
  int64_t points = 0;
  int64_t rank = 0;  // 1-based
};

// Redis score for points reached at a time: points above, lateness below. Exact while points are
// under 2^23 (8,388,607); above that ties fall back to person-id order.
double EncodeRankingScore(int64_t points, absl::Time reached_at);
int64_t DecodeRankingPoints(double score);

class Rankings {
 public:
  // `redis` must outlive this object.
  explicit Rankings(redis::RedisClient* redis) : redis_(redis) {}

  // Writes scores that are newer than what Redis holds, in pipelined round trips. Errors:
  // UNAVAILABLE when Redis cannot be reached (the reconciler repairs later).
  absl::Status Apply(const std::vector<RankingScore>& scores);

  // Removes a rider from the given rankings (exclusion). Errors as Apply.
  absl::Status Remove(const std::string& person_id, const std::vector<std::string>& ranking_keys);

  // The first `n` riders of a ranking, best first; `total` (if given) gets how many it holds,
  // read in the same round trip.
  absl::StatusOr<std::vector<RankedRider>> Top(const std::string& ranking_key, int64_t n,
                                               int64_t* total = nullptr);
  // The riders at 0-based places start..stop (inclusive), best first; `total` as in Top.
  absl::StatusOr<std::vector<RankedRider>> Range(const std::string& ranking_key, int64_t start,
                                                 int64_t stop, int64_t* total);
  // A rider's place, or nullopt when the rider has no points in the ranking.
  absl::StatusOr<std::optional<RankedRider>> RankOf(const std::string& ranking_key,
                                                    const std::string& person_id);
  // Up to `above` riders ranked just above the rider, the rider, and up to `below` just below.
  // Empty when the rider is not ranked.
  absl::StatusOr<std::vector<RankedRider>> Around(const std::string& ranking_key,
                                                  const std::string& person_id, int64_t above,
                                                  int64_t below);
  // How many riders the ranking holds.
  absl::StatusOr<int64_t> Count(const std::string& ranking_key);

  // The set of riders excluded from rankings, so reads can say why a rider is unranked.
  absl::Status SetExcluded(const std::string& person_id, bool excluded);
  absl::Status ReplaceExcluded(const std::vector<std::string>& person_ids);
  absl::StatusOr<bool> IsExcluded(const std::string& person_id);

  // The marker the reconciler sets after a full rebuild; its absence means Redis lost its data.
  absl::StatusOr<bool> HasRebuildMarker();
  absl::Status SetRebuildMarker();

 private:
  // The SHA1 Redis knows the write script by, loaded on first use.
  absl::StatusOr<std::string> ApplyScriptSha();

  redis::RedisClient* const redis_;
  absl::Mutex sha_mu_;
  std::string apply_sha_ ABSL_GUARDED_BY(sha_mu_);
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_RANKINGS_H_
