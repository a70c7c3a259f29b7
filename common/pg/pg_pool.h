// A fixed-size pool of PostgreSQL connections (libpqxx), shared by a service's store.
//
// Connect() retries with backoff until the database answers or the connect timeout passes, so a
// service started before its database waits instead of crashing. Each connection runs with
// `search_path` set to the service's schema. A connection found broken is replaced on next use.
// Thread-safe.
//
//   ASSIGN_OR_RETURN(auto pool, PgPool::Connect({.url = cfg.pg_url, .schema = "ledger"}));
//   absl::Status s = pool->WithConnection("load account", [&](pqxx::connection& c) {
//     pqxx::work tx(c); ...; tx.commit(); return absl::OkStatus();
//   });
#ifndef CIVICPOINTS_COMMON_PG_PG_POOL_H_
#define CIVICPOINTS_COMMON_PG_PG_POOL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace pqxx {
class connection_base;
}

namespace civicpoints::pg {

struct PgOptions {
  // libpq connection URI or key=value string, e.g. "postgresql://cp@127.0.0.1:55432/civicpoints".
  std::string url;
  // Schema the service owns; becomes the connections' search_path. Empty keeps the default.
  std::string schema;
  int pool_size = 8;
  // How long Connect() keeps retrying an unreachable database.
  absl::Duration connect_timeout = absl::Seconds(30);
  // How long WithConnection() waits for a free connection before RESOURCE_EXHAUSTED.
  absl::Duration acquire_timeout = absl::Seconds(5);
  // Server-side statement_timeout for every statement; zero means none.
  absl::Duration statement_timeout = absl::Seconds(10);
};

// The URL with any password replaced by "****", for messages and logs.
std::string RedactUrl(const std::string& url);

// The URL as a keyword/value connection string with TCP keepalives and a TCP user timeout (30 s)
// added where the URL sets none, so a vanished peer fails a call in about 30 s rather than hours.
// A malformed URL comes back unchanged.
std::string WithNetworkDefaults(const std::string& url);

class PgPool {
 public:
  // Opens the first connection (retrying with backoff until options.connect_timeout) and returns
  // the pool; the rest connect lazily. Errors: INVALID_ARGUMENT for a malformed URL or pool size;
  // UNAVAILABLE when the database stays unreachable, naming the redacted URL and the last error.
  static absl::StatusOr<std::unique_ptr<PgPool>> Connect(PgOptions options);

  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Runs fn on a connection held for its duration. pqxx exceptions thrown by fn become statuses
  // (see pg_errors.h) named by `what`. Errors: RESOURCE_EXHAUSTED when no connection frees within
  // acquire_timeout; UNAVAILABLE when a connection cannot be (re)established; whatever fn returns.
  absl::Status WithConnection(absl::string_view what,
                              const std::function<absl::Status(pqxx::connection_base&)>& fn);

  // As WithConnection, for work that only reads (safe to run twice): when the connection turns out
  // to be lost (the server restarted, or an idle connection was cut), it runs once more on a fresh
  // connection instead of failing the caller.
  absl::Status WithReadConnection(absl::string_view what,
                                  const std::function<absl::Status(pqxx::connection_base&)>& fn);

  const PgOptions& options() const { return options_; }

 private:
  struct Slot;
  explicit PgPool(PgOptions options);
  absl::StatusOr<Slot*> Acquire();
  void Release(Slot* slot);

  const PgOptions options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_ ABSL_GUARDED_BY(mu_);
  std::vector<Slot*> free_ ABSL_GUARDED_BY(mu_);
};

// Deletes a connection opened by ConnectWithRetry as the pqxx::connection it is: libpqxx 6's
// connection_base has no virtual destructor, so deleting through it would skip the derived part
// (AddressSanitizer: new-delete-type-mismatch).
struct ConnectionDeleter {
  void operator()(pqxx::connection_base* conn) const;
};
using Connection = std::unique_ptr<pqxx::connection_base, ConnectionDeleter>;

// Opens one connection to `url` with search_path set to `schema`, retrying with exponential
// backoff (100 ms doubling to 2 s) until `timeout`. Errors as PgPool::Connect.
absl::StatusOr<Connection> ConnectWithRetry(const std::string& url, const std::string& schema,
                                            absl::Duration statement_timeout,
                                            absl::Duration timeout);

}  // namespace civicpoints::pg

#endif  // CIVICPOINTS_COMMON_PG_PG_POOL_H_
