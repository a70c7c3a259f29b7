#include "services/ledger/ranking_writer.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace civicpoints::ledger {

absl::Status RankingWriter::Write(std::vector<RankingScore> scores) {
  if (scores.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  queued_.insert(queued_.end(), std::make_move_iterator(scores.begin()),
                 std::make_move_iterator(scores.end()));
  if (next_ == nullptr) next_ = std::make_shared<Flush>();
  const std::shared_ptr<Flush> mine = next_;
  while (!mine->done) {
    if (writing_) {
      flushed_.Wait(&mu_);
      continue;
    }
    // Nobody is writing: this caller writes everything queued, its own scores included.
    writing_ = true;
    std::vector<RankingScore> batch = std::move(queued_);
    queued_.clear();
    const std::shared_ptr<Flush> flush = std::move(next_);
    next_ = nullptr;
    ++writes_;
    mu_.Unlock();
    // Apply takes runs of one key; keep each key's scores in their commit order.
    std::stable_sort(batch.begin(), batch.end(), [](const RankingScore& a, const RankingScore& b) {
      return a.ranking_key < b.ranking_key;
    });
    absl::Status status = rankings_->Apply(batch);
    mu_.Lock();
    flush->status = std::move(status);
    flush->done = true;
    writing_ = false;
    flushed_.SignalAll();
  }
  return mine->status;
}

int64_t RankingWriter::writes() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}

}  // namespace civicpoints::ledger
