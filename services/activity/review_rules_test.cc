// Staff reviews as pure rules: no database.
#include "services/activity/review_rules.h"

#include <gtest/gtest.h>

namespace civicpoints::activity {
namespace {

constexpr auto kSubmitted = v1::DUTY_SHIFT_STATUS_SUBMITTED;
constexpr auto kConfirmed = v1::DUTY_SHIFT_STATUS_CONFIRMED;
constexpr auto kRejected = v1::DUTY_SHIFT_STATUS_REJECTED;

TEST(ReviewRulesTest, AWaitingSubmissionIsReviewedOnceAndARetryFindsItDone) {
  EXPECT_EQ(DecideReview("staff", "rider", kSubmitted, kSubmitted, kConfirmed), ReviewStep::kApply);
  EXPECT_EQ(DecideReview("staff", "rider", kConfirmed, kSubmitted, kConfirmed),
            ReviewStep::kAlreadyDone);
  EXPECT_EQ(DecideReview("staff", "rider", kSubmitted, kSubmitted, kRejected), ReviewStep::kApply);
  EXPECT_EQ(DecideReview("staff", "rider", kRejected, kSubmitted, kRejected),
            ReviewStep::kAlreadyDone);
}

TEST(ReviewRulesTest, ASubmissionThatWentTheOtherWayIsInTheWrongState) {
  // A rejected shift is not confirmed later, nor a confirmed one rejected (its award stands; a
  // ledger reversal corrects it).
  EXPECT_EQ(DecideReview("staff", "rider", kRejected, kSubmitted, kConfirmed),
            ReviewStep::kWrongState);
  EXPECT_EQ(DecideReview("staff", "rider", kConfirmed, kSubmitted, kRejected),
            ReviewStep::kWrongState);
  // An appealed record is decided by the appeal, not verified again.
  EXPECT_EQ(DecideReview("staff", "rider", v1::SERVICE_RECORD_STATUS_APPEALED,
                         v1::SERVICE_RECORD_STATUS_SUBMITTED, v1::SERVICE_RECORD_STATUS_VERIFIED),
            ReviewStep::kWrongState);
}

TEST(ReviewRulesTest, NobodyReviewsTheirOwnSubmissionInAnyState) {
  for (auto status : {kSubmitted, kConfirmed, kRejected}) {
    EXPECT_EQ(DecideReview("p1", "p1", status, kSubmitted, kConfirmed), ReviewStep::kOwnSubmission)
        << status;
  }
}

TEST(ReviewRulesTest, AnUpheldAppealVerifiesTheRecordAndADeniedOneClosesIt) {
  EXPECT_EQ(StatusAfterAppeal(v1::APPEAL_DECISION_UPHOLD_APPEAL),
            v1::SERVICE_RECORD_STATUS_VERIFIED);
  EXPECT_EQ(StatusAfterAppeal(v1::APPEAL_DECISION_DENY_APPEAL),
            v1::SERVICE_RECORD_STATUS_APPEAL_DENIED);
}

}  // namespace
}  // namespace civicpoints::activity
