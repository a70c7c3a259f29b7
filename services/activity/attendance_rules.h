// Confirming attendance, as pure rules: when staff may confirm, whom a call confirms, what the
// attendance earns before the caps and where its points count. No storage and no clock:
// attendance.cc reads the facts through PgAttendanceStore under the activity's lock, asks these,
// and writes the answer in the same transaction. attendance_rules_test.cc holds them without a
// database.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_ATTENDANCE_RULES_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_ATTENDANCE_RULES_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/activity.pb.h"
#include "civicpoints/activity/v1/activity_service.pb.h"
#include "services/activity/points_rules.h"

namespace civicpoints::activity {

// How long after an activity's end staff may still confirm attendance.
inline constexpr absl::Duration kConfirmationWindow = absl::Hours(24 * 7);

// The request's shape: an activity, and either everyone checked in or up to 500 distinct named
// riders. Returns the named riders in id order. Errors: INVALID_ARGUMENT naming the field.
absl::StatusOr<std::vector<std::string>> CheckConfirmRequest(
    const v1::ConfirmAttendanceRequest& req);

// OK when attendance of the activity may be confirmed at `now`: not cancelled, from its start
// until kConfirmationWindow after its end. Errors: FAILED_PRECONDITION (ACTIVITY_CANCELLED,
// CONFIRMATION_WINDOW_CLOSED).
absl::Status CheckConfirmationOpen(const std::string& activity_id, bool cancelled, absl::Time start,
                                   absl::Time end, absl::Time now);

// Whom one call confirms.
struct AttendanceChoice {
  std::vector<std::string> to_confirm;
  std::vector<std::string> already_confirmed;  // named riders confirmed before (a retry)
  std::vector<std::string> skipped_self;       // the staff member's own check-in, skipped
};
// Everyone checked in (`checked_in`), less the staff member's own attendance.
AttendanceChoice ChooseCheckedIn(const std::vector<std::string>& checked_in,
                                 const std::string& staff_id);
// The named riders with their enrolment's status (empty: never enrolled). One bad name confirms
// nobody. Errors: PERMISSION_DENIED (SELF_CONFIRMATION); NOT_FOUND for a rider never enrolled;
// FAILED_PRECONDITION (NOT_ENROLLED, WRONG_STATE) for one not checked in.
using NamedEnrolment = std::pair<std::string, std::optional<v1::EnrolmentStatus>>;
absl::StatusOr<AttendanceChoice> ChooseNamed(const std::vector<NamedEnrolment>& named,
                                             const std::string& staff_id,
                                             const std::string& activity_id);

// What attending earns before the caps: points set on the activity itself (priced by its
// organiser, at the activity's `version`), else the category's rule where the activity is.
RuleValue AttendancePrice(const v1::Activity& activity, int64_t version,
                          const ResolvedRules& rules_at_activity);

// Where a rider's points count: their home community, or, for a rider checked in nowhere, where
// the work was done (`work_path`, a whole path).
common::v1::OrgPath PointsPath(const common::v1::OrgPath& home,
                               const common::v1::OrgPath& work_path);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_ATTENDANCE_RULES_H_
