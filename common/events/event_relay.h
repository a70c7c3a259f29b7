// EventRelay publishes a service's events to the events service, in the order they committed, and
// marks them published once the feed has them. Where the events are is an EventLog: the outbox
// (outbox.h, OutboxLog below) for most services; the ledger reads its journal instead. The feed
// skips an event id it already holds, so a crash between publishing and marking only resends. One
// relay per schema publishes at a time (a session advisory lock on its own connection), so
// replicas of a service never publish out of order; the others stand by and take over when its
// connection goes. The relay wakes on Nudge (an eventfd: RecordEvent's commits in this process, or
// the ledger's), and otherwise looks every `idle_poll`, which bounds how late it finds an event
// another replica committed. A failing pass is
// retried with backoff (200 ms doubling to 30 s); no event is ever skipped.
#ifndef CIVICPOINTS_COMMON_EVENTS_EVENT_RELAY_H_
#define CIVICPOINTS_COMMON_EVENTS_EVENT_RELAY_H_

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "civicpoints/events/v1/events_service.pb.h"
#include "common/pg/pg_pool.h"

namespace grpc {
class Channel;
}
namespace civicpoints::server {
class ServiceToken;
struct ServiceDeps;
}  // namespace civicpoints::server

namespace civicpoints::events {

// Events read from a service's storage and not yet published, in commit order.
struct PendingEvents {
  v1::PublishEventsRequest request;  // may be empty when all that was read needs no publishing
  std::vector<int64_t> keys;         // what MarkPublished marks (the log's own positions)
  int read = 0;                      // rows read: a full batch means more may be waiting
};

// Where a relay finds a service's events and how it marks them published. Called on the relay's
// own connection, one call at a time.
class EventLog {
 public:
  virtual ~EventLog() = default;
  // Up to `limit` unpublished rows after what was marked, in commit order.
  virtual PendingEvents Unpublished(pqxx::connection_base& conn, int limit) = 0;
  virtual void MarkPublished(pqxx::connection_base& conn, const PendingEvents& batch) = 0;
  // Housekeeping now and then (the outbox deletes rows published more than a day ago).
  virtual void Prune(pqxx::connection_base&) {}
};

// The outbox of outbox.h: `outbox_events` in the service's schema, rows stamped when published.
class OutboxLog final : public EventLog {
 public:
  explicit OutboxLog(std::string service, absl::Duration keep_published = absl::Hours(24))
      : service_(std::move(service)), keep_published_(keep_published) {}
  PendingEvents Unpublished(pqxx::connection_base& conn, int limit) override;
  void MarkPublished(pqxx::connection_base& conn, const PendingEvents& batch) override;
  void Prune(pqxx::connection_base& conn) override;

 private:
  const std::string service_;
  const absl::Duration keep_published_;
};

class EventRelay {
 public:
  struct Options {
    int batch = 200;  // events per PublishEvents call
    absl::Duration idle_poll = absl::Milliseconds(250);
    absl::Duration first_backoff = absl::Milliseconds(200);
    absl::Duration max_backoff = absl::Seconds(30);
    absl::Duration call_deadline = absl::Seconds(5);
  };

  // `pg` names the database and the service's schema (the pool's options); the relay opens its
  // own connection. `service` is the producer's name ("activity"), for logs.
  EventRelay(std::string service, std::unique_ptr<EventLog> log, pg::PgOptions pg,
             const std::string& events_addr, server::ServiceToken* token, Options options);
  ~EventRelay();  // stops the thread (within about a second)

  void Start();
  // Wakes the relay at once: something was committed.
  void Nudge();

  // One pass on `conn`: publishes up to a batch of unpublished events. Returns how many rows of
  // the log it took care of. Errors: the database's, or the feed's answer.
  absl::StatusOr<int> PublishDue(pqxx::connection_base& conn);

 private:
  void Run();
  bool Stopping();

  const std::string service_;
  const std::unique_ptr<EventLog> log_;
  const pg::PgOptions pg_;
  std::shared_ptr<grpc::Channel> channel_;
  server::ServiceToken* token_;
  const Options options_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  const int wake_fd_;  // an eventfd: Nudge and the destructor wake the thread's poll
  std::thread thread_;
};

// The relay of a service whose spec publishes events, started over `log` (null: the service's
// outbox); null when --events_addr is empty.
std::unique_ptr<EventRelay> StartEventRelay(const std::string& service,
                                            const server::ServiceDeps& deps,
                                            std::unique_ptr<EventLog> log = nullptr);

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_COMMON_EVENTS_EVENT_RELAY_H_
