#include "services/gateway/rate_limiter.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace civicpoints::gateway {

std::optional<absl::Duration> RateLimiter::Take(absl::string_view key, absl::Time now) {
  if (limit_.per_second <= 0) return std::nullopt;
  Shard& shard = shards_[absl::Hash<absl::string_view>()(key) % kShards];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_buckets_per_shard_) {
      // Forget buckets that are full again: their callers are as if new.
      const absl::Duration refill = absl::Seconds(limit_.burst / limit_.per_second);
      absl::erase_if(shard.buckets,
                     [&](const auto& entry) { return now - entry.second.updated >= refill; });
    }
    it = shard.buckets.emplace(std::string(key), Bucket{limit_.burst, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - b.updated));
  b.tokens = std::min(limit_.burst, b.tokens + elapsed * limit_.per_second);
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  return absl::Seconds((1 - b.tokens) / limit_.per_second);
}

}  // namespace civicpoints::gateway
