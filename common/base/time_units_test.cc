#include "common/base/time_units.h"

#include <gtest/gtest.h>

#include "google/protobuf/timestamp.pb.h"

namespace civicpoints::times {
namespace {

TEST(TimeUnitsTest, MicrosecondsRoundTripThroughTimestamps) {
  for (int64_t us :
       {int64_t{0}, int64_t{1}, int64_t{1'733'450'000'123'456}, int64_t{-1}, int64_t{-1'500'000}}) {
    google::protobuf::Timestamp ts;
    SetTime(&ts, us);
    EXPECT_GE(ts.nanos(), 0) << us;
    EXPECT_LT(ts.nanos(), 1'000'000'000) << us;
    EXPECT_EQ(UsOf(ts), us);
    EXPECT_EQ(Us(TimeOf(ts)), us);
    google::protobuf::Timestamp from_time;
    SetTime(&from_time, FromUs(us));
    EXPECT_EQ(from_time.seconds(), ts.seconds()) << us;
    EXPECT_EQ(from_time.nanos(), ts.nanos()) << us;
  }
}

TEST(TimeUnitsTest, ShanghaiDayTurnsAtSixteenHundredUtc) {
  const absl::Time before =
      absl::FromCivil(absl::CivilSecond(2026, 12, 5, 15, 59, 59), absl::UTCTimeZone());
  EXPECT_EQ(ShanghaiDay(before), "2026-12-05");
  EXPECT_EQ(ShanghaiDay(before + absl::Seconds(1)), "2026-12-06");
}

}  // namespace
}  // namespace civicpoints::times
