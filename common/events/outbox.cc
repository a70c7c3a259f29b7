#include "common/events/outbox.h"

#include <google/protobuf/message.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/events/event_relay.h"
#include "common/events/event_types.h"
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

absl::Status RecordEvent(pqxx::transaction_base& tx, const OutboxEvent& event) {
  const std::string type = EventTypeName(event.service, event.name);
  const EventType* known = FindEventType(type);
  if (known == nullptr) return absl::InternalError(absl::StrCat("unknown event type ", type));
  if (event.data == nullptr || event.data->GetDescriptor()->full_name() != known->data_type) {
    return absl::InternalError(
        absl::StrCat("event ", type, " needs data of type ", known->data_type));
  }
  tx.exec_params(
      "INSERT INTO outbox_events (type, subject, district_id, street_id, community_id, data_type, "
      "data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      type, event.subject, event.org_path.district_id(), event.org_path.street_id(),
      event.org_path.community_id(), std::string(known->data_type),
      pqxx::binarystring(event.data->SerializeAsString()));
  pg::AfterCommit(WakeLocalRelays);
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
