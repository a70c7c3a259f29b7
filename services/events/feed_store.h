// FeedStore: the feed's table in PostgreSQL. Appends take a transaction-scoped advisory lock, so
// `seq` order is commit order across every replica: a reader that has seen seq N will never later
// find a committed event below N. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_EVENTS_FEED_STORE_H_
#define CIVICPOINTS_SERVICES_EVENTS_FEED_STORE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/events/v1/event.pb.h"

namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::events {

// An event as the feed holds it: its position and the message with its cursor set.
struct StoredEvent {
  int64_t seq = 0;
  v1::Event event;
};
using EventPtr = std::shared_ptr<const StoredEvent>;

class FeedStore {
 public:
  explicit FeedStore(pg::PgPool* pool) : pool_(pool) {}

  struct Appended {
    int appended = 0;
    int duplicates = 0;  // ids the feed already held
    absl::Time commit_time;
  };
  // Appends `events` (validated by the caller) in their order, skipping ids already held.
  absl::StatusOr<Appended> Append(const std::vector<const v1::Event*>& events);

  // Events after position `after`, oldest first, at most `limit`.
  absl::StatusOr<std::vector<EventPtr>> ReadAfter(int64_t after, int limit);

  struct Bounds {
    int64_t pruned_through = 0;  // positions at or below are gone
    int64_t head = 0;            // the newest position (pruned_through when the feed is empty)
  };
  absl::StatusOr<Bounds> ReadBounds();

  // Deletes events appended before `before` (at most `limit` of them) and returns the new
  // pruned_through.
  absl::StatusOr<int64_t> Prune(absl::Time before, int limit);

 private:
  pg::PgPool* pool_;
};

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_FEED_STORE_H_
