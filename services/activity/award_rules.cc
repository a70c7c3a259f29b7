#include "services/activity/award_rules.h"

#include <algorithm>

namespace civicpoints::activity {

CappedAward ApplyDailyCaps(v1::AwardSourceKind kind, int64_t rule_points, const DayEarned& earned,
                           const DailyCaps& caps) {
  CappedAward out;
  out.points_before_cap = std::max<int64_t>(0, rule_points);
  int64_t points =
      std::min(out.points_before_cap, std::max<int64_t>(0, caps.points - earned.points));
  const bool record = kind == v1::AWARD_SOURCE_KIND_SERVICE_RECORD;
  const bool shift = kind == v1::AWARD_SOURCE_KIND_POST_SHIFT;
  if (record && earned.service_records >= caps.service_records) points = 0;
  if (shift && earned.post_shifts >= caps.post_shifts) points = 0;
  out.points = points;
  out.status = points > 0 ? v1::AWARD_STATUS_PENDING : v1::AWARD_STATUS_CAPPED;
  out.day_after = earned;
  out.day_after.points += points;
  if (points > 0 && record) ++out.day_after.service_records;
  if (points > 0 && shift) ++out.day_after.post_shifts;
  return out;
}

}  // namespace civicpoints::activity
