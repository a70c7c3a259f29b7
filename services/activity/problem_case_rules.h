// Problem cases' rules, pure: which open case a verified report joins (same kind, within 50 m and
// 24 h), whether a department serves a case's street, what an assignment, a progress note or a
// close does to a case in its current state, and when a case is overdue. The handlers
// (problem_case_methods.cc) read the case under its row lock, ask these and write the answer in the
// same transaction; problem_case_rules_test.cc holds them without a database.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_PROBLEM_CASE_RULES_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_PROBLEM_CASE_RULES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "civicpoints/activity/v1/problem_case.pb.h"
#include "civicpoints/common/v1/types.pb.h"

namespace civicpoints::activity {

// A report joins a case within this distance of the case's first report...
inline constexpr double kCaseLinkRadiusMeters = 50;
// ...whose problem was seen within this time of the report's.
inline constexpr absl::Duration kCaseLinkWindow = absl::Hours(24);
// The latest deadline an assignment may set.
inline constexpr absl::Duration kMaxCaseDeadlineAhead = absl::Hours(24 * 90);

// Whether a record kind is a problem found (values 100+), which opens a case once verified.
bool IsProblemKind(v1::ServiceRecordKind kind);

// An open case a report might join: where and when its first report saw the problem.
struct LinkCandidate {
  std::string case_id;
  double latitude = 0, longitude = 0;
  absl::Time first_seen;
};
// The case a report seen at `seen` at (latitude, longitude) joins: the nearest candidate within
// kCaseLinkRadiusMeters whose problem was seen within kCaseLinkWindow of it (ties: the earliest
// seen); nullopt when none, and the report opens a case of its own.
std::optional<std::string> CaseToJoin(const std::vector<LinkCandidate>& candidates, double latitude,
                                      double longitude, absl::Time seen);

// Whether a department at `department` (its path: the street it hangs under, or only the district
// for a district's department) serves a case at `where`: the same street, or the same district
// for a district's department.
bool DepartmentServes(const common::v1::OrgPath& department, const common::v1::OrgPath& where);

// The state of a case a change is decided against.
struct CaseState {
  v1::ProblemCaseStatus status = v1::PROBLEM_CASE_STATUS_UNSPECIFIED;
  std::string department_id, notice_number;
  absl::Time deadline = absl::InfinitePast();
  v1::ProblemCaseOutcome outcome = v1::PROBLEM_CASE_OUTCOME_UNSPECIFIED;
  std::string close_note, after_photo_ref;
};

// What one change call does.
enum class CaseStep {
  kApply,        // make the change
  kAlreadyDone,  // the case already is as asked: a retry, answered with the case as it is
  kClosed,       // the case is closed (final): refused (CASE_CLOSED)
  kNotAssigned,  // the case has no department yet: refused (CASE_NOT_ASSIGNED)
};

// Assigning `department_id` with `notice_number` due at `deadline`: applied to an open or assigned
// case (a reassignment), a retry when it already is exactly so.
CaseStep DecideAssign(const CaseState& now, const std::string& department_id,
                      const std::string& notice_number, absl::Time deadline);
// A progress note: only while assigned.
CaseStep DecideProgress(const CaseState& now);
// Closing with `outcome`, `note` and the after-photo `photo_ref`: applied to an assigned case, a
// retry when it was closed exactly so.
CaseStep DecideClose(const CaseState& now, v1::ProblemCaseOutcome outcome, const std::string& note,
                     const std::string& photo_ref);

// Whether a case is overdue at `now`: assigned and past its deadline.
bool IsOverdue(v1::ProblemCaseStatus status, absl::Time deadline, absl::Time now);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_PROBLEM_CASE_RULES_H_
