// WebhookStore: the `webhooks` table — what owners register and read, and the delivery state the
// dispatcher leases, advances and marks failing. Owners reach only their own rows (another's
// answers as if absent). Thread-safe.
#ifndef CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_STORE_H_
#define CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/events/v1/webhook.pb.h"
#include "services/events/event_filter.h"

namespace civicpoints::pg {
class PgPool;
}
namespace pqxx {
class transaction_base;
}

namespace civicpoints::events {

// A webhook as the dispatcher needs it.
struct LeasedWebhook {
  std::string webhook_id;
  std::string url;
  std::string key;  // the HMAC key
  EventFilter filter;
  int64_t position = 0;
  int failed_attempts = 0;
  std::optional<absl::Time> failing_since;
  std::string lease_token;  // this lease's; a lease that ran out and was taken again has another
  std::string owner_id;
  absl::Time authorized_at;  // the owner's authority was last shown then
};

class WebhookStore {
 public:
  explicit WebhookStore(pg::PgPool* pool) : pool_(pool) {}

  struct NewWebhook {
    std::string webhook_id;
    std::string owner_id;
    std::string url;
    std::string description;
    std::string key;
    const EventFilter* filter = nullptr;
    int64_t position = 0;
  };
  // Inserts in the caller's transaction and returns the webhook as stored.
  v1::Webhook Insert(pqxx::transaction_base& tx, const NewWebhook& w);
  int CountOwned(pqxx::transaction_base& tx, const std::string& owner_id);

  // The owner's webhook; nullopt when they have none of that id.
  absl::StatusOr<std::optional<v1::Webhook>> Get(const std::string& owner_id,
                                                 const std::string& webhook_id);
  absl::StatusOr<std::vector<v1::Webhook>> List(const std::string& owner_id);
  absl::StatusOr<std::optional<v1::Webhook>> Delete(const std::string& owner_id,
                                                    const std::string& webhook_id);
  // FAILING → ACTIVE with its failures forgotten, if its position is not older than
  // `pruned_through`; either way the owner's authority counts as shown now. `too_old` is set (and
  // nothing changed) when it is.
  absl::StatusOr<std::optional<v1::Webhook>> Resume(const std::string& owner_id,
                                                    const std::string& webhook_id,
                                                    int64_t pruned_through, bool* too_old);

  // The dispatcher's side. Leases one ACTIVE webhook whose next attempt is due and which the feed
  // has events past (its position below `head`), for `lease`; nullopt when none is.
  absl::StatusOr<std::optional<LeasedWebhook>> LeaseDue(int64_t head, absl::Duration lease);
  // Records an event delivered at `position` (and the filtered-out ones before it); false when the
  // webhook is gone or no longer leased by this holder.
  absl::StatusOr<bool> Delivered(const LeasedWebhook& w, int64_t position, absl::Duration lease);
  // Records a failed attempt at the event after `position`: the next one at `next_attempt`, or
  // the webhook turned FAILING when the failures have lasted `give_up_after`. Ends the lease.
  absl::Status Failed(const LeasedWebhook& w, int64_t position, const std::string& error,
                      absl::Time next_attempt, absl::Duration give_up_after);
  // Turns the webhook FAILING at once (its owner's authority was revoked), saying `why`, and ends
  // the lease.
  absl::Status Stop(const LeasedWebhook& w, int64_t position, const std::string& why);
  // Ends the lease, the position advanced past filtered-out events.
  absl::Status Release(const LeasedWebhook& w, int64_t position);

 private:
  pg::PgPool* pool_;
};

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_STORE_H_
