// The suite's event types: the one list producers record, the feed accepts and subscribers may
// filter on (docs/events.md describes each). A type is "civicpoints.<service>.v1.<name>"; its data
// is one message of the producing service's package.
#ifndef CIVICPOINTS_COMMON_EVENTS_EVENT_TYPES_H_
#define CIVICPOINTS_COMMON_EVENTS_EVENT_TYPES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace civicpoints::events {

struct EventType {
  absl::string_view service;    // "activity"
  absl::string_view name;       // "attendance_confirmed"
  absl::string_view data_type;  // "civicpoints.activity.v1.AttendanceConfirmed"
};

// Every event type, grouped by service.
const std::vector<EventType>& AllEventTypes();

// The full type name of `service`'s event `name`: "civicpoints.activity.v1.attendance_confirmed".
std::string EventTypeName(absl::string_view service, absl::string_view name);

// The type named `full_name`, or null when the suite has no such type.
const EventType* FindEventType(absl::string_view full_name);

// The CloudEvents source of a service's events: "/civicpoints/activity".
std::string EventSource(absl::string_view service);

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_COMMON_EVENTS_EVENT_TYPES_H_
