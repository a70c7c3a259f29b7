// A Lua script that runs in Redis by its SHA1 (EVALSHA), loaded on first use. A Redis that
// restarted since has forgotten it: the calls it answers NOSCRIPT did not run, and only those are
// sent again with the script's text, so a call never runs twice. Thread-safe.
//
//   static RedisScript* const kBump = new RedisScript("return redis.call('INCRBY', KEYS[1],
//   ARGV[1])"); ASSIGN_OR_RETURN(auto replies, kBump->Run(redis, {{{"counter"}, {"5"}}}));
#ifndef CIVICPOINTS_COMMON_REDIS_REDIS_SCRIPT_H_
#define CIVICPOINTS_COMMON_REDIS_REDIS_SCRIPT_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/redis/redis_client.h"

namespace civicpoints::redis {

class RedisScript {
 public:
  struct Call {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };

  explicit RedisScript(std::string text) : text_(std::move(text)) {}

  // Runs the script once per call, in one pipelined round trip (two when Redis had forgotten it),
  // and returns the replies in order; a script's error is a reply of type kError. Errors:
  // UNAVAILABLE / DEADLINE_EXCEEDED from the connection, as RedisClient::Pipeline.
  absl::StatusOr<std::vector<RedisReply>> Run(RedisClient* redis, const std::vector<Call>& calls);

 private:
  absl::StatusOr<std::string> Sha(RedisClient* redis);

  const std::string text_;
  absl::Mutex mu_;
  std::string sha_ ABSL_GUARDED_BY(mu_);
};

}  // namespace civicpoints::redis

#endif  // CIVICPOINTS_COMMON_REDIS_REDIS_SCRIPT_H_
