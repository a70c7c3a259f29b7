// One node's dashboard overview: what the four services answered for it (OverviewInputs, gathered
// by OverviewSources) made into the contract's answer under the small-cell rule. Building is pure,
// so the rule's every case is tested without a running suite.
#ifndef CIVICPOINTS_SERVICES_INSIGHTS_OVERVIEW_H_
#define CIVICPOINTS_SERVICES_INSIGHTS_OVERVIEW_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/activity_service.pb.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "civicpoints/insights/v1/overview.pb.h"
#include "civicpoints/ledger/v1/ledger_service.pb.h"
#include "civicpoints/rewards/v1/rewards_service.pb.h"
#include "services/insights/small_cells.h"

namespace civicpoints::insights {

// The day range of an overview, "YYYY-MM-DD" in Asia/Shanghai, both days included.
struct DayRange {
  std::string from_day;
  std::string to_day;
};

// The range asked for: defaults to the 30 days ending today. Errors: INVALID_ARGUMENT
// (BAD_DATE_RANGE) naming the field for a malformed day, a reversed range or one over 366 days.
absl::StatusOr<DayRange> ResolveRange(const std::string& from_day, const std::string& to_day,
                                      absl::Time now);

// What the services answered for one node over one range.
struct OverviewInputs {
  identity::v1::OrgNode node;  // the node, with its path
  DayRange range;
  absl::Time now;
  identity::v1::OrgStats org_stats;                      // identity, the node
  std::vector<identity::v1::OrgStats> child_org_stats;   // identity, each child (names, levels)
  activity::v1::GetActivityStatsResponse activity;       // the node and its children
  activity::v1::GetPlaceCoverageStatsResponse coverage;  // with a row per community
  std::map<std::string, std::string> community_names;    // org id → name, for coverage rows
  ledger::v1::GetOrgStatisticsResponse points;           // the node and its children
  rewards::v1::GetRedemptionStatsResponse by_gift;       // rows per gift, totals of the node
  rewards::v1::GetRedemptionStatsResponse by_station;
  std::vector<rewards::v1::RedemptionStatsRow> by_day;  // rows per day with orders
  std::map<std::string, rewards::v1::RedemptionFigures> child_redemptions;  // child id → totals
  std::map<std::string, std::string> station_names;                         // place id → name
  ledger::v1::GetTopRankingResponse top;  // the node's top 15 this month
};

// The answer for `in` under `rule`.
v1::GetOrgOverviewResponse BuildOverview(const OverviewInputs& in, const SmallCellRule& rule);

}  // namespace civicpoints::insights

#endif  // CIVICPOINTS_SERVICES_INSIGHTS_OVERVIEW_H_
