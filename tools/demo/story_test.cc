#include "tools/demo/story.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tools/demo/history_plan.h"

namespace civicpoints::demo {
namespace {

namespace av1 = activity::v1;

TEST(StoryTest, OrgTreeHoldsTheStorysDistrictsStreetsAndCommunities) {
  std::map<common::v1::OrgLevel, int> per_level;
  std::set<std::string> seen, names;
  for (const OrgNodeSpec& n : StoryOrgTree()) {
    ++per_level[n.level];
    if (!n.parent_code.empty()) {
      EXPECT_TRUE(seen.count(n.parent_code)) << n.code;
    }
    EXPECT_TRUE(seen.insert(n.code).second) << n.code;
    EXPECT_LE(n.code.size(), 32u);
    names.insert(n.name);
  }
  EXPECT_EQ(per_level[common::v1::ORG_LEVEL_DISTRICT], 2);
  EXPECT_EQ(per_level[common::v1::ORG_LEVEL_STREET], 6);
  EXPECT_EQ(per_level[common::v1::ORG_LEVEL_COMMUNITY], 6);
  EXPECT_EQ(per_level[common::v1::ORG_LEVEL_DEPARTMENT], 1);
  for (const char* name : {"平城区", "云冈区", "清远街道", "新旺街道", "水泊寺街道", "平盛街道",
                           "迎宾街道", "武定街道", "清远西街社区", "工农路社区", "文兴社区",
                           "安华里社区", "迎宾路社区", "安益园社区"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
}

TEST(StoryTest, QingyuanHasNineStationsAnd137LoveCornersOfNineKindsOfService) {
  int stations = 0, corners = 0, on_street = 0;
  std::set<int> corner_services;
  std::set<std::string> keys, names{CleanupVenue().place.name()};
  for (const PlaceSpec& p : StoryPlaces()) {
    EXPECT_TRUE(keys.insert(p.key).second) << p.key;
    // The loader finds places it made before by name.
    EXPECT_TRUE(names.insert(p.place.name()).second) << p.place.name();
    const av1::Place& place = p.place;
    EXPECT_NEAR(place.location().latitude(), 40.09, 0.02) << place.name();
    EXPECT_NEAR(place.location().longitude(), 113.29, 0.02) << place.name();
    EXPECT_FALSE(place.services().empty());
    EXPECT_TRUE(place.opening_hours().always_open() || place.opening_hours().periods_size() == 7);
    if (place.kind() == av1::PLACE_KIND_RIDER_STATION) {
      ++stations;
    } else {
      ASSERT_EQ(place.kind(), av1::PLACE_KIND_LOVE_CORNER);
      ++corners;
      for (int s : place.services()) corner_services.insert(s);
      if (p.on_demonstration_street) {
        ++on_street;
        EXPECT_NE(place.address().find("清远西街"), std::string::npos) << place.address();
      }
    }
  }
  EXPECT_EQ(stations, kStationCount);
  EXPECT_EQ(stations, 9);
  EXPECT_EQ(corners, 137);
  EXPECT_EQ(on_street, 107);
  EXPECT_EQ(corner_services.size(), 9u);
}

TEST(StoryTest, FiftySixRidersWithTheirOwnPhonesAndPlatformIds) {
  std::set<std::string> phones, ids, names;
  std::map<int, int> per_post;
  int in_cleanup = 0;
  for (const RiderSpec& r : StoryRiders()) {
    EXPECT_TRUE(phones.insert(r.phone).second) << r.phone;
    EXPECT_EQ(r.phone.size(), 11u);
    EXPECT_TRUE(ids.insert(r.platform.platform_rider_id()).second);
    EXPECT_TRUE(names.insert(r.display_name).second) << r.display_name;
    ++per_post[r.post_kind];
    in_cleanup += r.in_cleanup;
  }
  EXPECT_EQ(phones.size(), 56u);
  EXPECT_EQ(per_post.size(), 5u);  // the five governance posts
  for (auto [kind, riders] : per_post) {
    EXPECT_LE(riders, PostSeats(static_cast<av1::PostKind>(kind)));
  }
  EXPECT_GE(in_cleanup, 17);  // "nearly 20 riders"
  EXPECT_LE(in_cleanup, 20);
}

TEST(StoryTest, TheLeaderHas109PointsAndTheTop15StandAboveTheRest) {
  const std::vector<RiderSpec>& riders = StoryRiders();
  EXPECT_EQ(riders[0].points, 109);
  for (size_t i = 1; i < riders.size(); ++i) {
    EXPECT_LE(riders[i].points, riders[i - 1].points);
    if (i < static_cast<size_t>(kExchangeTopN)) {
      EXPECT_LT(riders[i].points, riders[i - 1].points);
    }
  }
  EXPECT_GT(riders[kExchangeTopN - 1].points, riders[kExchangeTopN].points);
  // The leader can afford what the story says he took: laundry detergent and wet wipes.
  int64_t cost = 0;
  for (const GiftSpec& g : StoryGifts()) {
    if (g.name == "洗衣液" || g.name == "湿巾") cost += g.points_cost;
  }
  EXPECT_LE(cost, riders[0].points);
}

TEST(HistoryPlanTest, EveryRidersItemsAddUpToTheirPointsWithinTheDailyCaps) {
  for (const RiderSpec& r : StoryRiders()) {
    int64_t total = 0;
    std::map<int, int> records, shifts;
    std::map<int, int64_t> points;
    std::set<std::string> keys;
    std::set<std::pair<int, int>> shift_slots;
    int cleanups = 0;
    for (const HistoryItem& item : PlanHistory(r)) {
      total += item.points;
      points[item.day] += item.points;
      EXPECT_TRUE(keys.insert(item.key).second) << r.display_name << " " << item.key;
      ASSERT_GE(item.day, 0);
      ASSERT_LT(item.day, kHistoryDays);
      if (item.kind == HistoryItem::Kind::kShift) {
        ++shifts[item.day];
        EXPECT_TRUE(shift_slots.insert({item.day, item.slot}).second);
      } else {
        ++records[item.day];
        EXPECT_NE(item.record_kind, av1::SERVICE_RECORD_KIND_UNSPECIFIED);
      }
      if (item.kind == HistoryItem::Kind::kCleanup) {
        ++cleanups;
        EXPECT_EQ(item.day, kHistoryDays - 1);
      }
      EXPECT_FALSE(ItemDescription(item, r).empty());
    }
    EXPECT_EQ(total, r.points) << r.display_name;
    EXPECT_EQ(cleanups, r.in_cleanup ? 1 : 0) << r.display_name;
    for (auto [day, n] : records) EXPECT_LE(n, kRecordsPerDay) << r.display_name;
    for (auto [day, n] : shifts) EXPECT_LE(n, kShiftsPerDay) << r.display_name;
    for (auto [day, p] : points) EXPECT_LE(p, kDailyCapPoints) << r.display_name;
  }
}

TEST(HistoryPlanTest, DemoRulesPriceEveryKindTheWayThePlanCounts) {
  const av1::PointsRules rules = DemoPointsRules("street-1");
  EXPECT_EQ(rules.org_id(), "street-1");
  for (const av1::ServiceRecordPoints& e : rules.service_record_points()) {
    EXPECT_EQ(e.points(), e.kind() >= 100 ? kProblemPoints : kServicePoints);
  }
  EXPECT_EQ(rules.post_shift_points_size(), 5);
  for (const av1::PostShiftPoints& e : rules.post_shift_points()) {
    EXPECT_EQ(e.points(), kShiftPoints);
  }
  EXPECT_EQ(rules.daily_cap_service_records(), kRecordsPerDay);
  EXPECT_EQ(rules.daily_cap_post_shifts(), kShiftsPerDay);
  EXPECT_EQ(rules.daily_cap_points(), kDailyCapPoints);
  EXPECT_EQ(rules.problem_fixed_bonus_points(), kProblemFixedBonus);
  EXPECT_EQ(StoryRiders()[kCaseReporter].points, 0) << "the case's reporter has no history";
}

}  // namespace
}  // namespace civicpoints::demo
