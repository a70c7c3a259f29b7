// WebhookDispatcher delivers the feed to registered webhooks. Each of its worker threads leases
// one due webhook at a time (WebhookStore::LeaseDue: ACTIVE, behind the feed's head, its next
// attempt due, not leased by another worker or replica), posts the events after its position that
// pass its filter one by one in feed order, and records each delivery before the next; the first
// failure records the attempt and when to try again (exponential backoff with jitter, from
// `first_retry` doubling to `max_retry`), and ends the lease, so later events wait behind it. A
// webhook failing for `give_up_after` turns FAILING. An idle worker waits on the feed's tail for a
// new event, or `poll` for retries coming due, and asks again at most every
// `idle_lease_interval`. A crash between a delivery and its record resends
// that event (at least once; the receiver drops it by webhook-id).
#ifndef CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_DISPATCHER_H_
#define CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_DISPATCHER_H_

#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/events/webhook_sender.h"

namespace civicpoints::auth {
class RevocationChecker;
}

namespace civicpoints::events {

class FeedTail;
class WebhookStore;
struct LeasedWebhook;

class WebhookDispatcher {
 public:
  struct Options {
    int workers = 4;  // webhooks delivered to at once
    absl::Duration first_retry = absl::Seconds(5);
    absl::Duration max_retry = absl::Hours(1);
    absl::Duration give_up_after = absl::Hours(24);
    absl::Duration timeout = absl::Seconds(10);  // one attempt, connect included
    absl::Duration lease = absl::Seconds(60);
    absl::Duration poll = absl::Seconds(1);
    // After finding nothing due, a worker asks the database again no sooner than this, however
    // fast events arrive: with no webhook due, the feed's rate must not become a query rate.
    absl::Duration idle_lease_interval = absl::Milliseconds(100);
    int max_per_lease = 200;  // events delivered before the webhook goes back to the queue
  };

  // The store, tail and revocations must outlive the dispatcher. `revocations` (may be null) is
  // asked before each lease's deliveries whether the owner's authority was revoked since it was
  // last shown; if so the webhook turns FAILING and nothing is sent.
  WebhookDispatcher(WebhookStore* store, FeedTail* tail, const auth::RevocationChecker* revocations,
                    WebhookUrlPolicy policy, Options options);
  ~WebhookDispatcher();  // stops the workers (each finishes the attempt it is making)

  void Start();

  // The delay before attempt `failed + 1` after `failed` failures, jitter included.
  static absl::Duration Backoff(int failed, const Options& options);

 private:
  void Work();
  void Deliver(LeasedWebhook& w);
  bool Stopping();

  WebhookStore* store_;
  FeedTail* tail_;
  const auth::RevocationChecker* revocations_;
  const WebhookSender sender_;
  const Options options_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_DISPATCHER_H_
