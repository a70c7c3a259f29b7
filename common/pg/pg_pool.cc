#include "common/pg/pg_pool.h"

#include <libpq-fe.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <regex>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/pg/pg_errors.h"

namespace civicpoints::pg {

struct PgPool::Slot {
  Connection conn;
};

std::string RedactUrl(const std::string& url) {
  // postgresql://user:secret@host → postgresql://user:****@host; password=secret → password=****
  // Greedy up to the last '@', so a password that itself holds '@' is hidden whole.
  static const std::regex kUriPassword(R"(^(\w+://[^:/@]*:).*@)");
  static const std::regex kKeywordPassword(R"((password\s*=\s*)\S+)");
  std::string out = std::regex_replace(url, kUriPassword, "$1****@");
  return std::regex_replace(out, kKeywordPassword, "$1****");
}

namespace {

absl::Status CheckUrl(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &error);
  if (parsed == nullptr) {
    std::string reason = error != nullptr ? error : "cannot parse";
    PQfreemem(error);
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    // libpq quotes the URL back in some messages; never let its password through.
    for (size_t at = reason.find(url); at != std::string::npos; at = reason.find(url, at)) {
      reason.replace(at, url.size(), RedactUrl(url));
      at += RedactUrl(url).size();
    }
    return absl::InvalidArgumentError(
        absl::StrCat("PostgreSQL URL '", RedactUrl(url), "' is malformed: ", reason));
  }
  PQconninfoFree(parsed);
  return absl::OkStatus();
}

// Quotes a value for a libpq keyword/value connection string.
std::string QuoteConnValue(absl::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

std::string WithNetworkDefaults(const std::string& url) {
  // A peer that vanishes (a host powered off, a partition) sends no RST: without these a
  // connection waits on it for the kernel's two hours, holding a pool slot and its caller.
  static constexpr std::pair<const char*, const char*> kDefaults[] = {
      {"keepalives", "1"},       {"keepalives_idle", "30"},     {"keepalives_interval", "10"},
      {"keepalives_count", "3"}, {"tcp_user_timeout", "30000"},
  };
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), nullptr);
  if (parsed == nullptr) return url;  // CheckUrl reports it
  std::string out;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    const char* value = o->val;
    if (value == nullptr) {
      for (const auto& [key, fallback] : kDefaults) {
        if (std::string_view(o->keyword) == key) value = fallback;
      }
    }
    if (value == nullptr) continue;
    absl::StrAppend(&out, out.empty() ? "" : " ", o->keyword, "=", QuoteConnValue(value));
  }
  PQconninfoFree(parsed);
  return out;
}

namespace {

void PrepareSession(pqxx::connection_base& conn, const std::string& schema,
                    absl::Duration statement_timeout) {
  pqxx::nontransaction tx(conn);
  if (!schema.empty()) tx.exec("SET search_path TO " + tx.quote_name(schema) + ", public");
  tx.exec("SET statement_timeout = " +
          tx.quote(absl::StrCat(absl::ToInt64Milliseconds(statement_timeout), "ms")));
  tx.exec("SET TIME ZONE 'UTC'");
}

}  // namespace

void ConnectionDeleter::operator()(pqxx::connection_base* conn) const {
  delete static_cast<pqxx::connection*>(conn);
}

absl::StatusOr<Connection> ConnectWithRetry(const std::string& url, const std::string& schema,
                                            absl::Duration statement_timeout,
                                            absl::Duration timeout) {
  if (absl::Status s = CheckUrl(url); !s.ok()) return s;
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(100);
  std::string last_error;
  for (int attempt = 1;; ++attempt) {
    try {
      auto conn = std::make_unique<pqxx::connection>(WithNetworkDefaults(url));
      PrepareSession(*conn, schema, statement_timeout);
      if (attempt > 1) log::Info("database reachable", {{"attempts", attempt}});
      return Connection(conn.release());
    } catch (const std::exception& e) {
      last_error = e.what();
      while (!last_error.empty() && last_error.back() == '\n') last_error.pop_back();
    }
    if (absl::Now() + backoff > deadline) break;
    log::Warn("database not reachable yet, retrying",
              {{"url", RedactUrl(url)},
               {"attempt", attempt},
               {"error", last_error},
               {"retry_in_ms", absl::ToInt64Milliseconds(backoff)}});
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
  return absl::UnavailableError(absl::StrCat("PostgreSQL at '", RedactUrl(url),
                                             "' unreachable after ", absl::FormatDuration(timeout),
                                             ": ", last_error));
}

PgPool::PgPool(PgOptions options) : options_(std::move(options)) {}

PgPool::~PgPool() = default;

absl::StatusOr<std::unique_ptr<PgPool>> PgPool::Connect(PgOptions options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("pool size must be at least 1, got ", options.pool_size));
  }
  auto first = ConnectWithRetry(options.url, options.schema, options.statement_timeout,
                                options.connect_timeout);
  if (!first.ok()) return first.status();
  std::unique_ptr<PgPool> pool(new PgPool(std::move(options)));
  absl::MutexLock lock(&pool->mu_);
  for (int i = 0; i < pool->options_.pool_size; ++i) {
    auto slot = std::make_unique<Slot>();
    if (i == 0) slot->conn = *std::move(first);
    pool->free_.push_back(slot.get());
    pool->slots_.push_back(std::move(slot));
  }
  return pool;
}

absl::StatusOr<PgPool::Slot*> PgPool::Acquire() {
  Slot* slot = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto has_free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !free_.empty(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&has_free), options_.acquire_timeout)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "no database connection free within ", absl::FormatDuration(options_.acquire_timeout)));
    }
    slot = free_.back();
    free_.pop_back();
  }
  if (slot->conn == nullptr || !slot->conn->is_open()) {
    // Reconnect outside the lock; a short timeout keeps a call from hanging on a dead database.
    auto conn = ConnectWithRetry(options_.url, options_.schema, options_.statement_timeout,
                                 std::min(options_.connect_timeout, absl::Seconds(2)));
    if (!conn.ok()) {
      Release(slot);
      return conn.status();
    }
    slot->conn = *std::move(conn);
  }
  return slot;
}

void PgPool::Release(Slot* slot) {
  absl::MutexLock lock(&mu_);
  free_.push_back(slot);
}

absl::Status PgPool::WithReadConnection(
    absl::string_view what, const std::function<absl::Status(pqxx::connection_base&)>& fn) {
  bool lost = false;
  auto attempt = [&](pqxx::connection_base& conn) -> absl::Status {
    try {
      return fn(conn);
    } catch (const pqxx::broken_connection&) {
      lost = true;
      throw;
    }
  };
  absl::Status first = WithConnection(what, attempt);
  if (!lost) return first;
  return WithConnection(what, fn);
}

absl::Status PgPool::WithConnection(absl::string_view what,
                                    const std::function<absl::Status(pqxx::connection_base&)>& fn) {
  absl::StatusOr<Slot*> slot = Acquire();
  if (!slot.ok()) return slot.status();
  absl::Status result;
  try {
    result = fn(*(*slot)->conn);
  } catch (...) {
    result = StatusFromException(std::current_exception(), what);
    // A connection that failed mid-statement may be unusable; drop it and reconnect on next use.
    if (result.code() == absl::StatusCode::kUnavailable) (*slot)->conn.reset();
  }
  Release(*slot);
  return result;
}

}  // namespace civicpoints::pg
