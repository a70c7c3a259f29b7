// The overview made from fixed answers of the four services: the small-cell rule for viewers and
// staff, sibling protection, dense daily series, masked names, and the day range's refusals.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "civicpoints/insights/v1/errors.pb.h"
#include "common/auth/principal.h"
#include "common/base/time_units.h"
#include "common/status/grpc_status.h"
#include "common/status/refusal.h"
#include "services/insights/insights_service.h"
#include "services/insights/overview.h"
#include "services/insights/overview_gate.h"

namespace civicpoints::insights {
namespace {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_STREET;

const SmallCellRule kViewer{.threshold = 5, .applied = true};
const SmallCellRule kStaff{.threshold = 5, .applied = false};

TEST(SmallCellsTest, AViewerSeesCountsFromOneToFourWithheldAndZeroAndFiveShown) {
  EXPECT_TRUE(MakeFigure(1, kViewer).withheld());
  EXPECT_TRUE(MakeFigure(4, kViewer).withheld());
  EXPECT_EQ(MakeFigure(4, kViewer).value(), 0);
  EXPECT_FALSE(MakeFigure(0, kViewer).withheld());
  EXPECT_FALSE(MakeFigure(5, kViewer).withheld());
  EXPECT_EQ(MakeFigure(5, kViewer).value(), 5);
  EXPECT_FALSE(MakeFigure(3, kStaff).withheld());
  EXPECT_EQ(MakeFigure(3, kStaff).value(), 3);
  EXPECT_FALSE(MakeFigure(9, {.threshold = 10, .applied = false}).withheld());
  EXPECT_TRUE(MakeFigure(9, {.threshold = 10, .applied = true}).withheld());
}

TEST(SmallCellsTest, AGroupNeverKeepsASingleWithheldCell) {
  v1::Figure a = MakeFigure(3, kViewer), b = MakeFigure(12, kViewer), c = MakeFigure(7, kViewer),
             d = MakeFigure(0, kViewer);
  ProtectGroup({&a, &b, &c, &d}, kViewer);
  EXPECT_TRUE(a.withheld());
  EXPECT_TRUE(c.withheld()) << "the smallest other non-zero cell goes with it";
  EXPECT_EQ(c.value(), 0);
  EXPECT_FALSE(b.withheld());
  EXPECT_FALSE(d.withheld());

  v1::Figure e = MakeFigure(2, kViewer), f = MakeFigure(3, kViewer), g = MakeFigure(8, kViewer);
  ProtectGroup({&e, &f, &g}, kViewer);
  EXPECT_FALSE(g.withheld()) << "two withheld cells cannot be told apart already";

  v1::Figure h = MakeFigure(2, kViewer), i = MakeFigure(0, kViewer);
  ProtectGroup({&h, &i, nullptr}, kViewer);
  EXPECT_TRUE(i.withheld()) << "with no other non-zero cell, a zero one is withheld";

  v1::Figure staff_cell = MakeFigure(2, kStaff), other = MakeFigure(9, kStaff);
  ProtectGroup({&staff_cell, &other}, kStaff);
  EXPECT_FALSE(other.withheld());
}

TEST(OverviewRangeTest, DefaultsToTheThirtyDaysEndingTodayInShanghai) {
  // 2026-12-06 20:00 UTC is 2026-12-07 04:00 in Shanghai.
  const absl::Time now =
      absl::FromCivil(absl::CivilSecond(2026, 12, 6, 20, 0, 0), absl::UTCTimeZone());
  absl::StatusOr<DayRange> range = ResolveRange("", "", now);
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_EQ(range->to_day, "2026-12-07");
  EXPECT_EQ(range->from_day, "2026-11-08");
  range = ResolveRange("2026-01-01", "2026-12-31", now);
  ASSERT_TRUE(range.ok()) << "365 days are allowed: " << range.status();
  range = ResolveRange("2024-01-01", "2024-12-31", now);
  ASSERT_TRUE(range.ok()) << "a leap year's 366 days are allowed: " << range.status();
}

TEST(OverviewRangeTest, ABadRangeIsRefusedNamingTheField) {
  const absl::Time now = absl::Now();
  absl::Status s = ResolveRange("2026-12-07", "2026-12-01", now).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "from_day")) << s;
  EXPECT_EQ(ReasonOf<v1::InsightsErrorReason>(s), v1::INSIGHTS_ERROR_REASON_BAD_DATE_RANGE);
  s = ResolveRange("2025-01-01", "2026-01-02", now).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "to_day")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "366")) << s;
  s = ResolveRange("2026-13-01", "", now).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "from_day: '2026-13-01'")) << s;
  s = ResolveRange("", "7 Dec", now).status();
  EXPECT_TRUE(absl::StrContains(s.message(), "to_day")) << s;
}

