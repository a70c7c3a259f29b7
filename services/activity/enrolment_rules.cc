#include "services/activity/enrolment_rules.h"

#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/errors.pb.h"
#include "common/base/time_units.h"
#include "common/status/refusal.h"

namespace civicpoints::activity {

absl::Status CheckEnrol(const EnrolFacts& a, const absl::Status& audience,
                        std::optional<v1::EnrolmentStatus> status, absl::Time now) {
  if (a.cancelled) {
    return Refuse(absl::StatusCode::kFailedPrecondition,
                  v1::ACTIVITY_ERROR_REASON_ACTIVITY_CANCELLED,
                  absl::StrCat("activity ", a.activity_id, " was cancelled"));
  }
  if (a.ended || now >= a.enrol_close) {
    return Refuse(
        absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_ENROLMENT_CLOSED,
        absl::StrCat("enrolment for activity ", a.activity_id, " closed at ",
                     absl::FormatTime("%Y-%m-%d %H:%M", a.enrol_close, times::Shanghai())));
  }
  if (!audience.ok()) return audience;
  if (status && *status != v1::ENROLMENT_STATUS_WITHDRAWN) {
    return Refuse(absl::StatusCode::kAlreadyExists, v1::ACTIVITY_ERROR_REASON_ALREADY_ENROLLED,
                  absl::StrCat("already enrolled in activity ", a.activity_id, " (",
                               v1::EnrolmentStatus_Name(*status), ")"));
  }
  if (a.enrolled >= a.capacity) {
    return Refuse(absl::StatusCode::kResourceExhausted, v1::ACTIVITY_ERROR_REASON_ACTIVITY_FULL,
                  absl::StrCat("activity ", a.activity_id, " is full (", a.capacity, " seats)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<WithdrawEnrolmentStep> DecideWithdrawEnrolment(const std::string& activity_id,
                                                              v1::EnrolmentStatus status,
                                                              bool ended) {
  if (status == v1::ENROLMENT_STATUS_WITHDRAWN) return WithdrawEnrolmentStep::kAlreadyDone;
  if (status != v1::ENROLMENT_STATUS_ENROLLED || ended) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_STATE,
                  absl::StrCat("cannot withdraw from activity ", activity_id, ": ",
                               ended ? "it is over" : v1::EnrolmentStatus_Name(status)));
  }
  return WithdrawEnrolmentStep::kApply;
}

absl::Status CheckCancel(const std::string& activity_id, bool ended, int32_t confirmed_count) {
  if (!ended && confirmed_count == 0) return absl::OkStatus();
  return Refuse(
      absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_STATE,
      absl::StrCat("activity ", activity_id,
                   confirmed_count > 0 ? " already has confirmed attendance" : " is over"));
}

}  // namespace civicpoints::activity
