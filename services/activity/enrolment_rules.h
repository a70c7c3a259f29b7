// Enrolling in an activity as pure rules: when a rider may enrol, withdraw, and when staff may
// cancel the activity. No storage and no clock: activity_methods.cc reads the activity and the
// enrolment under their locks, asks these, and writes the answer through PgAttendanceStore.
// enrolment_rules_test.cc holds them without a database.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_ENROLMENT_RULES_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_ENROLMENT_RULES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/activity.pb.h"

namespace civicpoints::activity {

// What enrolling needs to know of the activity (whether the rider is in its audience is checked
// apart, against where identity says they are checked in).
struct EnrolFacts {
  std::string activity_id;
  bool cancelled = false;
  bool ended = false;
  absl::Time enrol_close;
  int32_t enrolled = 0, capacity = 0;
};

// OK when a rider whose enrolment is in `status` (nullopt: never enrolled), for whom the
// audience check answered `audience`, may enrol at `now`. Errors, in order: FAILED_PRECONDITION
// (ACTIVITY_CANCELLED; ENROLMENT_CLOSED with the time in Asia/Shanghai), `audience` when not OK,
// ALREADY_EXISTS (ALREADY_ENROLLED, unless withdrawn), RESOURCE_EXHAUSTED (ACTIVITY_FULL).
absl::Status CheckEnrol(const EnrolFacts& activity, const absl::Status& audience,
                        std::optional<v1::EnrolmentStatus> status, absl::Time now);

// What withdrawing an enrolment in `status` does.
enum class WithdrawEnrolmentStep {
  kApply,        // enrolled and the activity not over: withdraw and free the seat
  kAlreadyDone,  // withdrawn before: a retry
};
// Errors: FAILED_PRECONDITION (WRONG_STATE) once checked in or later, or after the activity.
absl::StatusOr<WithdrawEnrolmentStep> DecideWithdrawEnrolment(const std::string& activity_id,
                                                              v1::EnrolmentStatus status,
                                                              bool ended);

// OK when staff may cancel the activity: not over and no attendance confirmed (its awards stand).
// Errors: FAILED_PRECONDITION (WRONG_STATE).
absl::Status CheckCancel(const std::string& activity_id, bool ended, int32_t confirmed_count);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_ENROLMENT_RULES_H_
