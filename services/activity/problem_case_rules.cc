#include "services/activity/problem_case_rules.h"

#include "common/base/geo_datum.h"

namespace civicpoints::activity {

bool IsProblemKind(v1::ServiceRecordKind kind) {
  return kind >= v1::SERVICE_RECORD_KIND_ROAD_OCCUPATION;
}

std::optional<std::string> CaseToJoin(const std::vector<LinkCandidate>& candidates, double latitude,
                                      double longitude, absl::Time seen) {
  const LinkCandidate* best = nullptr;
  double best_distance = 0;
  for (const LinkCandidate& c : candidates) {
    if (absl::AbsDuration(c.first_seen - seen) > kCaseLinkWindow) continue;
    const double d = geo::DistanceMeters({c.latitude, c.longitude}, {latitude, longitude});
    if (d > kCaseLinkRadiusMeters) continue;
    if (best == nullptr || d < best_distance ||
        (d == best_distance && c.first_seen < best->first_seen)) {
      best = &c;
      best_distance = d;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->case_id;
}

bool DepartmentServes(const common::v1::OrgPath& department, const common::v1::OrgPath& where) {
  if (department.district_id().empty() || department.district_id() != where.district_id()) {
    return false;
  }
  return department.street_id().empty() || department.street_id() == where.street_id();
}

CaseStep DecideAssign(const CaseState& now, const std::string& department_id,
                      const std::string& notice_number, absl::Time deadline) {
  if (now.status == v1::PROBLEM_CASE_STATUS_CLOSED) return CaseStep::kClosed;
  if (now.status == v1::PROBLEM_CASE_STATUS_ASSIGNED && now.department_id == department_id &&
      now.notice_number == notice_number && now.deadline == deadline) {
    return CaseStep::kAlreadyDone;
  }
  return CaseStep::kApply;
}

CaseStep DecideProgress(const CaseState& now) {
  switch (now.status) {
    case v1::PROBLEM_CASE_STATUS_ASSIGNED:
      return CaseStep::kApply;
    case v1::PROBLEM_CASE_STATUS_CLOSED:
      return CaseStep::kClosed;
    default:
      return CaseStep::kNotAssigned;
  }
}

CaseStep DecideClose(const CaseState& now, v1::ProblemCaseOutcome outcome, const std::string& note,
                     const std::string& photo_ref) {
  if (now.status == v1::PROBLEM_CASE_STATUS_CLOSED) {
    const bool same =
        now.outcome == outcome && now.close_note == note && now.after_photo_ref == photo_ref;
    return same ? CaseStep::kAlreadyDone : CaseStep::kClosed;
  }
  return DecideProgress(now);
}

bool IsOverdue(v1::ProblemCaseStatus status, absl::Time deadline, absl::Time now) {
  return status == v1::PROBLEM_CASE_STATUS_ASSIGNED && now > deadline;
}

}  // namespace civicpoints::activity
