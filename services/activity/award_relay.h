// AwardRelay delivers PENDING awards (the outbox) to the ledger's Award under each award's
// idempotency key, so a retry after any crash — ours after the ledger committed, or the ledger's —
// returns the first entry instead of paying twice. A pass claims due rows in a short transaction
// (FOR UPDATE SKIP LOCKED, then a lease on next_attempt_at), calls the ledger with no transaction
// open, and records the outcomes in another: replicas share the work, and no row stays locked
// across a network call. A transient failure (ledger down, deadline, throttled, token or role
// trouble) is retried with exponential backoff (1 s doubling to 5 min); a refusal that no retry
// can fix marks the award FAILED with the ledger's message, for an operator; each start of the
// service queues those once more.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_AWARD_RELAY_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_AWARD_RELAY_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}
namespace civicpoints::pg {
class PgPool;
}
namespace civicpoints::server {
class ServiceToken;
}

namespace civicpoints::activity {

class AwardRelay {
 public:
  struct Options {
    int batch = 100;                              // awards per pass
    absl::Duration idle_poll = absl::Seconds(1);  // between passes when nothing is due
    absl::Duration first_backoff = absl::Seconds(1);
    absl::Duration max_backoff = absl::Minutes(5);
    absl::Duration call_deadline = absl::Seconds(5);
    // How long claimed awards are left to this relay before another may send them.
    absl::Duration lease = absl::Seconds(60);
  };

  AwardRelay(pg::PgPool* pool, const std::string& ledger_addr, server::ServiceToken* token,
             Options options);
  ~AwardRelay();  // stops the thread

  // Puts FAILED awards back in the queue once (see RetryFailed) and starts the background thread.
  void Start();
  // Wakes the thread: a confirmation just wrote awards.
  void Nudge();

  // One pass over the due awards; returns how many the ledger acknowledged. Errors: the
  // database's (the ledger's are recorded on the rows).
  absl::StatusOr<int> DeliverDue();

  // Puts every FAILED award (a refusal no retry was expected to fix) back to PENDING, so a restart
  // after an operator fixed the cause delivers them. Returns how many.
  absl::StatusOr<int> RetryFailed();

 private:
  void Run();

  pg::PgPool* pool_;
  std::shared_ptr<grpc::Channel> channel_;
  server::ServiceToken* token_;
  const Options options_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool nudged_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_AWARD_RELAY_H_
