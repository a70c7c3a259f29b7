// Points rules resolved down the tree, and their checks: pure, no database.
#include "services/activity/points_rules.h"

#include <gtest/gtest.h>

namespace civicpoints::activity {
namespace {

RuleLevel Level(const std::string& org_id, int64_t version, const std::string& text_rules) {
  RuleLevel level{.org_id = org_id, .version = version};
  v1::PointsRules& r = level.rules;
  if (text_rules == "safety=20") {
    auto* e = r.add_activity_category_points();
    e->set_category(v1::ACTIVITY_CATEGORY_SAFETY);
    e->set_points(20);
  } else if (text_rules == "safety=40,cap=60") {
    auto* e = r.add_activity_category_points();
    e->set_category(v1::ACTIVITY_CATEGORY_SAFETY);
    e->set_points(40);
    r.set_daily_cap_points(60);
  } else if (text_rules == "cap=0") {
    r.set_daily_cap_points(0);
  }
  return level;
}

TEST(PointsRulesTest, TheMostSpecificNodeThatSetsAValueWins) {
  const ResolvedRules rules =
      ResolvedRules::FromLevels({Level("community", 3, "safety=20"), Level("street", 1, ""),
                                 Level("district", 7, "safety=40,cap=60")});
  const RuleValue safety = rules.ActivityPoints(v1::ACTIVITY_CATEGORY_SAFETY);
  EXPECT_EQ(safety.value, 20);
  EXPECT_EQ(safety.rule_id(), "community@v3");
  const RuleValue cap = rules.DailyCapPoints();
  EXPECT_EQ(cap.value, 60);
  EXPECT_EQ(cap.rule_id(), "district@v7");
  // Nobody set it: the city defaults, version 0.
  EXPECT_EQ(rules.DailyCapPostShifts().rule_id(), "city@v0");
  EXPECT_EQ(ResolvedRules::FromLevels({}).DailyCapPoints().value, 100);
}

TEST(PointsRulesTest, AZeroSetByANodeIsAValueNotAnAbsence) {
  const ResolvedRules rules = ResolvedRules::FromLevels(
      {Level("community", 1, "cap=0"), Level("district", 2, "safety=40,cap=60")});
  EXPECT_EQ(rules.DailyCapPoints().value, 0);
  EXPECT_EQ(rules.DailyCapPoints().org_id, "community");
}

TEST(PointsRulesTest, BadRulesAreRefusedNamingTheField) {
  v1::PointsRules bad;
  bad.add_activity_category_points()->set_points(5);
  EXPECT_EQ(CheckRules(bad).message(),
            "rules.activity_category_points[0].category: is unspecified");
  bad.mutable_activity_category_points(0)->set_category(v1::ACTIVITY_CATEGORY_SAFETY);
  bad.mutable_activity_category_points(0)->set_points(1001);
  EXPECT_EQ(CheckRules(bad).code(), absl::StatusCode::kInvalidArgument);
  bad.mutable_activity_category_points(0)->set_points(10);
  EXPECT_TRUE(CheckRules(bad).ok());
  auto* again = bad.add_activity_category_points();
  again->set_category(v1::ACTIVITY_CATEGORY_SAFETY);
  EXPECT_NE(CheckRules(bad).message().find("repeats"), std::string::npos);
}

}  // namespace
}  // namespace civicpoints::activity
