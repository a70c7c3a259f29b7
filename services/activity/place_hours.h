// Opening hours of places: checking a weekly schedule, and whether a place is open at a moment
// and when that next changes. Weekdays and "HH:MM" times are Asia/Shanghai (fixed UTC+8).
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_PLACE_HOURS_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_PLACE_HOURS_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/place.pb.h"

namespace civicpoints::activity {

// OK when `hours` is a valid schedule: always_open with no periods, or at most 21 periods, each
// with a weekday, an open time "HH:MM" 00:00..23:59 and a close time 00:00..24:00 (not after the
// open time: the period runs into the next day), no two periods sharing a moment (an overnight
// period counts against the next morning's too). Errors: INVALID_ARGUMENT naming `field`.
absl::Status CheckOpeningHours(const v1::OpeningHours& hours, absl::string_view field);

struct OpenState {
  bool open = false;
  // When `open` next flips; nullopt when it never does.
  std::optional<absl::Time> next_change;
};

// The state of a schedule alone at `t`.
OpenState ScheduleAt(const v1::OpeningHours& hours, absl::Time t);

// The state of a place at `t`: closed while temporarily closed (until closed_until, when set),
// else as its schedule says.
OpenState PlaceOpenAt(const v1::Place& place, absl::Time t);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_PLACE_HOURS_H_
