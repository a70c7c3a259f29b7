#include "services/ledger/ranking_keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

TEST(RankingKeysTest, EveryKeyAnEntryCountsInParsesBackToAWindowHoldingIt) {
  common::v1::OrgPath path;
  path.set_district_id("d");
  path.set_street_id("s");
  path.set_community_id("c");
  for (const absl::Time t :
       {Shanghai(2026, 12, 1, 0), Shanghai(2026, 11, 30, 23), Shanghai(2027, 1, 1, 12),
        Shanghai(2025, 12, 29, 0), Shanghai(2026, 12, 28, 23)}) {
    for (const std::string& key : RankingKeysFor(path, t)) {
      absl::StatusOr<RankingWindow> w = ParseRankingKey(key);
      ASSERT_TRUE(w.ok()) << key << ": " << w.status();
      if (w->start.has_value()) {
        EXPECT_LE(*w->start, t) << key;
        EXPECT_LT(t, *w->end) << key;
      }
    }
  }
  absl::StatusOr<RankingWindow> week = ParseRankingKey("street:s|week:2026-W53");
  ASSERT_TRUE(week.ok());
  EXPECT_EQ(week->level, common::v1::ORG_LEVEL_STREET);
  EXPECT_EQ(week->org_id, "s");
  EXPECT_EQ(*week->start, Shanghai(2026, 12, 28, 0));
  EXPECT_EQ(*week->end, Shanghai(2027, 1, 4, 0));
  absl::StatusOr<RankingWindow> month = ParseRankingKey("city|month:2026-02");
  ASSERT_TRUE(month.ok());
  EXPECT_EQ(*month->end - *month->start, absl::Hours(24 * 28));
  absl::StatusOr<RankingWindow> season = ParseRankingKey("community:c|season:season-3");
  ASSERT_TRUE(season.ok());
  EXPECT_EQ(season->season_id, "season-3");
  EXPECT_FALSE(season->start.has_value());
  for (const char* bad : {"city", "town:x|all", "street:|all", "city|month:2026-13",
                          "city|week:2025-W53", "city|month:2026-1x", "city|season:"}) {
    EXPECT_EQ(ParseRankingKey(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
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

}  // namespace
}  // namespace civicpoints::ledger
