// FeedTail: the newest part of the feed in memory, kept current by one thread that follows the
// store, so a thousand subscribers cost one query per append rather than one each. It is woken
// by this process's appends (Wake) and otherwise looks every `poll` (appends through another
// replica). Readers whose position is older than the memory holds are served from the store.
// Thread-safe.
#ifndef CIVICPOINTS_SERVICES_EVENTS_FEED_TAIL_H_
#define CIVICPOINTS_SERVICES_EVENTS_FEED_TAIL_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/events/feed_store.h"

namespace civicpoints::events {

class FeedTail {
 public:
  struct Options {
    size_t capacity = 20'000;  // events kept in memory
    absl::Duration poll = absl::Seconds(1);
    int fetch_batch = 1'000;
    absl::Duration retention = absl::Hours(24 * 7);
    absl::Duration prune_every = absl::Minutes(10);
  };

  FeedTail(FeedStore* store, Options options) : store_(store), options_(options) {}
  ~FeedTail();  // stops the thread

  // Reads where the feed stands and starts following it. Errors: the store's.
  absl::Status Start();

  // An append committed: fetch it now.
  void Wake();

  struct Bounds {
    int64_t pruned_through = 0;
    int64_t head = 0;
  };
  Bounds bounds() const;

  // Up to `max` events after position `after`, oldest first. When there are none yet, waits until
  // one arrives, `deadline` passes (an empty answer) or `cancelled` turns true (looked at every
  // 200 ms). Errors: the store's, when `after` is older than memory holds.
  absl::StatusOr<std::vector<EventPtr>> Read(int64_t after, size_t max, absl::Time deadline,
                                             const std::function<bool()>& cancelled);

 private:
  void Run();
  absl::Status FetchNew();

  FeedStore* store_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<EventPtr> recent_ ABSL_GUARDED_BY(mu_);
  int64_t recent_after_ ABSL_GUARDED_BY(mu_) = 0;  // `recent_` holds every event above this
  int64_t head_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t pruned_through_ ABSL_GUARDED_BY(mu_) = 0;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_FEED_TAIL_H_
