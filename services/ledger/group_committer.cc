#include "services/ledger/group_committer.h"

#include <algorithm>
#include <optional>
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
  SetItem* item = nullptr;  // the unit as data for its runner, if it has one
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
  return Run(std::move(order_key), std::move(unit), nullptr);
}

absl::Status GroupCommitter::Run(std::string order_key, Unit unit, SetItem* item) {
  auto pending = std::make_shared<Pending>();
  pending->order_key = std::move(order_key);
  pending->unit = std::move(unit);
  pending->item = item;
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

std::optional<std::vector<bool>> GroupCommitter::RunSets(
    pqxx::dbtransaction& tx, const std::vector<std::shared_ptr<Pending>>& batch,
    std::vector<absl::Status>& results) {
  std::vector<bool> ran(batch.size(), false);
  std::vector<bool> offered(batch.size(), false);
  for (size_t first = 0; first < batch.size(); ++first) {
    SetItem* lead = batch[first]->item;
    if (lead == nullptr || lead->runner == nullptr || offered[first]) continue;
    std::vector<size_t> members;
    std::vector<SetItem*> items;
    for (size_t i = first; i < batch.size(); ++i) {
      if (batch[i]->item != nullptr && batch[i]->item->runner == lead->runner) {
        offered[i] = true;
        members.push_back(i);
        items.push_back(batch[i]->item);
      }
    }
    absl::Status s;
    try {
      s = lead->runner->RunSet(tx, items);
    } catch (const pqxx::broken_connection&) {
      throw;  // the whole batch is lost; WithConnection maps it
    } catch (...) {
      s = pg::StatusFromException(std::current_exception(), "apply a set of ledger changes");
    }
    if (!s.ok()) {
      log::Warn("a set of ledger changes failed; running its batch one change at a time",
                {{"items", static_cast<int64_t>(items.size())}, {"error", s.ToString()}});
      absl::MutexLock lock(&mu_);
      ++stats_.set_fallbacks;
      return std::nullopt;
    }
    for (size_t m = 0; m < members.size(); ++m) {
      ran[members[m]] = true;
      results[members[m]] = items[m]->result;
    }
    absl::MutexLock lock(&mu_);
    stats_.set_items += static_cast<int64_t>(items.size());
  }
  return ran;
}

void GroupCommitter::RunUnits(pqxx::dbtransaction& tx,
                              const std::vector<std::shared_ptr<Pending>>& batch,
                              const std::vector<bool>& ran, std::vector<absl::Status>& results) {
  // One savepoint, reused: ROLLBACK TO keeps it, and after a success the RELEASE and the next
  // SAVEPOINT travel in one round trip.
  size_t last = batch.size();
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!ran[i]) last = i;
  }
  if (last == batch.size()) return;
  tx.exec0("SAVEPOINT unit");
  for (size_t i = 0; i < batch.size(); ++i) {
    if (ran[i]) continue;
    absl::Status s;
    try {
      s = batch[i]->unit(tx);
    } catch (const pqxx::broken_connection&) {
      throw;  // the whole batch is lost; WithConnection maps it
    } catch (...) {
      s = pg::StatusFromException(std::current_exception(), "apply ledger change");
    }
    if (s.ok()) {
      tx.exec(i < last ? "RELEASE SAVEPOINT unit; SAVEPOINT unit" : "RELEASE SAVEPOINT unit");
    } else {
      tx.exec0("ROLLBACK TO SAVEPOINT unit");
    }
    results[i] = s;
  }
}

void GroupCommitter::RunBatch(std::vector<std::shared_ptr<Pending>>& batch) {
  std::vector<absl::Status> results(batch.size());
  absl::Status batch_status = pool_->WithConnection("commit batch", [&](pqxx::connection_base& c) {
    // Sets first, without a savepoint of their own (they are the common case, and every round
    // trip counts there): if one fails, the transaction is rolled back and the batch runs again,
    // every unit alone.
    for (bool sets = true;; sets = false) {
      pqxx::work tx(c);
      std::vector<bool> ran(batch.size(), false);
      if (sets) {
        std::optional<std::vector<bool>> in_sets = RunSets(tx, batch, results);
        if (!in_sets.has_value()) {
          tx.abort();
          continue;
        }
        ran = std::move(*in_sets);
      }
      RunUnits(tx, batch, ran, results);
      tx.commit();
      return absl::OkStatus();
    }
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
