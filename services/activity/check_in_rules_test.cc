// Checking in as pure rules: no database.
#include "services/activity/check_in_rules.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/errors.pb.h"
#include "common/status/refusal.h"
#include "services/activity/check_in_code.h"

namespace civicpoints::activity {
namespace {

v1::ActivityErrorReason Reason(const absl::Status& s) {
  return ReasonOf<v1::ActivityErrorReason>(s);
}

// Codes named after their period, so a test can say which period a code is of.
std::string CodeOf(int64_t index) { return absl::StrCat("code-", index); }

TEST(CheckInRulesTest, CheckInIsOpenFromItsOpeningUntilTheEnd) {
  const absl::Time opens = absl::FromUnixSeconds(1796572800), end = opens + absl::Hours(3);
  EXPECT_TRUE(CheckCheckInWindow("a1", false, opens, end, opens).ok());
  EXPECT_EQ(Reason(CheckCheckInWindow("a1", false, opens, end, opens - absl::Seconds(1))),
            v1::ACTIVITY_ERROR_REASON_CHECK_IN_NOT_OPEN);
  EXPECT_EQ(Reason(CheckCheckInWindow("a1", false, opens, end, end)),
            v1::ACTIVITY_ERROR_REASON_CHECK_IN_CLOSED);
  EXPECT_EQ(Reason(CheckCheckInWindow("a1", true, opens, end, opens)),
            v1::ACTIVITY_ERROR_REASON_ACTIVITY_CANCELLED);
  // The times are told in Beijing time: 1796572800 is 2026-12-07 00:00 there.
  EXPECT_NE(CheckCheckInWindow("a1", false, opens, end, opens - absl::Seconds(1))
                .message()
                .find("opens at 2026-12-07 00:00"),
            std::string::npos);
}

TEST(CheckInRulesTest, TheCurrentCodeMatchesAndThePreviousOneOnlyWithinTheGrace) {
  constexpr int kPeriod = 60;
  const absl::Time start_of_period = absl::FromUnixSeconds(1000 * kPeriod);
  EXPECT_EQ(JudgeCode("code-1000", start_of_period, kPeriod, CodeOf), CodeVerdict::kMatch);
  EXPECT_EQ(JudgeCode("code-999", start_of_period + absl::Seconds(kCodeGraceSeconds - 1), kPeriod,
                      CodeOf),
            CodeVerdict::kMatch);
  EXPECT_EQ(
      JudgeCode("code-999", start_of_period + absl::Seconds(kCodeGraceSeconds), kPeriod, CodeOf),
      CodeVerdict::kRotatedAway);
}

TEST(CheckInRulesTest, ACodeOfTheLastTenMinutesIsStaleAndAnythingElseIsAGuess) {
  constexpr int kPeriod = 60;
  const absl::Time now = absl::FromUnixSeconds(1000 * kPeriod + 30);
  EXPECT_EQ(JudgeCode("code-990", now, kPeriod, CodeOf), CodeVerdict::kRotatedAway);
  EXPECT_EQ(JudgeCode("code-989", now, kPeriod, CodeOf), CodeVerdict::kWrong);
  EXPECT_EQ(JudgeCode("123456", now, kPeriod, CodeOf), CodeVerdict::kWrong);
  // Long periods still look two back, and no further.
  const absl::Time hourly = absl::FromUnixSeconds(1000 * 3600 + 30);
  EXPECT_EQ(JudgeCode("code-998", hourly, 3600, CodeOf), CodeVerdict::kRotatedAway);
  EXPECT_EQ(JudgeCode("code-997", hourly, 3600, CodeOf), CodeVerdict::kWrong);
}

TEST(CheckInRulesTest, ThePhoneMustBeCloseAndItsFixPreciseEnough) {
  EXPECT_TRUE(CheckPosition(30, 199.9, 200, "清远西街小哥驿站").ok());
  const absl::Status far = CheckPosition(30, 250, 200, "清远西街小哥驿站");
  EXPECT_EQ(Reason(far), v1::ACTIVITY_ERROR_REASON_OUTSIDE_GEOFENCE);
  EXPECT_NE(far.message().find("you are 250 m from 清远西街小哥驿站"), std::string::npos);
  EXPECT_EQ(Reason(CheckPosition(201, 10, 200, "p")),
            v1::ACTIVITY_ERROR_REASON_LOCATION_TOO_INACCURATE);
  // A small geofence still accepts a fix of 100 m.
  EXPECT_TRUE(CheckPosition(100, 10, 50, "p").ok());
}

TEST(CheckInRulesTest, OnlyAnEnrolledRiderChecksInAndOnlyOnce) {
  EXPECT_TRUE(CheckRiderMayCheckIn("a1", v1::ENROLMENT_STATUS_ENROLLED).ok());
  EXPECT_EQ(Reason(CheckRiderMayCheckIn("a1", std::nullopt)),
            v1::ACTIVITY_ERROR_REASON_NOT_ENROLLED);
  EXPECT_EQ(Reason(CheckRiderMayCheckIn("a1", v1::ENROLMENT_STATUS_WITHDRAWN)),
            v1::ACTIVITY_ERROR_REASON_NOT_ENROLLED);
  const absl::Status twice = CheckRiderMayCheckIn("a1", v1::ENROLMENT_STATUS_CHECKED_IN);
  EXPECT_EQ(twice.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Reason(twice), v1::ACTIVITY_ERROR_REASON_ALREADY_CHECKED_IN);
}

}  // namespace
}  // namespace civicpoints::activity
