// The daily caps as a pure rule: no database.
#include "services/activity/award_rules.h"

#include <gtest/gtest.h>

namespace civicpoints::activity {
namespace {

constexpr DailyCaps kCaps{.points = 100, .service_records = 5, .post_shifts = 2};

TEST(AwardRulesTest, AnAttendanceIsCutToWhatIsLeftOfTheDaysPoints) {
  const CappedAward full = ApplyDailyCaps(v1::AWARD_SOURCE_KIND_ACTIVITY_ATTENDANCE, 30, {}, kCaps);
  EXPECT_EQ(full.points, 30);
  EXPECT_EQ(full.status, v1::AWARD_STATUS_PENDING);
  EXPECT_EQ(full.day_after.points, 30);

  const CappedAward cut =
      ApplyDailyCaps(v1::AWARD_SOURCE_KIND_ACTIVITY_ATTENDANCE, 30, {.points = 85}, kCaps);
  EXPECT_EQ(cut.points, 15);
  EXPECT_EQ(cut.points_before_cap, 30);
  EXPECT_EQ(cut.day_after.points, 100);

  const CappedAward none =
      ApplyDailyCaps(v1::AWARD_SOURCE_KIND_ACTIVITY_ATTENDANCE, 30, {.points = 100}, kCaps);
  EXPECT_EQ(none.points, 0);
  EXPECT_EQ(none.points_before_cap, 30);
  EXPECT_EQ(none.status, v1::AWARD_STATUS_CAPPED);
  EXPECT_EQ(none.day_after.points, 100);
}

TEST(AwardRulesTest, RecordsAndShiftsBeyondTheirDailyCountEarnNothing) {
  const CappedAward fifth = ApplyDailyCaps(v1::AWARD_SOURCE_KIND_SERVICE_RECORD, 5,
                                           {.points = 20, .service_records = 4}, kCaps);
  EXPECT_EQ(fifth.points, 5);
  EXPECT_EQ(fifth.day_after.service_records, 5);
  const CappedAward sixth = ApplyDailyCaps(v1::AWARD_SOURCE_KIND_SERVICE_RECORD, 5,
                                           {.points = 25, .service_records = 5}, kCaps);
  EXPECT_EQ(sixth.points, 0);
  EXPECT_EQ(sixth.status, v1::AWARD_STATUS_CAPPED);
  EXPECT_EQ(sixth.day_after.service_records, 5);

  const CappedAward third_shift =
      ApplyDailyCaps(v1::AWARD_SOURCE_KIND_POST_SHIFT, 5, {.points = 10, .post_shifts = 2}, kCaps);
  EXPECT_EQ(third_shift.points, 0);
  // A shift cap does not touch service records, nor the other way round.
  const CappedAward record = ApplyDailyCaps(v1::AWARD_SOURCE_KIND_SERVICE_RECORD, 5,
                                            {.points = 10, .post_shifts = 2}, kCaps);
  EXPECT_EQ(record.points, 5);
  EXPECT_EQ(record.day_after.post_shifts, 2);
}

TEST(AwardRulesTest, OnlyASourceThatEarnsCountsTowardsItsKindsCap) {
  // The points cap took everything: the record earned nothing and is not counted as one of five.
  const CappedAward capped = ApplyDailyCaps(v1::AWARD_SOURCE_KIND_SERVICE_RECORD, 5,
                                            {.points = 100, .service_records = 1}, kCaps);
  EXPECT_EQ(capped.points, 0);
  EXPECT_EQ(capped.day_after.service_records, 1);
  // A cap lowered below what was already earned leaves nothing, never a negative award.
  const CappedAward lowered =
      ApplyDailyCaps(v1::AWARD_SOURCE_KIND_ACTIVITY_ATTENDANCE, 10, {.points = 120}, kCaps);
  EXPECT_EQ(lowered.points, 0);
  EXPECT_EQ(lowered.day_after.points, 120);
}

}  // namespace
}  // namespace civicpoints::activity
