// Lookups several commands share: an org node named by id, code or "root"; display names for a set
// of people (to label rankings and lists); the ranking scope of an org node; a ranking period.
#ifndef CIVICPOINTS_TOOLS_CPCTL_LOOKUPS_H_
#define CIVICPOINTS_TOOLS_CPCTL_LOOKUPS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "civicpoints/common/v1/ranking.pb.h"
#include "civicpoints/common/v1/types.pb.h"
#include "civicpoints/identity/v1/org.pb.h"

namespace civicpoints::cpctl {

class Context;

// The node with id `ref`, or else with code `ref` ("root" is the city root). NOT_FOUND naming `ref`
// when neither exists.
absl::StatusOr<identity::v1::OrgNode> ResolveOrg(Context& ctx, absl::string_view ref);
// ResolveOrg's node id.
absl::StatusOr<std::string> ResolveOrgId(Context& ctx, absl::string_view ref);
// The ranking/statistics scope (level and id) of the node `ref` names.
absl::StatusOr<common::v1::OrgScope> ResolveScope(Context& ctx, absl::string_view ref);

// Display names of `person_ids` (best effort: ids the caller may not see, or any failure, are
// simply missing from the map).
std::map<std::string, std::string> PeopleNames(Context& ctx, const std::vector<std::string>& ids);

// A ranking period: "all", "month" (current), "month:2026-11", "week" (current), "week:2026-W48",
// "season:ID". INVALID_ARGUMENT naming `what` otherwise.
absl::StatusOr<common::v1::RankingPeriod> ParsePeriod(absl::string_view text,
                                                      absl::string_view what);
// "all", "month 2026-11", ...
std::string PeriodLabel(const common::v1::RankingPeriod& period);

// Help text for the --period flag.
extern const char kPeriodHelp[];

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_LOOKUPS_H_
