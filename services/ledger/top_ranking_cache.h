// TopRankingCache: the answers of top-N ranking reads, kept for a short time, with one Redis read
// for all callers that ask the same question at once.
//
// On an exchange day thousands of phones open the same leaderboard; each read costing a Redis
// round trip made Redis and the ledger's connection pool the bottleneck, not the answer. An entry
// lives at most `ttl` and is dropped as soon as this process writes rankings (Invalidate), so a
// replica reads its own writes; a write through another replica shows within `ttl`. A zero `ttl`
// turns the cache off: every read goes to Redis. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_LEDGER_TOP_RANKING_CACHE_H_
#define CIVICPOINTS_SERVICES_LEDGER_TOP_RANKING_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/ledger/ranking_projection.h"

namespace civicpoints::ledger {

// One top-N read: the riders, best first, and how many the ranking holds.
struct TopRead {
  std::vector<RankingPlace> riders;
  int64_t total = 0;
};

class TopRankingCache {
 public:
  explicit TopRankingCache(absl::Duration ttl) : ttl_(ttl) {}

  // The cached answer for `question` if it is fresh; otherwise runs `load` once for every caller
  // waiting on the same question and caches its answer (errors are not cached).
  absl::StatusOr<std::shared_ptr<const TopRead>> Get(
      const std::string& question, absl::FunctionRef<absl::StatusOr<TopRead>()> load);

  // Forgets every answer: called after this process changed a ranking.
  void Invalidate();

  // Redis reads made through Get, for tests and metrics.
  int64_t loads() const;

 private:
  struct Entry {
    std::shared_ptr<const TopRead> answer;
    absl::Time loaded_at;
    uint64_t generation = 0;
    bool loading = false;
  };
  bool Fresh(const Entry& e, absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration ttl_;
  mutable absl::Mutex mu_;
  absl::CondVar loaded_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t loads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_TOP_RANKING_CACHE_H_
