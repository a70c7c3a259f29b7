// The proto enums whose values activity's SQL names (common/pg/sql_enums.h): enrolment_status(),
// award_status(), award_source_kind(), check_in_method(), post_status(), post_claim_status(),
// duty_shift_status(), service_record_status(), place_kind(), org_level() and the rest below.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_SQL_ENUMS_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_SQL_ENUMS_H_

#include "civicpoints/activity/v1/activity.pb.h"
#include "civicpoints/activity/v1/award.pb.h"
#include "civicpoints/activity/v1/place.pb.h"
#include "civicpoints/activity/v1/post.pb.h"
#include "civicpoints/activity/v1/problem_case.pb.h"
#include "civicpoints/activity/v1/service_record.pb.h"
#include "civicpoints/common/v1/types.pb.h"
#include "common/pg/sql_enums.h"

namespace civicpoints::activity {

inline pg::SqlEnums ActivitySqlEnums() {
  return {v1::ActivityCategory_descriptor(),   v1::ActivityAudience_descriptor(),
          v1::EnrolmentStatus_descriptor(),    v1::CheckInMethod_descriptor(),
          v1::AwardSourceKind_descriptor(),    v1::AwardStatus_descriptor(),
          v1::PostKind_descriptor(),           v1::PostStatus_descriptor(),
          v1::PostClaimStatus_descriptor(),    v1::DutyShiftStatus_descriptor(),
          v1::ServiceRecordKind_descriptor(),  v1::ServiceRecordStatus_descriptor(),
          v1::PlaceKind_descriptor(),          v1::PlaceServiceType_descriptor(),
          v1::AppealDecision_descriptor(),     common::v1::OrgLevel_descriptor(),
          v1::ProblemCaseStatus_descriptor(),  v1::ProblemCaseOutcome_descriptor(),
          v1::ProblemCaseStepKind_descriptor()};
}

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_SQL_ENUMS_H_
