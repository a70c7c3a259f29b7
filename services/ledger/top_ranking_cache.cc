#include "services/ledger/top_ranking_cache.h"

#include <utility>

#include "absl/time/clock.h"

namespace civicpoints::ledger {
namespace {

// Questions kept at most; past this, stale answers are swept before a new one is added. Top-N
// questions are few (scope × period × N), so this bounds memory against odd callers only.
constexpr size_t kMaxEntries = 10000;

}  // namespace

bool TopRankingCache::Fresh(const Entry& e, absl::Time now) const {
  return e.answer != nullptr && e.generation == generation_ && now - e.loaded_at < ttl_;
}

absl::StatusOr<std::shared_ptr<const TopRead>> TopRankingCache::Get(
    const std::string& question, absl::FunctionRef<absl::StatusOr<TopRead>()> load) {
  if (ttl_ <= absl::ZeroDuration()) {
    {
      absl::MutexLock lock(&mu_);
      ++loads_;
    }
    absl::StatusOr<TopRead> read = load();
    if (!read.ok()) return read.status();
    return std::make_shared<const TopRead>(*std::move(read));
  }

  absl::MutexLock lock(&mu_);
  while (true) {
    auto it = entries_.find(question);
    if (it != entries_.end() && Fresh(it->second, absl::Now())) return it->second.answer;
    if (it == entries_.end() || !it->second.loading) break;
    loaded_.Wait(&mu_);  // another caller is reading the same; share its answer
  }
  if (entries_.size() >= kMaxEntries) {
    const absl::Time now = absl::Now();
    // A loop rather than erase_if with a lambda: clang's analysis checks a lambda's body without
    // the lock its caller holds.
    for (auto it = entries_.begin(); it != entries_.end();) {
      auto stale = it++;
      if (!stale->second.loading && !Fresh(stale->second, now)) entries_.erase(stale);
    }
  }
  entries_[question].loading = true;
  const uint64_t generation = generation_;
  ++loads_;

  mu_.Unlock();
  absl::StatusOr<TopRead> read = load();
  const absl::Time loaded_at = absl::Now();
  mu_.Lock();

  Entry& entry = entries_[question];
  entry.loading = false;
  loaded_.SignalAll();
  if (!read.ok()) return read.status();  // waiters find no answer and read Redis themselves
  auto answer = std::make_shared<const TopRead>(*std::move(read));
  // An answer read across an Invalidate may predate the write: hand it to this caller, whose
  // read began before the write, but keep it for nobody else.
  entry.answer = answer;
  entry.loaded_at = loaded_at;
  entry.generation = generation;
  return answer;
}

void TopRankingCache::Invalidate() {
  absl::MutexLock lock(&mu_);
  ++generation_;
}

int64_t TopRankingCache::loads() const {
  absl::MutexLock lock(&mu_);
  return loads_;
}

}  // namespace civicpoints::ledger
