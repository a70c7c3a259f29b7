#include "services/activity/check_in_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/errors.pb.h"
#include "common/base/time_units.h"
#include "common/status/refusal.h"
#include "services/activity/check_in_code.h"

namespace civicpoints::activity {

absl::Status CheckCheckInWindow(const std::string& activity_id, bool cancelled, absl::Time opens,
                                absl::Time end, absl::Time now) {
  if (cancelled) {
    return Refuse(absl::StatusCode::kFailedPrecondition,
                  v1::ACTIVITY_ERROR_REASON_ACTIVITY_CANCELLED,
                  absl::StrCat("activity ", activity_id, " was cancelled"));
  }
  if (now < opens) {
    return Refuse(absl::StatusCode::kFailedPrecondition,
                  v1::ACTIVITY_ERROR_REASON_CHECK_IN_NOT_OPEN,
                  absl::StrCat("check-in for activity ", activity_id, " opens at ",
                               absl::FormatTime("%Y-%m-%d %H:%M", opens, times::Shanghai())));
  }
  if (now >= end) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_CHECK_IN_CLOSED,
                  absl::StrCat("check-in for activity ", activity_id, " closed at ",
                               absl::FormatTime("%Y-%m-%d %H:%M", end, times::Shanghai())));
  }
  return absl::OkStatus();
}

CodeVerdict JudgeCode(const std::string& entered, absl::Time now, int period_seconds,
                      const std::function<std::string(int64_t)>& code_of) {
  const int64_t index = CodePeriod(now, period_seconds);
  if (entered == code_of(index)) return CodeVerdict::kMatch;
  if (now < absl::FromUnixSeconds(index * period_seconds + kCodeGraceSeconds) &&
      entered == code_of(index - 1)) {
    return CodeVerdict::kMatch;
  }
  for (int64_t back = 1; back <= std::max<int64_t>(2, 600 / period_seconds); ++back) {
    if (entered == code_of(index - back)) return CodeVerdict::kRotatedAway;
  }
  return CodeVerdict::kWrong;
}

absl::Status CheckPosition(int accuracy_m, double distance_m, int radius_m,
                           const std::string& place_name) {
  if (accuracy_m > std::max(100, radius_m)) {
    return Refuse(absl::StatusCode::kFailedPrecondition,
                  v1::ACTIVITY_ERROR_REASON_LOCATION_TOO_INACCURATE,
                  absl::StrCat("location: accurate only to ", accuracy_m,
                               " m; move into the open and try again"));
  }
  if (distance_m > radius_m) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_OUTSIDE_GEOFENCE,
                  absl::StrCat("location: you are ", static_cast<int>(distance_m), " m from ",
                               place_name, "; check-in needs ", radius_m, " m or less"),
                  {{"distance_meters", absl::StrCat(static_cast<int>(distance_m))},
                   {"geofence_radius_meters", absl::StrCat(radius_m)}});
  }
  return absl::OkStatus();
}

absl::Status CheckRiderMayCheckIn(const std::string& activity_id,
                                  std::optional<v1::EnrolmentStatus> status) {
  if (!status || *status == v1::ENROLMENT_STATUS_WITHDRAWN) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_NOT_ENROLLED,
                  absl::StrCat("you are not enrolled in activity ", activity_id));
  }
  if (*status != v1::ENROLMENT_STATUS_ENROLLED) {
    return Refuse(absl::StatusCode::kAlreadyExists, v1::ACTIVITY_ERROR_REASON_ALREADY_CHECKED_IN,
                  absl::StrCat("already checked in to activity ", activity_id, " (",
                               v1::EnrolmentStatus_Name(*status), ")"));
  }
  return absl::OkStatus();
}

}  // namespace civicpoints::activity