// A street with two communities: c1 has 3 checked-in riders, c2 has 12.
OverviewInputs StreetInputs() {
  OverviewInputs in;
  in.node.set_org_id("s1");
  in.node.set_name("清远街道");
  in.node.set_level(ORG_LEVEL_STREET);
  in.node.mutable_path()->set_district_id("d1");
  in.node.mutable_path()->set_street_id("s1");
  in.range = {"2026-12-01", "2026-12-03"};
  in.now = absl::Now();
  in.org_stats.set_org_id("s1");
  in.org_stats.set_riders_checked_in(15);
  in.org_stats.set_riders_registered(15);
  auto* platform = in.org_stats.add_riders_by_platform();
  platform->set_platform_name("美团");
  platform->set_riders(2);
  auto* check_ins = in.org_stats.add_check_ins_daily();
  check_ins->set_day("2026-12-02");
  check_ins->set_value(3);
  for (auto [id, riders] : {std::pair{"c1", 3}, std::pair{"c2", 12}}) {
    identity::v1::OrgStats c;
    c.set_org_id(id);
    c.set_org_name(std::string("社区") + id);
    c.set_org_level(ORG_LEVEL_COMMUNITY);
    c.set_riders_checked_in(riders);
    c.set_riders_registered(riders);
    in.child_org_stats.push_back(c);
    activity::v1::PlaceCoverage* row = in.coverage.add_communities();
    row->mutable_scope()->set_org_id(id);
    row->mutable_org_path()->set_street_id("s1");
    row->mutable_org_path()->set_community_id(id);
    row->set_rider_stations(std::string(id) == "c1" ? 1 : 0);
    row->set_communities_covered(std::string(id) == "c1" ? 1 : 0);
    row->set_communities_total(1);
  }
  in.coverage.mutable_total()->set_rider_stations(1);
  in.coverage.mutable_total()->set_communities_covered(1);
  in.coverage.mutable_total()->set_communities_total(2);
  in.community_names = {{"c1", "社区c1"}, {"c2", "社区c2"}};
  in.activity.mutable_stats()->set_activities_held(2);
  auto* held = in.activity.mutable_stats()->add_activities_held_per_day();
  held->set_day("2026-12-03");
  held->set_value(2);
  in.activity.mutable_stats()->set_review_backlog(6);
  in.points.mutable_total()->set_points_issued(120);
  in.points.mutable_total()->set_points_outstanding(90);
  for (const char* day : {"2026-12-01", "2026-12-02", "2026-12-03"}) {
    auto* d = in.points.add_points_issued_per_day();
    d->set_day(day);
    d->set_value(40);
  }
  auto* entry = in.top.add_entries();
  entry->set_rank(1);
  entry->set_person_id("p1");
  entry->set_score(60);
  entry->set_display_name("张*丰");
  return in;
}

TEST(BuildOverviewTest, AViewerSeesSmallCountsWithheldAndTheirSiblingProtected) {
  const v1::GetOrgOverviewResponse out = BuildOverview(StreetInputs(), kViewer);
  EXPECT_TRUE(out.small_cell_rule().applied());
  EXPECT_EQ(out.small_cell_rule().threshold(), 5);
  EXPECT_EQ(out.node().org_name(), "清远街道");
  EXPECT_EQ(out.node().riders_checked_in().value(), 15);
  ASSERT_EQ(out.children_size(), 2);
  EXPECT_EQ(out.children(0).org_id(), "c1");
  EXPECT_TRUE(out.children(0).riders_checked_in().withheld());
  EXPECT_TRUE(out.children(1).riders_checked_in().withheld())
      << "else 15 - 12 would give c1's count away";
  EXPECT_EQ(out.children(1).riders_checked_in().value(), 0);
  ASSERT_EQ(out.node().riders_by_platform_size(), 1);
  EXPECT_TRUE(out.node().riders_by_platform(0).riders().withheld());
  // Points and places are not counts of riders: shown.
  EXPECT_EQ(out.node().points_issued(), 120);
  EXPECT_EQ(out.node().points_outstanding(), 90);
  EXPECT_EQ(out.node().review_backlog().value(), 6);
  // Every day of the range, zeros included; a lone small day is protected by another.
  ASSERT_EQ(out.daily().activities_held_size(), 3);
  EXPECT_EQ(out.daily().activities_held(0).value(), 0);
  EXPECT_EQ(out.daily().activities_held(2).value(), 2);
  ASSERT_EQ(out.daily().check_ins_size(), 3);
  EXPECT_TRUE(out.daily().check_ins(1).figure().withheld());
  EXPECT_TRUE(out.daily().check_ins(0).figure().withheld());
  // Coverage per community, with names, and summed into each child.
  ASSERT_EQ(out.coverage_size(), 2);
  EXPECT_EQ(out.coverage(0).org_name(), "社区c1");
  EXPECT_EQ(out.children(0).rider_stations(), 1);
  EXPECT_EQ(out.children(0).communities_covered(), 1);
  EXPECT_EQ(out.children(1).communities_covered(), 0);
  EXPECT_EQ(out.node().communities_total(), 2);
  ASSERT_EQ(out.top_riders_size(), 1);
  EXPECT_EQ(out.top_riders(0).display_name(), "张*丰");
  EXPECT_EQ(out.top_riders(0).score(), 60);
}

