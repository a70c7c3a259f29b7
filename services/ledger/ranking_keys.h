// Names of rankings. A ranking is a scope (the city, a district, a street, a community) and a
// period (all time, a calendar month, an ISO week) in Asia/Shanghai time; its key is
// "<scope>|<period>", e.g. "street:s_qingyuan|month:2026-11". PostgreSQL's ranking_scores and the
// Redis sorted sets use the same keys.
#ifndef CIVICPOINTS_SERVICES_LEDGER_RANKING_KEYS_H_
#define CIVICPOINTS_SERVICES_LEDGER_RANKING_KEYS_H_

#include <optional>
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

// A season as the rankings see it: a period over the journal for one node and the nodes below it.
struct SeasonRange {
  std::string season_id;
  common::v1::OrgLevel level = common::v1::ORG_LEVEL_CITY;
  std::string org_id;  // empty for the city
  absl::Time start;    // inclusive
  absl::Time end;      // exclusive
};

// The season keys an entry counts in: for each season whose range holds `t` and whose node is on
// `path` (a path down to a community), the season's node and every node below it on the path.
std::vector<std::string> SeasonKeysFor(const common::v1::OrgPath& path, absl::Time t,
                                       const std::vector<SeasonRange>& seasons);

// The key for a ranking request; an empty MONTH or ISO_WEEK key means the period containing
// `now`; a SEASON key is the season id (an unknown season is simply an empty ranking: reads never
// touch PostgreSQL). Errors: INVALID_ARGUMENT naming the bad scope or period.
absl::StatusOr<std::string> RankingKeyFor(const common::v1::OrgScope& scope,
                                          const common::v1::RankingPeriod& period, absl::Time now);

// What a ranking key counts, as a filter over the journal: a scope, and a period that is all
// time, a span of time (a month or an ISO week, in Asia/Shanghai) or a season (whose span and node
// the seasons table holds).
struct RankingWindow {
  common::v1::OrgLevel level = common::v1::ORG_LEVEL_CITY;
  std::string org_id;               // empty for the city
  std::optional<absl::Time> start;  // inclusive; with `end` for a month or a week
  std::optional<absl::Time> end;    // exclusive
  std::string season_id;            // for a season
};

// The window of a key made by RankingKeysFor, SeasonKeysFor or RankingKeyFor. Errors:
// INVALID_ARGUMENT naming the part that is not a ranking key's.
absl::StatusOr<RankingWindow> ParseRankingKey(const std::string& key);

// "2026-11" and "2026-W48" for a moment, in Asia/Shanghai.
std::string MonthKey(absl::Time t);
std::string IsoWeekKey(absl::Time t);

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_RANKING_KEYS_H_
