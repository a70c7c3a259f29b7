// Rankings rebuilt from the journal in one aggregate pass (docs/design/ledger-projection.md,
// "Rebuild"): in one snapshot, PostgreSQL sums each rider's changes per org path and Shanghai day
// (and per season and org path, over the seasons' ranges in one scan), with the last raise of
// each; here the days are
// folded into the rankings they count in (ranking_keys.h spells them) rider by rider, and the
// totals are written to Redis in multi-member commands. Its cost follows the riders and days in
// the journal, not its entries.
#ifndef CIVICPOINTS_SERVICES_LEDGER_RANKING_REBUILD_H_
#define CIVICPOINTS_SERVICES_LEDGER_RANKING_REBUILD_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/ledger/ranking_keys.h"
#include "services/ledger/ranking_projection.h"

namespace pqxx {
class transaction_base;
}
namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::ledger {

// Every season, as the rankings see it.
std::vector<SeasonRange> ReadSeasons(pqxx::transaction_base& tx);

struct RebuiltRankings {
  int64_t through = 0;               // the journal sequence the totals run through
  int64_t members = 0;               // riders written, summed over the rankings
  std::vector<SeasonRange> seasons;  // as read in the same snapshot
};

// Writes to `projection` the totals of the rankings `matching` accepts, from the journal's entries
// up to `through` (all of them when unset: the journal's last sequence is then the result's), and
// sets those rankings' watermarks to it. The rankings must be empty (cleared by the caller): the
// totals replace, not add. Errors: UNAVAILABLE when PostgreSQL or Redis cannot be reached.
absl::StatusOr<RebuiltRankings> RebuildFromJournal(
    pg::PgPool* pool, RankingProjection* projection,
    const std::function<bool(const std::string&)>& matching, std::optional<int64_t> through);

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_RANKING_REBUILD_H_
