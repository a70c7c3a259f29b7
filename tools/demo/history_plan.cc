#include "tools/demo/history_plan.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"

namespace civicpoints::demo {
namespace {

namespace av1 = activity::v1;
using Kind = HistoryItem::Kind;

constexpr std::array<av1::ServiceRecordKind, 5> kProblemKinds = {
    av1::SERVICE_RECORD_KIND_ROAD_OCCUPATION, av1::SERVICE_RECORD_KIND_ILLEGAL_STRUCTURE,
    av1::SERVICE_RECORD_KIND_SANITATION, av1::SERVICE_RECORD_KIND_SAFETY_HAZARD,
    av1::SERVICE_RECORD_KIND_TRAFFIC_HAZARD};

av1::ServiceRecordKind ServiceKindOf(av1::PostKind post, int n) {
  if (n % 3 == 2) return av1::SERVICE_RECORD_KIND_RESIDENT_HELP;
  switch (post) {
    case av1::POST_KIND_CIVILITY_ADVOCATE:
      return av1::SERVICE_RECORD_KIND_CIVILITY_PROMOTION;
    case av1::POST_KIND_DISPUTE_MEDIATOR:
      return av1::SERVICE_RECORD_KIND_DISPUTE_MEDIATION;
    case av1::POST_KIND_ELDERLY_HELPER:
      return av1::SERVICE_RECORD_KIND_ELDERLY_HELP;
    default:  // grid monitors and safety patrollers patrol
      return av1::SERVICE_RECORD_KIND_GRID_PATROL;
  }
}

// The day with the fewest items so far (the later day on a tie) that still has room.
int PickDay(std::array<int, kHistoryDays>& used, int cap) {
  int best = -1;
  for (int d = kHistoryDays - 1; d >= 0; --d) {
    if (used[d] < cap && (best < 0 || used[d] < used[best])) best = d;
  }
  return best;
}

}  // namespace

std::vector<HistoryItem> PlanHistory(const RiderSpec& rider) {
  std::vector<HistoryItem> items;
  if (rider.points <= 0) return items;
  int problems = 0;
  while (problems <= 4 && (rider.points < 3 * problems || (rider.points - 3 * problems) % 5 != 0)) {
    ++problems;
  }
  int64_t units = (rider.points - 3 * problems) / 5;
  std::array<int, kHistoryDays> records_on{}, shifts_on{};
  if (rider.in_cleanup && units > 0) {
    items.push_back({.kind = Kind::kCleanup,
                     .day = kHistoryDays - 1,
                     .slot = 0,
                     .record_kind = av1::SERVICE_RECORD_KIND_ENVIRONMENT_CLEANUP,
                     .points = kServicePoints,
                     .key = "cleanup"});
    records_on[kHistoryDays - 1] = 1;
    --units;
  }
  const int64_t shifts = std::min<int64_t>((units + 1) / 2, kShiftsPerDay * kHistoryDays);
  const int64_t services = units - shifts;
  int n = 0;
  auto add_record = [&](Kind kind, av1::ServiceRecordKind record_kind, int64_t points) {
    const int day = PickDay(records_on, kRecordsPerDay);
    items.push_back({.kind = kind,
                     .day = day,
                     .slot = records_on[day]++,
                     .record_kind = record_kind,
                     .points = points,
                     .key = absl::StrCat("rec-", ++n)});
  };
  for (int i = 0; i < services; ++i) {
    add_record(Kind::kService, ServiceKindOf(rider.post_kind, i), kServicePoints);
  }
  for (int i = 0; i < problems; ++i) {
    add_record(Kind::kProblem, kProblemKinds[(rider.index + i) % kProblemKinds.size()],
               kProblemPoints);
  }
  for (int i = 0; i < shifts; ++i) {
    const int day = PickDay(shifts_on, kShiftsPerDay);
    items.push_back({.kind = Kind::kShift,
                     .day = day,
                     .slot = shifts_on[day]++,
                     .points = kShiftPoints,
                     .key = absl::StrCat("shift-", i + 1)});
  }
  return items;
}

ClockTime ItemStart(const HistoryItem& item) {
  if (item.kind == Kind::kShift) return item.slot == 0 ? ClockTime{8, 0} : ClockTime{19, 0};
  static constexpr std::array<ClockTime, kRecordsPerDay> kRecordTimes = {
      ClockTime{9, 30}, ClockTime{11, 0}, ClockTime{13, 30}, ClockTime{15, 0}, ClockTime{17, 30}};
  return kRecordTimes[item.slot % kRecordsPerDay];
}

std::string ItemDescription(const HistoryItem& item, const RiderSpec& rider) {
  if (item.kind == Kind::kShift) {
    switch (rider.post_kind) {
      case av1::POST_KIND_MOBILE_GRID_MONITOR:
        return "流动网格员值守：沿清远西街巡查网格，收集居民诉求。";
      case av1::POST_KIND_CIVILITY_ADVOCATE:
        return "文明倡导员值守：劝导不文明行为，宣传生活垃圾分类。";
      case av1::POST_KIND_SAFETY_PATROLLER:
        return "安全巡查员值守：巡查消防通道和电动车违规充电隐患。";
      case av1::POST_KIND_DISPUTE_MEDIATOR:
        return "矛盾调解员值守：在社区调解室协助调解邻里纠纷。";
      default:
        return "助老服务员值守：走访独居老人，帮助代购送餐。";
    }
  }
  switch (item.record_kind) {
    case av1::SERVICE_RECORD_KIND_ENVIRONMENT_CLEANUP:
      return "在清远街道党工委、清远西街社区党支部组织下，走进大西街一号小区开展环境整治和生活垃圾"
             "分类宣传。";
    case av1::SERVICE_RECORD_KIND_GRID_PATROL:
      return "巡查清远西街网格，排查楼道杂物和消防通道堵塞情况。";
    case av1::SERVICE_RECORD_KIND_CIVILITY_PROMOTION:
      return "向沿街商铺宣传全国文明城市创建，劝导电动车规范停放。";
    case av1::SERVICE_RECORD_KIND_ELDERLY_HELP:
      return "帮助社区独居老人取送药品、代购生活用品。";
    case av1::SERVICE_RECORD_KIND_DISPUTE_MEDIATION:
      return "协助调解居民之间因停车产生的矛盾。";
    case av1::SERVICE_RECORD_KIND_RESIDENT_HELP:
      return "帮助居民搬运重物，为外来人员指路。";
    case av1::SERVICE_RECORD_KIND_ROAD_OCCUPATION:
      return "发现一家车行将电动车摆在路边占道经营，道路拥堵，已拍照上报。";
    case av1::SERVICE_RECORD_KIND_ILLEGAL_STRUCTURE:
      return "发现小区外围一处违规搭建的小房，里面堆放了不少垃圾。";
    case av1::SERVICE_RECORD_KIND_SANITATION:
      return "发现背街小巷垃圾堆积未清运。";
    case av1::SERVICE_RECORD_KIND_SAFETY_HAZARD:
      return "发现楼道内电动车违规充电，存在消防隐患。";
    case av1::SERVICE_RECORD_KIND_TRAFFIC_HAZARD:
      return "发现路口信号灯故障，存在交通隐患。";
    default:
      return "为社区提供志愿服务。";
  }
}

av1::PointsRules DemoPointsRules(const std::string& street_id) {
  av1::PointsRules rules;
  rules.set_org_id(street_id);
  for (int c = av1::ActivityCategory_MIN; c <= av1::ActivityCategory_MAX; ++c) {
    if (c == av1::ACTIVITY_CATEGORY_UNSPECIFIED || !av1::ActivityCategory_IsValid(c)) continue;
    av1::ActivityCategoryPoints* e = rules.add_activity_category_points();
    e->set_category(static_cast<av1::ActivityCategory>(c));
    e->set_points(10);
  }
  for (int k = av1::PostKind_MIN; k <= av1::PostKind_MAX; ++k) {
    if (k == av1::POST_KIND_UNSPECIFIED || !av1::PostKind_IsValid(k)) continue;
    av1::PostShiftPoints* e = rules.add_post_shift_points();
    e->set_post_kind(static_cast<av1::PostKind>(k));
    e->set_points(kShiftPoints);
  }
  for (int k = av1::ServiceRecordKind_MIN; k <= av1::ServiceRecordKind_MAX; ++k) {
    if (k == av1::SERVICE_RECORD_KIND_UNSPECIFIED || !av1::ServiceRecordKind_IsValid(k)) continue;
    av1::ServiceRecordPoints* e = rules.add_service_record_points();
    e->set_kind(static_cast<av1::ServiceRecordKind>(k));
    e->set_points(k >= 100 ? kProblemPoints : kServicePoints);
  }
  rules.set_max_points_per_activity(100);
  rules.set_daily_cap_points(kDailyCapPoints);
  rules.set_daily_cap_service_records(kRecordsPerDay);
  rules.set_daily_cap_post_shifts(kShiftsPerDay);
  rules.set_problem_fixed_bonus_points(kProblemFixedBonus);
  return rules;
}

}  // namespace civicpoints::demo
