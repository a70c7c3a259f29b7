#include "services/rewards/stock_batcher.h"

#include <pqxx/pqxx>
#include <vector>

#include "common/pg/pg_errors.h"
#include "common/pg/transactions.h"

namespace civicpoints::rewards {

StockBatcher::StockBatcher(pg::PgPool* pool, int max_batch)
    : pool_(pool), max_batch_(max_batch), worker_([this] { Loop(); }) {}

StockBatcher::~StockBatcher() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  worker_.join();
}

absl::Status StockBatcher::Run(const Step& step) {
  Item item{.step = &step};
  absl::MutexLock lock(&mu_);
  queue_.push_back(&item);
  mu_.Await(absl::Condition(
      +[](Item* i) { return i->done; }, &item));
  return item.result;
}

void StockBatcher::Loop() {
  for (;;) {
    std::vector<Item*> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &StockBatcher::HasWork));
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    absl::Status committed = pg::InTx(*pool_, "stock steps", [&](pqxx::transaction_base& tx) {
      // One savepoint before each step: the one after a step that went well is set in the same
      // round trip as the release of the one before it; after a step that failed, the rollback
      // keeps its savepoint for the next.
      tx.exec0("SAVEPOINT step");
      for (size_t i = 0; i < batch.size(); ++i) {
        Item* item = batch[i];
        try {
          item->result = (*item->step)(tx);
        } catch (...) {
          item->result = pg::StatusFromException(std::current_exception(), "stock step");
        }
        if (!item->result.ok()) {
          tx.exec0("ROLLBACK TO SAVEPOINT step");
        } else if (i + 1 < batch.size()) {
          tx.exec0("RELEASE SAVEPOINT step; SAVEPOINT step");
        }
      }
      return absl::OkStatus();
    });
    absl::MutexLock lock(&mu_);
    for (Item* item : batch) {
      if (!committed.ok() && item->result.ok()) item->result = committed;
      item->done = true;
    }
  }
}

}  // namespace civicpoints::rewards
