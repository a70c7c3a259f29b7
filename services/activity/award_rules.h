// The daily caps on what a rider earns, as a pure rule: given what the rider has earned on the
// Shanghai day of the work so far, what one more source earns. No storage, no clock: awards.cc
// reads the day under a row lock, asks this, and writes the answer in the same transaction.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_AWARD_RULES_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_AWARD_RULES_H_

#include <cstdint>

#include "civicpoints/activity/v1/award.pb.h"

namespace civicpoints::activity {

// What a rider has earned on one day so far (the rider_days row).
struct DayEarned {
  int64_t points = 0;
  int64_t service_records = 0;  // verified records that earned points
  int64_t post_shifts = 0;      // confirmed shifts that earned points
};

// The caps in force at the rider's home community (ResolvedRules::DailyCap*).
struct DailyCaps {
  int64_t points = 0;
  int64_t service_records = 0;
  int64_t post_shifts = 0;
};

struct CappedAward {
  int64_t points = 0;  // what the source earns: 0 when a cap took it all
  int64_t points_before_cap = 0;
  v1::AwardStatus status = v1::AWARD_STATUS_UNSPECIFIED;  // PENDING, or CAPPED at 0 points
  DayEarned day_after;                                    // the day with this source counted
};

// What a source of `kind` priced at `rule_points` earns on a day with `earned` under `caps`: the
// points are cut to what is left of the day's points cap; a service record or shift beyond its
// kind's daily count earns nothing; only a source that earns something counts towards its kind's
// cap. A source priced at 0 or less is not an award at all (ApplyDailyCaps is not asked).
CappedAward ApplyDailyCaps(v1::AwardSourceKind kind, int64_t rule_points, const DayEarned& earned,
                           const DailyCaps& caps);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_AWARD_RULES_H_
