// Enrolling as pure rules: no database.
#include "services/activity/enrolment_rules.h"

#include <gtest/gtest.h>

#include "civicpoints/activity/v1/errors.pb.h"
#include "common/status/refusal.h"

namespace civicpoints::activity {
namespace {

v1::ActivityErrorReason Reason(const absl::Status& s) {
  return ReasonOf<v1::ActivityErrorReason>(s);
}

const absl::Time kNow = absl::FromUnixSeconds(1796572800);

// An activity open for enrolment for another hour, 29 of 30 seats taken.
EnrolFacts Open() {
  return {
      .activity_id = "a1", .enrol_close = kNow + absl::Hours(1), .enrolled = 29, .capacity = 30};
}

TEST(EnrolmentRulesTest, ARiderTakesTheLastSeatAndMayComeBackAfterWithdrawing) {
  EXPECT_TRUE(CheckEnrol(Open(), absl::OkStatus(), std::nullopt, kNow).ok());
  EXPECT_TRUE(CheckEnrol(Open(), absl::OkStatus(), v1::ENROLMENT_STATUS_WITHDRAWN, kNow).ok());
  EXPECT_EQ(Reason(CheckEnrol(Open(), absl::OkStatus(), v1::ENROLMENT_STATUS_ENROLLED, kNow)),
            v1::ACTIVITY_ERROR_REASON_ALREADY_ENROLLED);
  EnrolFacts full = Open();
  full.enrolled = 30;
  EXPECT_EQ(Reason(CheckEnrol(full, absl::OkStatus(), std::nullopt, kNow)),
            v1::ACTIVITY_ERROR_REASON_ACTIVITY_FULL);
}

TEST(EnrolmentRulesTest, EnrolmentClosesAtItsTimeWhenTheActivityEndsOrIsCancelled) {
  EXPECT_EQ(Reason(CheckEnrol(Open(), absl::OkStatus(), std::nullopt, kNow + absl::Hours(1))),
            v1::ACTIVITY_ERROR_REASON_ENROLMENT_CLOSED);
  EnrolFacts over = Open();
  over.ended = true;
  EXPECT_EQ(Reason(CheckEnrol(over, absl::OkStatus(), std::nullopt, kNow)),
            v1::ACTIVITY_ERROR_REASON_ENROLMENT_CLOSED);
  EnrolFacts cancelled = Open();
  cancelled.cancelled = true;
  cancelled.enrolled = 30;
  EXPECT_EQ(Reason(CheckEnrol(cancelled, absl::PermissionDeniedError("not for you"),
                              v1::ENROLMENT_STATUS_ENROLLED, kNow)),
            v1::ACTIVITY_ERROR_REASON_ACTIVITY_CANCELLED);
}

TEST(EnrolmentRulesTest, TheAudienceIsAskedAfterTheTimesAndBeforeTheSeats) {
  const absl::Status outside = absl::FailedPreconditionError("for riders of 清远西街社区");
  EXPECT_EQ(CheckEnrol(Open(), outside, v1::ENROLMENT_STATUS_ENROLLED, kNow), outside);
  EnrolFacts closed = Open();
  closed.ended = true;
  EXPECT_EQ(Reason(CheckEnrol(closed, outside, std::nullopt, kNow)),
            v1::ACTIVITY_ERROR_REASON_ENROLMENT_CLOSED);
}

TEST(EnrolmentRulesTest, OnlyAnEnrolmentNotYetCheckedInIsWithdrawnBeforeTheEnd) {
  EXPECT_EQ(*DecideWithdrawEnrolment("a1", v1::ENROLMENT_STATUS_ENROLLED, false),
            WithdrawEnrolmentStep::kApply);
  EXPECT_EQ(*DecideWithdrawEnrolment("a1", v1::ENROLMENT_STATUS_WITHDRAWN, true),
            WithdrawEnrolmentStep::kAlreadyDone);
  EXPECT_EQ(Reason(DecideWithdrawEnrolment("a1", v1::ENROLMENT_STATUS_CHECKED_IN, false).status()),
            v1::ACTIVITY_ERROR_REASON_WRONG_STATE);
  EXPECT_NE(DecideWithdrawEnrolment("a1", v1::ENROLMENT_STATUS_ENROLLED, true)
                .status()
                .message()
                .find("it is over"),
            std::string::npos);
}

TEST(EnrolmentRulesTest, AnActivityIsCancelledOnlyBeforeItIsOverAndAnyoneIsConfirmed) {
  EXPECT_TRUE(CheckCancel("a1", false, 0).ok());
  EXPECT_NE(CheckCancel("a1", false, 3).message().find("already has confirmed attendance"),
            std::string::npos);
  EXPECT_EQ(Reason(CheckCancel("a1", true, 0)), v1::ACTIVITY_ERROR_REASON_WRONG_STATE);
}

}  // namespace
}  // namespace civicpoints::activity
