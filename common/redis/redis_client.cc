#include "common/redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log/log.h"

namespace civicpoints::redis {
namespace {

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

// True when the server closed an idle connection (readable or hung up with nothing asked).
bool PeerClosed(const redisContext* c) {
  pollfd p{c->fd, POLLIN, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

absl::Status IoError(const redisContext* c) {
  if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == ETIMEDOUT)) {
    return absl::DeadlineExceededError("Redis did not answer in time");
  }
  return absl::UnavailableError(absl::StrCat("Redis connection failed: ", c->errstr));
}

}  // namespace

struct RedisClient::Conn {
  ContextPtr ctx;
};

absl::Status ParseRedisAddress(const std::string& address, RedisOptions* options) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("Redis address '", address, "' is not host:port"));
  }
  options->host = address.substr(0, colon);
  options->port = port;
  return absl::OkStatus();
}

namespace {

absl::StatusOr<ContextPtr> Open(const RedisOptions& o) {
  timeval tv = absl::ToTimeval(o.connect_timeout);
  ContextPtr ctx(redisConnectWithTimeout(o.host.c_str(), o.port, tv));
  if (ctx == nullptr) return absl::ResourceExhaustedError("cannot allocate a Redis context");
  if (ctx->err != 0) {
    return absl::UnavailableError(
        absl::StrCat("Redis at ", o.host, ":", o.port, " unreachable: ", ctx->errstr));
  }
  timeval ctv = absl::ToTimeval(o.command_timeout);
  redisSetTimeout(ctx.get(), ctv);
  return ctx;
}

}  // namespace

RedisClient::RedisClient(RedisOptions options) : options_(std::move(options)) {}
RedisClient::~RedisClient() = default;

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Connect(RedisOptions options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("Redis pool size must be at least 1, got ", options.pool_size));
  }
  std::unique_ptr<RedisClient> client(new RedisClient(options));
  {
    absl::MutexLock lock(&client->mu_);
    for (int i = 0; i < options.pool_size; ++i) {
      client->conns_.push_back(std::make_unique<Conn>());
      client->free_.push_back(client->conns_.back().get());
    }
  }
  const absl::Time deadline = absl::Now() + options.startup_timeout;
  absl::Duration backoff = absl::Milliseconds(100);
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<RedisReply> pong = client->Command({"PING"});
    if (pong.ok()) return client;
    if (absl::Now() + backoff > deadline) {
      return absl::UnavailableError(absl::StrCat(
          "Redis at ", options.host, ":", options.port, " unreachable after ",
          absl::FormatDuration(options.startup_timeout), ": ", pong.status().message()));
    }
    log::Warn("Redis not reachable yet, retrying",
              {{"attempt", attempt}, {"error", std::string(pong.status().message())}});
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

absl::StatusOr<RedisClient::Conn*> RedisClient::Acquire() {
  Conn* conn = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto has_free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !free_.empty(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&has_free), options_.command_timeout)) {
      return absl::ResourceExhaustedError("no Redis connection free in time");
    }
    conn = free_.back();
    free_.pop_back();
  }
  if (conn->ctx != nullptr && (conn->ctx->err != 0 || PeerClosed(conn->ctx.get()))) {
    conn->ctx.reset();
  }
  if (conn->ctx == nullptr) {
    absl::StatusOr<ContextPtr> ctx = Open(options_);
    if (!ctx.ok()) {
      Release(conn);
      return ctx.status();
    }
    conn->ctx = *std::move(ctx);
  }
  return conn;
}

void RedisClient::Release(Conn* conn) {
  absl::MutexLock lock(&mu_);
  free_.push_back(conn);
}

absl::StatusOr<std::vector<RedisReply>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  for (const auto& args : commands) {
    if (args.empty()) return absl::InvalidArgumentError("empty Redis command");
  }
  absl::StatusOr<Conn*> acquired = Acquire();
  if (!acquired.ok()) return acquired.status();
  Conn* conn = *acquired;
  redisContext* c = conn->ctx.get();
  std::vector<RedisReply> replies;
  absl::Status failure;
  for (const auto& args : commands) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data()) !=
        REDIS_OK) {
      failure = IoError(c);
      break;
    }
  }
  for (size_t i = 0; failure.ok() && i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
      failure = IoError(c);
      break;
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    replies.push_back(Convert(reply.get()));
  }
  if (!failure.ok()) {
    // Replies may be half-read; the connection cannot be trusted for the next caller.
    conn->ctx.reset();
    Release(conn);
    return failure;
  }
  Release(conn);
  return replies;
}

absl::StatusOr<RedisReply> RedisClient::Command(const std::vector<std::string>& args) {
  absl::StatusOr<std::vector<RedisReply>> replies = Pipeline({args});
  if (!replies.ok()) return replies.status();
  RedisReply reply = std::move(replies->front());
  if (reply.type == RedisReply::Type::kError) {
    return absl::FailedPreconditionError(absl::StrCat("Redis refused ", args[0], ": ", reply.str));
  }
  return reply;
}

}  // namespace civicpoints::redis