TEST(BuildOverviewTest, StaffSeeEveryFigureExact) {
  const v1::GetOrgOverviewResponse out = BuildOverview(StreetInputs(), kStaff);
  EXPECT_FALSE(out.small_cell_rule().applied());
  EXPECT_EQ(out.children(0).riders_checked_in().value(), 3);
  EXPECT_FALSE(out.children(0).riders_checked_in().withheld());
  EXPECT_EQ(out.children(1).riders_checked_in().value(), 12);
  EXPECT_EQ(out.node().riders_by_platform(0).riders().value(), 2);
  EXPECT_EQ(out.daily().check_ins(1).figure().value(), 3);
}

TEST(RuleForTest, StaffOfTheNodeAreExactViewersWithheldOthersRefused) {
  identity::v1::OrgNode node;
  node.set_org_id("c1");
  node.set_level(ORG_LEVEL_COMMUNITY);
  node.mutable_path()->set_district_id("d1");
  node.mutable_path()->set_street_id("s1");
  auth::Principal staff;
  staff.roles = {{.role = common::v1::ROLE_COMMUNITY_STAFF, .org_id = "c1"}};
  auth::Principal viewer;
  viewer.roles = {{.role = common::v1::ROLE_ORG_VIEWER, .org_id = "s1"}};
  auth::Principal both;
  both.roles = {{.role = common::v1::ROLE_ORG_VIEWER, .org_id = "d1"},
                {.role = common::v1::ROLE_STREET_STAFF, .org_id = "s1"}};
  auth::Principal elsewhere;
  elsewhere.roles = {{.role = common::v1::ROLE_STREET_STAFF, .org_id = "s2"},
                     {.role = common::v1::ROLE_ORG_VIEWER, .org_id = "c9"}};
  EXPECT_FALSE(RuleFor(staff, node, 5)->applied);
  EXPECT_TRUE(RuleFor(viewer, node, 5)->applied);
  EXPECT_FALSE(RuleFor(both, node, 5)->applied);
  absl::Status s = RuleFor(elsewhere, node, 5).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ReasonOf<v1::InsightsErrorReason>(s), v1::INSIGHTS_ERROR_REASON_OUTSIDE_ORG_SCOPE);

  identity::v1::OrgNode city;
  city.set_org_id("root");
  city.set_level(common::v1::ORG_LEVEL_CITY);
  EXPECT_EQ(RuleFor(both, city, 5).status().code(), absl::StatusCode::kPermissionDenied);
  auth::Principal city_viewer;
  city_viewer.roles = {{.role = common::v1::ROLE_ORG_VIEWER, .org_id = "root"}};
  EXPECT_TRUE(RuleFor(city_viewer, city, 5)->applied);
}

TEST(OverviewGateTest, AtMostMaxOverviewsAtOnceTheNextToldToRetryInASecond) {
  OverviewGate gate(2);
  absl::StatusOr<OverviewGate::Pass> a = gate.Enter();
  absl::StatusOr<OverviewGate::Pass> b = gate.Enter();
  ASSERT_TRUE(a.ok() && b.ok());
  absl::StatusOr<OverviewGate::Pass> c = gate.Enter();
  ASSERT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RetryDelayOf(c.status()), absl::Seconds(1));
  EXPECT_EQ(gate.in_flight(), 2);
  { OverviewGate::Pass done = *std::move(a); }
  EXPECT_EQ(gate.in_flight(), 1);
  EXPECT_TRUE(gate.Enter().ok()) << "a finished overview lets the next one in";
  EXPECT_EQ(gate.in_flight(), 1) << "and its pass, dropped at once, left again";
}

}  // namespace
}  // namespace civicpoints::insights
