// The history behind each rider's points: which services, problem reports and duty shifts they
// did on which of the six days before the story's day, such that the verified and confirmed items
// add up to exactly the rider's points under the demo's points rules, and no day passes the daily
// caps (so nothing is capped). Pure functions; the loader turns items into API calls.
//
// Why services and shifts rather than activities: an activity must start at least 10 minutes after
// it is created and is confirmed only after it started, so a past activity cannot be entered
// through the public API. Service records and duty shifts may be reported up to 7 days late.
#ifndef CIVICPOINTS_TOOLS_DEMO_HISTORY_PLAN_H_
#define CIVICPOINTS_TOOLS_DEMO_HISTORY_PLAN_H_

#include <string>
#include <vector>

#include "civicpoints/activity/v1/points_rules.pb.h"
#include "civicpoints/activity/v1/service_record.pb.h"
#include "tools/demo/story.h"

namespace civicpoints::demo {

// Days of history: day 0 is five days before the story's day, day 5 the story's day itself.
inline constexpr int kHistoryDays = 6;
// Daily caps the plan keeps within (and the rules the loader sets say).
inline constexpr int kRecordsPerDay = 5;
inline constexpr int kShiftsPerDay = 2;
inline constexpr int64_t kServicePoints = 5;
inline constexpr int64_t kProblemPoints = 3;
inline constexpr int64_t kShiftPoints = 5;
inline constexpr int64_t kDailyCapPoints = 100;
// The bonus of a fixed problem's first reporter, and who earns it in the story's case
// (DemoLoader::LoadProblemCase): a rider with no history, below the pending reports' riders.
inline constexpr int64_t kProblemFixedBonus = 5;
inline constexpr int kCaseReporter = kRiderCount - 1 - kPendingReports;

struct HistoryItem {
  enum class Kind { kCleanup, kService, kProblem, kShift };
  Kind kind = Kind::kService;
  int day = 0;   // 0..kHistoryDays-1
  int slot = 0;  // records 0..4 (slot 0 of the last day is the clean-up's), shifts 0..1
  activity::v1::ServiceRecordKind record_kind = activity::v1::SERVICE_RECORD_KIND_UNSPECIFIED;
  int64_t points = 0;
  std::string key;  // stable within the rider, e.g. "rec-3" or "shift-1"
};

// The rider's items. The clean-up, when the rider took part, is on the last day, slot 0.
// REQUIRES: rider.points is 0, 3, 5, 6 or at least 8, and leaves a service for the clean-up.
std::vector<HistoryItem> PlanHistory(const RiderSpec& rider);

// Local time of day (hour, minute) an item happened at, Asia/Shanghai; shifts last 2 hours.
struct ClockTime {
  int hour = 0;
  int minute = 0;
};
ClockTime ItemStart(const HistoryItem& item);

// What a rider writes about an item (Chinese), and where in the community it happened.
std::string ItemDescription(const HistoryItem& item, const RiderSpec& rider);

// The points rules the demo sets at Qingyuan street, so the figures do not depend on the built-in
// defaults: 5 per service and shift, 3 per problem report, the caps above, 10 per activity.
activity::v1::PointsRules DemoPointsRules(const std::string& street_id);

}  // namespace civicpoints::demo

#endif  // CIVICPOINTS_TOOLS_DEMO_HISTORY_PLAN_H_
