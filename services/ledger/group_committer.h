// GroupCommitter batches concurrent units of work into shared PostgreSQL transactions, so one
// commit (one WAL flush, with synchronous_commit on) serves many requests.
//
// Each unit runs inside its own SAVEPOINT: a unit that fails is rolled back alone and the rest of
// the batch commits. A unit hit by a deadlock or serialization failure is re-queued (its effects
// were rolled back with its savepoint). If the commit itself fails, every unit of the batch gets
// UNAVAILABLE: the outcome is unknown, and callers retry with their idempotency keys.
//
// Units must be re-runnable and keep their results in captured variables, read only after Run()
// returns OK.
//
// A unit may also come as a SetItem, data its SetRunner can run together with the batch's other
// items of that runner in a few set-based statements (awards: award_set.h). The items of a batch
// run first; if their runner fails, the batch's transaction is rolled back and the batch runs
// again with each item's unit alone, as any other unit. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_LEDGER_GROUP_COMMITTER_H_
#define CIVICPOINTS_SERVICES_LEDGER_GROUP_COMMITTER_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
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

class SetRunner;

// A unit of work as data, for its runner to run with others of its kind.
struct SetItem {
  virtual ~SetItem() = default;
  SetRunner* runner = nullptr;
  // Set by the runner for each item it was given: OK, the item's own refusal, or ABORTED to have
  // the item run again in a later batch (it met another item of its set it cannot go beside).
  absl::Status result;
};

class SetRunner {
 public:
  virtual ~SetRunner() = default;
  // Runs `items` in `tx` and sets each one's result. An error (the database's, or the runner's own)
  // rolls the batch's transaction back; the committer then runs the batch again, each item's unit
  // alone.
  virtual absl::Status RunSet(pqxx::dbtransaction& tx, const std::vector<SetItem*>& items) = 0;
};

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
  int64_t set_items = 0;      // units run as part of a set
  int64_t set_fallbacks = 0;  // sets that failed and whose items ran alone
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
  // The same, for a unit that `item` also describes (see the class comment); `item` must outlive
  // the call, and `unit` must do what the item's runner would.
  absl::Status Run(std::string order_key, Unit unit, SetItem* item);

  GroupCommitStats stats() const;

 private:
  struct Pending;
  void CommitterLoop();
  void RunBatch(std::vector<std::shared_ptr<Pending>>& batch);
  // Runs the batch's set items (those with a runner) set by set; returns which of them ran there,
  // with their results in `results` (the others are left for their units), or nullopt when a set
  // failed and `tx` must be rolled back.
  std::optional<std::vector<bool>> RunSets(pqxx::dbtransaction& tx,
                                           const std::vector<std::shared_ptr<Pending>>& batch,
                                           std::vector<absl::Status>& results);
  // Runs the units not `ran` yet, each under a savepoint.
  void RunUnits(pqxx::dbtransaction& tx, const std::vector<std::shared_ptr<Pending>>& batch,
                const std::vector<bool>& ran, std::vector<absl::Status>& results);

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
