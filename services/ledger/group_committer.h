// GroupCommitter batches concurrent units of work into shared PostgreSQL transactions, so one
// commit (one WAL flush, with synchronous_commit on) serves many requests.
//
// Each unit runs inside its own SAVEPOINT: a unit that fails is rolled back alone and the rest of
// the batch commits. A unit hit by a deadlock or serialization failure is re-queued (its effects
// were rolled back with its savepoint). If the commit itself fails, every unit of the batch gets
// UNAVAILABLE: the outcome is unknown, and callers retry with their idempotency keys.
//
// Units must be re-runnable and keep their results in captured variables, read only after Run()
// returns OK. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_LEDGER_GROUP_COMMITTER_H_
#define CIVICPOINTS_SERVICES_LEDGER_GROUP_COMMITTER_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace pqxx {
class connection_base;
class dbtransaction;
}  // namespace pqxx

namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::ledger {

struct GroupCommitOptions {
  // Transactions in flight at once; while one waits for its commit, the next batch gathers.
  int committers = 4;
  // Most units in one transaction.
  int max_batch = 256;
  // Times a unit is re-queued after a deadlock or serialization failure before it fails ABORTED.
  int max_attempts = 5;
};

// Batch statistics since start, for the benchmark and metrics.
struct GroupCommitStats {
  int64_t batches = 0;
  int64_t units = 0;
};

class GroupCommitter {
 public:
  using Unit = std::function<absl::Status(pqxx::dbtransaction&)>;

  // `pool` must outlive the committer and have at least options.committers connections.
  GroupCommitter(pg::PgPool* pool, GroupCommitOptions options);
  ~GroupCommitter();  // finishes queued units, then stops

  // Runs `unit` in the next batch and returns once that batch committed: the unit's own status if
  // it failed, UNAVAILABLE if the commit failed, ABORTED after max_attempts conflicts. `order_key`
  // (e.g. the account id) orders units within a batch so batches take row locks in one order.
  absl::Status Run(std::string order_key, Unit unit);

  GroupCommitStats stats() const;

 private:
  struct Pending;
  void CommitterLoop();
  void RunBatch(std::vector<std::shared_ptr<Pending>>& batch);

  pg::PgPool* const pool_;
  const GroupCommitOptions options_;
  mutable absl::Mutex mu_;
  std::deque<std::shared_ptr<Pending>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  GroupCommitStats stats_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_GROUP_COMMITTER_H_
