// The outbox of domain events: a service records an event in the same transaction as the change it
// describes, so the event exists exactly when the change does. The event relay (event_relay.h)
// later publishes it to the feed. Every producing service has the table `outbox_events` in its
// schema (its migration of that name).
#ifndef CIVICPOINTS_COMMON_EVENTS_OUTBOX_H_
#define CIVICPOINTS_COMMON_EVENTS_OUTBOX_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

class EventRelay;

// Appends `event` to the transaction's outbox and, when the transaction is an InTx one
// (common/pg/transactions.h), wakes this process's relays once it commits. There is no NOTIFY:
// PostgreSQL commits notifying transactions one at a time under one lock, and a relay of another
// replica finds the event by its poll anyway.
// Errors: INTERNAL when the type is not in the suite's list or its data is the wrong message (a
// programming error; the caller's transaction should roll back).
absl::Status RecordEvent(pqxx::transaction_base& tx, const OutboxEvent& event);

// An event checked and encoded for a statement that inserts it itself, as one part of a statement
// doing more (a round trip saved on a hot path): its values for outbox_events (type, subject,
// district_id, street_id, community_id, data_type, data). Errors as RecordEvent's.
struct EncodedEvent {
  std::string type, subject, data_type, data;
  common::v1::OrgPath org_path;
};
absl::StatusOr<EncodedEvent> EncodeEvent(const OutboxEvent& event);
// After a statement inserted an encoded event: wakes this process's relays once the transaction
// commits, as RecordEvent does.
void WakeRelaysAfterCommit();

// The relays of this process that RecordEvent wakes (EventRelay::Start and its destructor).
void AddLocalRelay(EventRelay* relay);
void RemoveLocalRelay(EventRelay* relay);

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_COMMON_EVENTS_OUTBOX_H_
