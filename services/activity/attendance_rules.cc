#include "services/activity/attendance_rules.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/errors.pb.h"
#include "common/status/refusal.h"

namespace civicpoints::activity {

absl::StatusOr<std::vector<std::string>> CheckConfirmRequest(
    const v1::ConfirmAttendanceRequest& req) {
  if (req.activity_id().empty()) return absl::InvalidArgumentError("activity_id: is required");
  if (req.all_checked_in() == (req.rider_ids_size() > 0)) {
    return absl::InvalidArgumentError(
        "all_checked_in, rider_ids: give exactly one (everyone checked in, or named riders)");
  }
  if (req.rider_ids_size() > 500) {
    return absl::InvalidArgumentError("rider_ids: at most 500 per call");
  }
  std::set<std::string> named;
  for (const std::string& r : req.rider_ids()) {
    if (r.empty()) return absl::InvalidArgumentError("rider_ids: holds an empty id");
    if (!named.insert(r).second) {
      return absl::InvalidArgumentError(absl::StrCat("rider_ids: repeats '", r, "'"));
    }
  }
  return std::vector<std::string>(named.begin(), named.end());
}

absl::Status CheckConfirmationOpen(const std::string& activity_id, bool cancelled, absl::Time start,
                                   absl::Time end, absl::Time now) {
  if (cancelled) {
    return Refuse(absl::StatusCode::kFailedPrecondition,
                  v1::ACTIVITY_ERROR_REASON_ACTIVITY_CANCELLED,
                  absl::StrCat("activity ", activity_id, " was cancelled"));
  }
  if (now < start || now > end + kConfirmationWindow) {
    return Refuse(absl::StatusCode::kFailedPrecondition,
                  v1::ACTIVITY_ERROR_REASON_CONFIRMATION_WINDOW_CLOSED,
                  now < start ? "attendance can be confirmed once the activity starts"
                              : "attendance can be confirmed until 7 days after the end");
  }
  return absl::OkStatus();
}

AttendanceChoice ChooseCheckedIn(const std::vector<std::string>& checked_in,
                                 const std::string& staff_id) {
  AttendanceChoice choice;
  for (const std::string& r : checked_in) {
    (r == staff_id ? choice.skipped_self : choice.to_confirm).push_back(r);
  }
  return choice;
}

absl::StatusOr<AttendanceChoice> ChooseNamed(const std::vector<NamedEnrolment>& named,
                                             const std::string& staff_id,
                                             const std::string& activity_id) {
  AttendanceChoice choice;
  for (const auto& [rider, status] : named) {
    if (rider == staff_id) {
      return Refuse(absl::StatusCode::kPermissionDenied,
                    v1::ACTIVITY_ERROR_REASON_SELF_CONFIRMATION,
                    "staff cannot confirm their own attendance");
    }
    if (!status.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("rider ", rider, " never enrolled in activity ", activity_id));
    }
    if (*status == v1::ENROLMENT_STATUS_CONFIRMED) {
      choice.already_confirmed.push_back(rider);
      continue;
    }
    if (*status != v1::ENROLMENT_STATUS_CHECKED_IN) {
      const bool never_came =
          *status == v1::ENROLMENT_STATUS_ENROLLED || *status == v1::ENROLMENT_STATUS_WITHDRAWN;
      return Refuse(absl::StatusCode::kFailedPrecondition,
                    never_came ? v1::ACTIVITY_ERROR_REASON_NOT_ENROLLED
                               : v1::ACTIVITY_ERROR_REASON_WRONG_STATE,
                    absl::StrCat("rider ", rider, " is not checked in (",
                                 v1::EnrolmentStatus_Name(*status), "); nobody was confirmed"));
    }
    choice.to_confirm.push_back(rider);
  }
  return choice;
}

RuleValue AttendancePrice(const v1::Activity& activity, int64_t version,
                          const ResolvedRules& rules_at_activity) {
  if (activity.points() > 0) {
    return RuleValue{activity.points(), activity.organiser_org_id(), version};
  }
  return rules_at_activity.ActivityPoints(activity.category());
}

common::v1::OrgPath PointsPath(const common::v1::OrgPath& home,
                               const common::v1::OrgPath& work_path) {
  return home.community_id().empty() ? work_path : home;
}

}  // namespace civicpoints::activity
