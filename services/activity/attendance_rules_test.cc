// Confirming attendance as pure rules: no database.
#include "services/activity/attendance_rules.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "civicpoints/activity/v1/errors.pb.h"
#include "common/status/refusal.h"

namespace civicpoints::activity {
namespace {

v1::ActivityErrorReason Reason(const absl::Status& s) {
  return ReasonOf<v1::ActivityErrorReason>(s);
}

TEST(AttendanceRulesTest, ARequestNamesEveryoneOrDistinctRiders) {
  v1::ConfirmAttendanceRequest req;
  EXPECT_EQ(CheckConfirmRequest(req).status().code(), absl::StatusCode::kInvalidArgument);
  req.set_activity_id("a1");
  absl::Status neither = CheckConfirmRequest(req).status();
  EXPECT_NE(neither.message().find("all_checked_in, rider_ids"), std::string::npos) << neither;
  req.set_all_checked_in(true);
  ASSERT_TRUE(CheckConfirmRequest(req).ok());
  EXPECT_TRUE(CheckConfirmRequest(req)->empty());
  req.add_rider_ids("r1");
  EXPECT_EQ(CheckConfirmRequest(req).status().code(), absl::StatusCode::kInvalidArgument);
  req.set_all_checked_in(false);
  req.add_rider_ids("r0");
  EXPECT_EQ(*CheckConfirmRequest(req), (std::vector<std::string>{"r0", "r1"}));
  req.add_rider_ids("r1");
  absl::Status twice = CheckConfirmRequest(req).status();
  EXPECT_NE(twice.message().find("repeats 'r1'"), std::string::npos) << twice;
  req.clear_rider_ids();
  for (int i = 0; i < 501; ++i) req.add_rider_ids(absl::StrCat("r", i));
  EXPECT_EQ(CheckConfirmRequest(req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AttendanceRulesTest, ConfirmationRunsFromTheStartToAWeekAfterTheEnd) {
  const absl::Time start = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time end = start + absl::Hours(2);
  EXPECT_EQ(Reason(CheckConfirmationOpen("a1", false, start, end, start - absl::Seconds(1))),
            v1::ACTIVITY_ERROR_REASON_CONFIRMATION_WINDOW_CLOSED);
  EXPECT_TRUE(CheckConfirmationOpen("a1", false, start, end, start).ok());
  EXPECT_TRUE(CheckConfirmationOpen("a1", false, start, end, end + kConfirmationWindow).ok());
  EXPECT_EQ(Reason(CheckConfirmationOpen("a1", false, start, end,
                                         end + kConfirmationWindow + absl::Seconds(1))),
            v1::ACTIVITY_ERROR_REASON_CONFIRMATION_WINDOW_CLOSED);
  EXPECT_EQ(Reason(CheckConfirmationOpen("a1", true, start, end, start)),
            v1::ACTIVITY_ERROR_REASON_ACTIVITY_CANCELLED);
}

TEST(AttendanceRulesTest, EveryoneCheckedInLessTheStaffMember) {
  const AttendanceChoice c = ChooseCheckedIn({"r1", "staff", "r2"}, "staff");
  EXPECT_EQ(c.to_confirm, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(c.skipped_self, std::vector<std::string>{"staff"});
  EXPECT_TRUE(c.already_confirmed.empty());
}

TEST(AttendanceRulesTest, OneBadNameConfirmsNobody) {
  const NamedEnrolment in{"r1", v1::ENROLMENT_STATUS_CHECKED_IN};
  const NamedEnrolment done{"r2", v1::ENROLMENT_STATUS_CONFIRMED};
  absl::StatusOr<AttendanceChoice> ok = ChooseNamed({in, done}, "staff", "a1");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->to_confirm, std::vector<std::string>{"r1"});
  EXPECT_EQ(ok->already_confirmed, std::vector<std::string>{"r2"});

  EXPECT_EQ(ChooseNamed({in, {"r3", std::nullopt}}, "staff", "a1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      Reason(ChooseNamed({in, {"r3", v1::ENROLMENT_STATUS_ENROLLED}}, "staff", "a1").status()),
      v1::ACTIVITY_ERROR_REASON_NOT_ENROLLED);
  absl::Status rejected =
      ChooseNamed({in, {"r3", v1::ENROLMENT_STATUS_ATTENDANCE_REJECTED}}, "staff", "a1").status();
  EXPECT_EQ(Reason(rejected), v1::ACTIVITY_ERROR_REASON_WRONG_STATE);
  EXPECT_NE(rejected.message().find("nobody was confirmed"), std::string::npos) << rejected;
  absl::Status self = ChooseNamed({in, {"staff", in.second}}, "staff", "a1").status();
  EXPECT_EQ(self.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Reason(self), v1::ACTIVITY_ERROR_REASON_SELF_CONFIRMATION);
}

TEST(AttendanceRulesTest, PointsOnTheActivityOutrankTheCategorysRule) {
  const ResolvedRules defaults = ResolvedRules::FromLevels({});
  v1::Activity act;
  act.set_category(v1::ACTIVITY_CATEGORY_SAFETY);
  act.set_organiser_org_id("c1");
  const RuleValue by_rule = AttendancePrice(act, 7, defaults);
  EXPECT_EQ(by_rule.value, defaults.ActivityPoints(v1::ACTIVITY_CATEGORY_SAFETY).value);
  EXPECT_EQ(by_rule.org_id, kCityDefaults);
  act.set_points(12);
  const RuleValue own = AttendancePrice(act, 7, defaults);
  EXPECT_EQ(own.value, 12);
  EXPECT_EQ(own.rule_id(), "c1@v7");
}

TEST(AttendanceRulesTest, PointsCountAtHomeElseWhereTheWorkWasDone) {
  common::v1::OrgPath home, work;
  work.set_community_id("c-work");
  EXPECT_EQ(PointsPath(home, work).community_id(), "c-work");
  home.set_community_id("c-home");
  EXPECT_EQ(PointsPath(home, work).community_id(), "c-home");
}

}  // namespace
}  // namespace civicpoints::activity
