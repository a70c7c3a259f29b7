#include "services/activity/problem_case_rules.h"

#include <gtest/gtest.h>

namespace civicpoints::activity {
namespace {

const absl::Time kSeen = absl::FromUnixSeconds(1'760'000'000);
// About 1 m of latitude, in degrees.
constexpr double kMetre = 1.0 / 111'195;

TEST(ProblemCaseRulesTest, AReportJoinsTheNearestCaseWithin50MetresAnd24Hours) {
  const std::vector<LinkCandidate> open = {
      {.case_id = "far", .latitude = 40.0 + 80 * kMetre, .longitude = 113.3, .first_seen = kSeen},
      {.case_id = "near", .latitude = 40.0 + 30 * kMetre, .longitude = 113.3, .first_seen = kSeen},
      {.case_id = "nearest_but_old",
       .latitude = 40.0 + 5 * kMetre,
       .longitude = 113.3,
       .first_seen = kSeen - absl::Hours(25)},
  };
  EXPECT_EQ(CaseToJoin(open, 40.0, 113.3, kSeen + absl::Hours(2)), "near");
  // 49 m joins; 51 m opens its own.
  EXPECT_EQ(CaseToJoin({{.case_id = "c",
                         .latitude = 40.0 + 49 * kMetre,
                         .longitude = 113.3,
                         .first_seen = kSeen}},
                       40.0, 113.3, kSeen),
            "c");
  EXPECT_EQ(CaseToJoin({{.case_id = "c",
                         .latitude = 40.0 + 51 * kMetre,
                         .longitude = 113.3,
                         .first_seen = kSeen}},
                       40.0, 113.3, kSeen),
            std::nullopt);
  // 24 h either side, not a second more (a report may describe a problem seen before the first's).
  const LinkCandidate here{
      .case_id = "c", .latitude = 40.0, .longitude = 113.3, .first_seen = kSeen};
  EXPECT_EQ(CaseToJoin({here}, 40.0, 113.3, kSeen + absl::Hours(24)), "c");
  EXPECT_EQ(CaseToJoin({here}, 40.0, 113.3, kSeen - absl::Hours(24)), "c");
  EXPECT_EQ(CaseToJoin({here}, 40.0, 113.3, kSeen + absl::Hours(24) + absl::Seconds(1)),
            std::nullopt);
  EXPECT_EQ(CaseToJoin({}, 40.0, 113.3, kSeen), std::nullopt);
}

TEST(ProblemCaseRulesTest, ADepartmentServesItsStreetOrItsWholeDistrict) {
  common::v1::OrgPath where;
  where.set_district_id("d1");
  where.set_street_id("s1");
  where.set_community_id("c1");
  common::v1::OrgPath street_team;
  street_team.set_district_id("d1");
  street_team.set_street_id("s1");
  EXPECT_TRUE(DepartmentServes(street_team, where));
  street_team.set_street_id("s2");
  EXPECT_FALSE(DepartmentServes(street_team, where));
  common::v1::OrgPath district_office;
  district_office.set_district_id("d1");
  EXPECT_TRUE(DepartmentServes(district_office, where));
  district_office.set_district_id("d2");
  EXPECT_FALSE(DepartmentServes(district_office, where));
  EXPECT_FALSE(DepartmentServes(common::v1::OrgPath(), where));
}

TEST(ProblemCaseRulesTest, AnAssignmentMayBeRepeatedOrChangedUntilTheCaseCloses) {
  CaseState open{.status = v1::PROBLEM_CASE_STATUS_OPEN};
  const absl::Time due = kSeen + absl::Hours(72);
  EXPECT_EQ(DecideAssign(open, "dep1", "N-1", due), CaseStep::kApply);
  CaseState assigned{.status = v1::PROBLEM_CASE_STATUS_ASSIGNED,
                     .department_id = "dep1",
                     .notice_number = "N-1",
                     .deadline = due};
  EXPECT_EQ(DecideAssign(assigned, "dep1", "N-1", due), CaseStep::kAlreadyDone);
  EXPECT_EQ(DecideAssign(assigned, "dep2", "N-1", due), CaseStep::kApply);
  EXPECT_EQ(DecideAssign(assigned, "dep1", "N-1", due + absl::Hours(1)), CaseStep::kApply);
  CaseState closed = assigned;
  closed.status = v1::PROBLEM_CASE_STATUS_CLOSED;
  EXPECT_EQ(DecideAssign(closed, "dep1", "N-1", due), CaseStep::kClosed);
}

TEST(ProblemCaseRulesTest, ProgressAndClosingNeedAnAssignedCaseAndAClosedOneIsFinal) {
  EXPECT_EQ(DecideProgress({.status = v1::PROBLEM_CASE_STATUS_OPEN}), CaseStep::kNotAssigned);
  EXPECT_EQ(DecideProgress({.status = v1::PROBLEM_CASE_STATUS_ASSIGNED}), CaseStep::kApply);
  EXPECT_EQ(DecideProgress({.status = v1::PROBLEM_CASE_STATUS_CLOSED}), CaseStep::kClosed);
  const v1::ProblemCaseOutcome fixed = v1::PROBLEM_CASE_OUTCOME_FIXED;
  EXPECT_EQ(DecideClose({.status = v1::PROBLEM_CASE_STATUS_OPEN}, fixed, "moved", "p.jpg"),
            CaseStep::kNotAssigned);
  EXPECT_EQ(DecideClose({.status = v1::PROBLEM_CASE_STATUS_ASSIGNED}, fixed, "moved", "p.jpg"),
            CaseStep::kApply);
  const CaseState closed{.status = v1::PROBLEM_CASE_STATUS_CLOSED,
                         .outcome = fixed,
                         .close_note = "moved",
                         .after_photo_ref = "p.jpg"};
  EXPECT_EQ(DecideClose(closed, fixed, "moved", "p.jpg"), CaseStep::kAlreadyDone);
  EXPECT_EQ(DecideClose(closed, fixed, "moved back", "p.jpg"), CaseStep::kClosed);
  EXPECT_EQ(DecideClose(closed, v1::PROBLEM_CASE_OUTCOME_NOT_FIXED, "moved", "p.jpg"),
            CaseStep::kClosed);
}

TEST(ProblemCaseRulesTest, OnlyAnAssignedCasePastItsDeadlineIsOverdue) {
  const absl::Time due = kSeen;
  EXPECT_FALSE(IsOverdue(v1::PROBLEM_CASE_STATUS_ASSIGNED, due, due));
  EXPECT_TRUE(IsOverdue(v1::PROBLEM_CASE_STATUS_ASSIGNED, due, due + absl::Seconds(1)));
  EXPECT_FALSE(IsOverdue(v1::PROBLEM_CASE_STATUS_CLOSED, due, due + absl::Hours(1)));
  EXPECT_FALSE(IsOverdue(v1::PROBLEM_CASE_STATUS_OPEN, due, due + absl::Hours(1)));
}

TEST(ProblemCaseRulesTest, OnlyProblemKindsOpenCases) {
  EXPECT_TRUE(IsProblemKind(v1::SERVICE_RECORD_KIND_ROAD_OCCUPATION));
  EXPECT_TRUE(IsProblemKind(v1::SERVICE_RECORD_KIND_OTHER_PROBLEM));
  EXPECT_FALSE(IsProblemKind(v1::SERVICE_RECORD_KIND_OTHER_SERVICE));
  EXPECT_FALSE(IsProblemKind(v1::SERVICE_RECORD_KIND_GRID_PATROL));
}

}  // namespace
}  // namespace civicpoints::activity
