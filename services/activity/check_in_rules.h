// Checking in to an activity as pure rules: when check-in is open, whether an entered code is the
// device's (or rotated away), whether the phone is close enough, whether a rider may check in. No
// storage and no clock: check_in_methods.cc reads the activity and enrolment under their locks,
// asks these, and writes the check-in through PgAttendanceStore. check_in_rules_test.cc holds
// them without a database.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_CHECK_IN_RULES_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_CHECK_IN_RULES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/activity.pb.h"

namespace civicpoints::activity {

// OK when check-in is open at `now`: from `opens` until the activity's `end`, unless cancelled.
// Errors: FAILED_PRECONDITION (ACTIVITY_CANCELLED, CHECK_IN_NOT_OPEN, CHECK_IN_CLOSED; the times
// in Asia/Shanghai).
absl::Status CheckCheckInWindow(const std::string& activity_id, bool cancelled, absl::Time opens,
                                absl::Time end, absl::Time now);

// What an entered code is. `code_of(i)` is the code of period i (check_in_code.h).
enum class CodeVerdict {
  kMatch,        // this period's code, or the last one within kCodeGraceSeconds of its rotation
  kRotatedAway,  // a code of the last ten minutes (at least two periods): seen, but stale
  kWrong,        // anything else: a guess, counted by the throttle
};
CodeVerdict JudgeCode(const std::string& entered, absl::Time now, int period_seconds,
                      const std::function<std::string(int64_t)>& code_of);

// OK when a phone reporting `accuracy_m` at `distance_m` from the place may check in within
// `radius_m`. Errors: FAILED_PRECONDITION (LOCATION_TOO_INACCURATE when the fix is vaguer than
// max(100 m, radius); OUTSIDE_GEOFENCE with the distance).
absl::Status CheckPosition(int accuracy_m, double distance_m, int radius_m,
                           const std::string& place_name);

// OK when a rider whose enrolment is in `status` (nullopt: never enrolled) may check in
// themselves. Errors: FAILED_PRECONDITION (NOT_ENROLLED, also after a withdrawal), ALREADY_EXISTS
// (ALREADY_CHECKED_IN).
absl::Status CheckRiderMayCheckIn(const std::string& activity_id,
                                  std::optional<v1::EnrolmentStatus> status);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_CHECK_IN_RULES_H_
