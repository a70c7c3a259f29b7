// StockBatcher runs the redemption saga's stock steps of concurrent orders in shared transactions.
// Every order of a gift at a station updates the same stock row, which a transaction keeps locked
// until it commits; with one transaction per order the orders would queue behind each other's
// commit (its WAL flush). One worker thread takes every step waiting, runs each under its own
// savepoint (a failing step rolls back alone) and commits once for all of them. Thread-safe.
//
//   absl::Status s = batcher.Run([&](pqxx::transaction_base& tx) { return Reserve(tx, id); });
#ifndef CIVICPOINTS_SERVICES_REWARDS_STOCK_BATCHER_H_
#define CIVICPOINTS_SERVICES_REWARDS_STOCK_BATCHER_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace pqxx {
class transaction_base;
}
namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::rewards {

class StockBatcher {
 public:
  using Step = std::function<absl::Status(pqxx::transaction_base&)>;

  // `pool` must outlive the batcher. Starts the worker.
  explicit StockBatcher(pg::PgPool* pool, int max_batch = 128);
  // Finishes the steps already queued, then stops the worker.
  ~StockBatcher();

  // Runs `step` in the next batch and returns its status once the batch committed. A step's
  // non-OK status rolls back only its own savepoint; if the batch's commit fails every step of it
  // gets that error (the caller retries; steps must be idempotent).
  absl::Status Run(const Step& step);

 private:
  struct Item {
    const Step* step;
    absl::Status result;
    bool done = false;
  };
  void Loop();

  pg::PgPool* const pool_;
  const int max_batch_;
  // What the loop waits for (a member, not a lambda, so clang's analysis sees it under mu_).
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); }

  mutable absl::Mutex mu_;
  std::deque<Item*> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_STOCK_BATCHER_H_
