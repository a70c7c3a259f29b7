#include "services/events/feed_tail.h"

#include <algorithm>
#include <utility>

#include "civicpoints/events/v1/errors.pb.h"
#include "common/log/log.h"
#include "common/status/refusal.h"

namespace civicpoints::events {

FeedTail::~FeedTail() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status FeedTail::Start() {
  absl::StatusOr<FeedStore::Bounds> b = store_->ReadBounds();
  if (!b.ok()) return b.status();
  {
    absl::MutexLock lock(&mu_);
    head_ = recent_after_ = b->head;
    pruned_through_ = b->pruned_through;
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void FeedTail::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

FeedTail::Bounds FeedTail::bounds() const {
  absl::MutexLock lock(&mu_);
  return {.pruned_through = pruned_through_, .head = head_};
}

void FeedTail::Run() {
  absl::Time next_prune = absl::Now();
  while (true) {
    if (absl::Status s = FetchNew(); !s.ok()) {
      log::Warn("event feed: cannot follow the store", {{"error", std::string(s.message())}});
    }
    if (absl::Now() >= next_prune) {
      absl::StatusOr<int64_t> pruned = store_->Prune(absl::Now() - options_.retention, 10'000);
      if (pruned.ok()) {
        absl::MutexLock lock(&mu_);
        pruned_through_ = std::max(pruned_through_, *pruned);
      } else {
        log::Warn("event feed: retention pass failed",
                  {{"error", std::string(pruned.status().message())}});
      }
      next_prune = absl::Now() + options_.prune_every;
    }
    absl::MutexLock lock(&mu_);
    auto wake = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || woken_; };
    mu_.AwaitWithTimeout(absl::Condition(&wake), options_.poll);
    if (stop_) return;
    woken_ = false;
  }
}

absl::Status FeedTail::FetchNew() {
  while (true) {
    int64_t from;
    {
      absl::MutexLock lock(&mu_);
      from = head_;
    }
    absl::StatusOr<std::vector<EventPtr>> fresh = store_->ReadAfter(from, options_.fetch_batch);
    if (!fresh.ok()) return fresh.status();
    if (fresh->empty()) return absl::OkStatus();
    {
      absl::MutexLock lock(&mu_);
      for (EventPtr& e : *fresh) recent_.push_back(std::move(e));
      head_ = recent_.back()->seq;
      while (recent_.size() > options_.capacity) {
        recent_after_ = recent_.front()->seq;
        recent_.pop_front();
      }
    }
    if (static_cast<int>(fresh->size()) < options_.fetch_batch) return absl::OkStatus();
  }
}

absl::StatusOr<std::vector<EventPtr>> FeedTail::Read(int64_t after, size_t max, absl::Time deadline,
                                                     const std::function<bool()>& cancelled) {
  std::vector<EventPtr> out;
  {
    absl::MutexLock lock(&mu_);
    if (after < pruned_through_) {
      // A reader that fell behind the retention while it read: the events it would get next are
      // gone, so it must re-read state rather than skip them unknowingly.
      return Refuse(absl::StatusCode::kOutOfRange, v1::EVENTS_ERROR_REASON_CURSOR_EXPIRED,
                    "the feed no longer holds the events after this cursor (retention); re-read "
                    "the state you need and subscribe afresh");
    }
    if (after < recent_after_) {
      // Older than memory holds: catch up from the store (outside the lock).
    } else {
      auto arrived = [this, after]()
                         ABSL_SHARED_LOCKS_REQUIRED(mu_) { return head_ > after || stop_; };
      while (!arrived() && absl::Now() < deadline && !cancelled()) {
        mu_.AwaitWithDeadline(absl::Condition(&arrived),
                              std::min(deadline, absl::Now() + absl::Milliseconds(200)));
      }
      // The first event above `after`: `recent_` is in seq order with no holes in what it covers.
      auto it = std::upper_bound(recent_.begin(), recent_.end(), after,
                                 [](int64_t seq, const EventPtr& e) { return seq < e->seq; });
      for (; it != recent_.end() && out.size() < max; ++it) out.push_back(*it);
      return out;
    }
  }
  return store_->ReadAfter(after, static_cast<int>(max));
}

}  // namespace civicpoints::events
