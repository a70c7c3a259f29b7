#include "common/events/outbox.h"

#include <google/protobuf/message.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/events/event_relay.h"
#include "common/events/event_types.h"
#include "common/pg/prepared.h"
#include "common/pg/transactions.h"

namespace civicpoints::events {
namespace {

absl::Mutex relays_mu(absl::kConstInit);

std::vector<EventRelay*>& LocalRelays() ABSL_EXCLUSIVE_LOCKS_REQUIRED(relays_mu) {
  static auto* relays = new std::vector<EventRelay*>();
  return *relays;
}

// Several events of one transaction wake a relay several times; each costs an eventfd write.
void WakeLocalRelays() {
  absl::MutexLock lock(&relays_mu);
  for (EventRelay* relay : LocalRelays()) relay->Nudge();
}

}  // namespace

absl::StatusOr<EncodedEvent> EncodeEvent(const OutboxEvent& event) {
  EncodedEvent encoded{.type = EventTypeName(event.service, event.name),
                       .subject = event.subject,
                       .org_path = event.org_path};
  const EventType* known = FindEventType(encoded.type);
  if (known == nullptr) {
    return absl::InternalError(absl::StrCat("unknown event type ", encoded.type));
  }
  if (event.data == nullptr || event.data->GetDescriptor()->full_name() != known->data_type) {
    return absl::InternalError(
        absl::StrCat("event ", encoded.type, " needs data of type ", known->data_type));
  }
  encoded.data_type = std::string(known->data_type);
  encoded.data = event.data->SerializeAsString();
  return encoded;
}

void WakeRelaysAfterCommit() { pg::AfterCommit(WakeLocalRelays); }

absl::Status RecordEvent(pqxx::transaction_base& tx, const OutboxEvent& event) {
  absl::StatusOr<EncodedEvent> e = EncodeEvent(event);
  if (!e.ok()) return e.status();
  pg::Exec(tx,
           "INSERT INTO outbox_events (type, subject, district_id, street_id, community_id, "
           "data_type, data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
           e->type, e->subject, e->org_path.district_id(), e->org_path.street_id(),
           e->org_path.community_id(), e->data_type, pqxx::binarystring(e->data));
  WakeRelaysAfterCommit();
  return absl::OkStatus();
}

void AddLocalRelay(EventRelay* relay) {
  absl::MutexLock lock(&relays_mu);
  LocalRelays().push_back(relay);
}

void RemoveLocalRelay(EventRelay* relay) {
  absl::MutexLock lock(&relays_mu);
  std::vector<EventRelay*>& relays = LocalRelays();
  relays.erase(std::remove(relays.begin(), relays.end(), relay), relays.end());
}

}  // namespace civicpoints::events
