#include "common/events/outbox.h"

#include <google/protobuf/message.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/events/event_types.h"

namespace civicpoints::events {

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
  // Several notifications of one transaction fold into one; the relay reads the table anyway.
  tx.exec(absl::StrCat("NOTIFY ", kOutboxChannel));
  return absl::OkStatus();
}

}  // namespace civicpoints::events
