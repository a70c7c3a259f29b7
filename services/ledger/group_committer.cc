#include "services/ledger/group_committer.h"

#include <algorithm>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/log/log.h"
#include "common/pg/pg_errors.h"
#include "common/pg/pg_pool.h"

namespace civicpoints::ledger {

struct GroupCommitter::Pending {
  std::string order_key;
  Unit unit;
  int attempts = 0;
  absl::Status result;  // written before `done` is notified
  // Each caller sleeps on its own notification: with a hundred callers waiting, one condition
  // per caller on the shared mutex was re-checked at every unlock.
  absl::Notification done;
};

GroupCommitter::GroupCommitter(pg::PgPool* pool, GroupCommitOptions options)
    : pool_(pool), options_(options) {
  for (int i = 0; i < options_.committers; ++i) threads_.emplace_back([this] { CommitterLoop(); });
}

GroupCommitter::~GroupCommitter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

GroupCommitStats GroupCommitter::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

absl::Status GroupCommitter::Run(std::string order_key, Unit unit) {
  auto pending = std::make_shared<Pending>();
  pending->order_key = std::move(order_key);
  pending->unit = std::move(unit);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("ledger is shutting down");
    queue_.push_back(pending);
  }
  pending->done.WaitForNotification();
  return pending->result;
}

void GroupCommitter::CommitterLoop() {
  while (true) {
    std::vector<std::shared_ptr<Pending>> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](GroupCommitter* self)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return !self->queue_.empty() || self->stopping_; },
          this));
      if (queue_.empty()) return;  // stopping, and nothing left to do
      while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::stable_sort(batch.begin(), batch.end(),
                     [](const auto& a, const auto& b) { return a->order_key < b->order_key; });
    RunBatch(batch);
  }
}

void GroupCommitter::RunBatch(std::vector<std::shared_ptr<Pending>>& batch) {
  std::vector<std::shared_ptr<Pending>> retry;
  std::vector<absl::Status> results(batch.size());
  absl::Status batch_status = pool_->WithConnection("commit batch", [&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    // One savepoint, reused: ROLLBACK TO keeps it, and after a success the RELEASE and the next
    // SAVEPOINT travel in one round trip.
    tx.exec0("SAVEPOINT unit");
    for (size_t i = 0; i < batch.size(); ++i) {
      absl::Status s;
      try {
        s = batch[i]->unit(tx);
      } catch (const pqxx::broken_connection&) {
        throw;  // the whole batch is lost; WithConnection maps it
      } catch (...) {
        s = pg::StatusFromException(std::current_exception(), "apply ledger change");
      }
      if (s.ok()) {
        tx.exec(i + 1 < batch.size() ? "RELEASE SAVEPOINT unit; SAVEPOINT unit"
                                     : "RELEASE SAVEPOINT unit");
      } else {
        tx.exec0("ROLLBACK TO SAVEPOINT unit");
      }
      results[i] = s;
    }
    tx.commit();
    return absl::OkStatus();
  });

  std::vector<Pending*> finished;
  {
    absl::MutexLock lock(&mu_);
    ++stats_.batches;
    for (size_t i = 0; i < batch.size(); ++i) {
      Pending& p = *batch[i];
      absl::Status s = batch_status.ok() ? results[i] : batch_status;
      if (s.code() == absl::StatusCode::kAborted && ++p.attempts < options_.max_attempts) {
        queue_.push_back(batch[i]);  // its savepoint (or the batch) rolled back: run it again
        continue;
      }
      if (!batch_status.ok() && batch_status.code() != absl::StatusCode::kAborted) {
        s = absl::UnavailableError(absl::StrCat(
            "the ledger could not commit (", batch_status.message(),
            "); the change may or may not have been applied: retry with the same idempotency key"));
      }
      ++stats_.units;
      p.result = s;
      finished.push_back(&p);
    }
  }
  for (Pending* p : finished) p->done.Notify();
}

}  // namespace civicpoints::ledger
