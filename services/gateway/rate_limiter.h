// RateLimiter: token buckets by key (a principal, or a client address for calls without
// credentials). Each bucket holds up to `burst` tokens and refills at `per_second`; a call takes
// one. Buckets that have refilled completely are forgotten when a shard grows large, so memory
// follows the number of recently active callers. Thread-safe (sharded locks).
//
//   RateLimiter limiter({.per_second = 50, .burst = 100});
//   if (std::optional<absl::Duration> wait = limiter.Take("p:" + subject, absl::Now())) {
//     ... RESOURCE_EXHAUSTED, retry after *wait
//   }
#ifndef CIVICPOINTS_SERVICES_GATEWAY_RATE_LIMITER_H_
#define CIVICPOINTS_SERVICES_GATEWAY_RATE_LIMITER_H_

#include <array>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace civicpoints::gateway {

struct RateLimit {
  double per_second = 50;
  double burst = 100;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit, size_t max_buckets_per_shard = 4096)
      : limit_(limit), max_buckets_per_shard_(max_buckets_per_shard) {}

  // Takes a token from `key`'s bucket. Returns nullopt when the call may go ahead, else how long
  // until a token is there. A limit with per_second <= 0 lets everything through.
  std::optional<absl::Duration> Take(absl::string_view key, absl::Time now);

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, Bucket> buckets ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;

  const RateLimit limit_;
  const size_t max_buckets_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_RATE_LIMITER_H_
