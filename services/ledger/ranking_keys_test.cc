#include "services/ledger/ranking_keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/ledger/rankings.h"

namespace civicpoints::ledger {
namespace {

absl::Time Shanghai(int y, int m, int d, int hh) {
  return absl::FromCivil(absl::CivilHour(y, m, d, hh), absl::FixedTimeZone(8 * 3600));
}

TEST(RankingKeysTest, MonthAndIsoWeekFollowShanghaiTime) {
  // 2026-11-30 23:00 in Shanghai is still November there, though already December... no: it is
  // 15:00 UTC the same day. 2026-12-01 01:00 Shanghai is 2026-11-30 17:00 UTC: December.
  EXPECT_EQ(MonthKey(Shanghai(2026, 12, 1, 1)), "2026-12");
  EXPECT_EQ(MonthKey(Shanghai(2026, 11, 30, 23)), "2026-11");
  // ISO weeks: 2027-01-01 is a Friday, so it belongs to 2026-W53.
  EXPECT_EQ(IsoWeekKey(Shanghai(2027, 1, 1, 12)), "2026-W53");
  EXPECT_EQ(IsoWeekKey(Shanghai(2026, 11, 28, 12)), "2026-W48");
  EXPECT_EQ(IsoWeekKey(Shanghai(2025, 12, 29, 12)), "2026-W01");
}

TEST(RankingKeysTest, AnAwardCountsInEveryScopeOfItsPathTimesEveryPeriod) {
  common::v1::OrgPath path;
  path.set_district_id("d");
  path.set_street_id("s");
  path.set_community_id("c");
  std::vector<std::string> keys = RankingKeysFor(path, Shanghai(2026, 11, 8, 10));
  EXPECT_EQ(keys.size(), 12u);
  EXPECT_THAT(keys, ::testing::Contains("community:c|month:2026-11"));
  EXPECT_THAT(keys, ::testing::Contains("city|all"));
  EXPECT_THAT(keys, ::testing::Contains("street:s|week:2026-W45"));
}

TEST(RankingScoreTest, MorePointsRankHigherAndEarlierWinsTies) {
  const absl::Time t = Shanghai(2026, 11, 8, 10);
  EXPECT_GT(EncodeRankingScore(11, t + absl::Hours(1)), EncodeRankingScore(10, t));
  EXPECT_GT(EncodeRankingScore(10, t), EncodeRankingScore(10, t + absl::Seconds(1)));
  EXPECT_EQ(DecodeRankingPoints(EncodeRankingScore(109, t)), 109);
  EXPECT_EQ(DecodeRankingPoints(EncodeRankingScore(8388607, t)), 8388607);
}

}  // namespace
}  // namespace civicpoints::ledger
