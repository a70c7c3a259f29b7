// Names of rankings. A ranking is a scope (the city, a district, a street, a community) and a
// period (all time, a calendar month, an ISO week) in Asia/Shanghai time; its key is
// "<scope>|<period>", e.g. "street:s_qingyuan|month:2026-11". PostgreSQL's ranking_scores and the
// Redis sorted sets use the same keys.
#ifndef CIVICPOINTS_SERVICES_LEDGER_RANKING_KEYS_H_
#define CIVICPOINTS_SERVICES_LEDGER_RANKING_KEYS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/common/v1/ranking.pb.h"
#include "civicpoints/common/v1/types.pb.h"

namespace civicpoints::ledger {

// The keys an award earned at `path` at `occur_time` counts in: every scope the path names (plus
// the city) times all-time, its month and its ISO week.
std::vector<std::string> RankingKeysFor(const common::v1::OrgPath& path, absl::Time occur_time);

// The key for a ranking request; an empty MONTH or ISO_WEEK key means the period containing
// `now`; a SEASON key is the season id (an unknown season is simply an empty ranking: reads never
// touch PostgreSQL). Errors: INVALID_ARGUMENT naming the bad scope or period.
absl::StatusOr<std::string> RankingKeyFor(const common::v1::OrgScope& scope,
                                          const common::v1::RankingPeriod& period, absl::Time now);

// "2026-11" and "2026-W48" for a moment, in Asia/Shanghai.
std::string MonthKey(absl::Time t);
std::string IsoWeekKey(absl::Time t);

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_RANKING_KEYS_H_
