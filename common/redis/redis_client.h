// A Redis client over hiredis with a small connection pool, reconnect and pipelining.
//
// Replies are copied into RedisReply values, so no hiredis type leaves this file's .cc. A
// connection the server closed (Redis restarted) is noticed before it is used and replaced; a
// command that fails mid-flight returns UNAVAILABLE and its connection is replaced on the next
// call. Commands are not resent automatically: a write may have landed before the connection
// dropped, so callers retry only commands that are safe to repeat (ZADD GT with absolute scores
// is). Thread-safe.
//
//   ASSIGN_OR_RETURN(auto redis, RedisClient::Connect({.host = "127.0.0.1", .port = 6379}));
//   ASSIGN_OR_RETURN(RedisReply r, redis->Command({"ZSCORE", key, member}));
//   ASSIGN_OR_RETURN(auto replies, redis->Pipeline({{"ZADD", key, "GT", "5", m}, {"ZRANK", key,
//   m}}));
#ifndef CIVICPOINTS_COMMON_REDIS_REDIS_CLIENT_H_
#define CIVICPOINTS_COMMON_REDIS_REDIS_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace civicpoints::redis {

// One reply. Error replies (e.g. WRONGTYPE) are values here, not failures, so a pipeline returns
// every reply; Command() turns a top-level error reply into a status.
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;  // kString, kStatus, kError
  std::vector<RedisReply> elements;

  bool is_nil() const { return type == Type::kNil; }
};

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int pool_size = 4;
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration command_timeout = absl::Seconds(2);
  // How long Connect() keeps retrying an unreachable server.
  absl::Duration startup_timeout = absl::Seconds(30);
};

// Parses "host:port" into options.host/port. Errors: INVALID_ARGUMENT naming the text.
absl::Status ParseRedisAddress(const std::string& address, RedisOptions* options);

class RedisClient {
 public:
  // Connects one connection (retrying with backoff until startup_timeout) and checks it with PING.
  // Errors: INVALID_ARGUMENT for a bad pool size; UNAVAILABLE when the server stays unreachable.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Connect(RedisOptions options);

  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends one command and returns its reply. Errors: INVALID_ARGUMENT for an empty command;
  // FAILED_PRECONDITION carrying the server's message for an error reply; UNAVAILABLE when the
  // server cannot be reached or the connection drops; DEADLINE_EXCEEDED on command_timeout.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& args);

  // Sends all commands in one round trip and returns their replies in order (error replies
  // included as values). Errors as Command, for the connection as a whole.
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

 private:
  struct Conn;
  explicit RedisClient(RedisOptions options);
  absl::StatusOr<Conn*> Acquire();
  void Release(Conn* conn);

  const RedisOptions options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Conn>> conns_ ABSL_GUARDED_BY(mu_);
  std::vector<Conn*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace civicpoints::redis

#endif  // CIVICPOINTS_COMMON_REDIS_REDIS_CLIENT_H_
