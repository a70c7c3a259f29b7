// The outbox of domain events: a service records an event in the same transaction as the change it
// describes, so the event exists exactly when the change does. The event relay (event_relay.h)
// later publishes it to the feed. Every producing service has the table `outbox_events` in its
// schema (its migration of that name).
#ifndef CIVICPOINTS_COMMON_EVENTS_OUTBOX_H_
#define CIVICPOINTS_COMMON_EVENTS_OUTBOX_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "civicpoints/common/v1/types.pb.h"

namespace google::protobuf {
class Message;
}
namespace pqxx {
class transaction_base;
}

namespace civicpoints::events {

struct OutboxEvent {
  absl::string_view service;  // the producing service, "activity"
  absl::string_view name;     // its event, "attendance_confirmed" (event_types.h)
  std::string subject;        // "activities/<id>/riders/<rider_id>"
  common::v1::OrgPath org_path;
  const google::protobuf::Message* data = nullptr;  // the type's data message
};

// The NOTIFY channel the relay listens on; notifications are sent when the transaction commits.
inline constexpr absl::string_view kOutboxChannel = "outbox_events";

// Appends `event` to the transaction's outbox and asks for the relay to be woken at commit.
// Errors: INTERNAL when the type is not in the suite's list or its data is the wrong message (a
// programming error; the caller's transaction should roll back).
absl::Status RecordEvent(pqxx::transaction_base& tx, const OutboxEvent& event);

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_COMMON_EVENTS_OUTBOX_H_
