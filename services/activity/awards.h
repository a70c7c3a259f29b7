// Awards: the one award a confirmed attendance, confirmed shift or verified service record
// earns. CreateAward runs inside the confirming transaction: it applies the rider's daily caps
// under a row lock on (rider, day) and writes the award, which as a PENDING row is also the outbox
// entry the relay (award_relay.h) delivers to the ledger.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_AWARDS_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_AWARDS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/award.pb.h"
#include "services/activity/points_rules.h"

namespace pqxx {
class transaction_base;
class row;
}  // namespace pqxx

namespace civicpoints::activity {

struct AwardSource {
  v1::AwardSourceKind kind = v1::AWARD_SOURCE_KIND_UNSPECIFIED;
  std::string source_id;
  std::string rider_id;
  RuleValue rule;  // points before the cap and the rule that priced them
  std::string verified_by;
  absl::Time occur;                // when the work was done: decides the day the caps count in
  std::string reason;              // statement text, e.g. the activity title
  common::v1::OrgPath rider_path;  // where the points count in rankings (all three ids)
};

// The ledger key of a source (see AwardSourceKind).
std::string AwardKey(v1::AwardSourceKind kind, const std::string& source_id,
                     const std::string& rider_id);

// Writes the source's award in `tx`, capped by `caps` (the rules at the rider's home community),
// and returns it. A source that already has its award returns that award unchanged; a source
// whose rule gives 0 points gets none (an empty Award is returned).
absl::StatusOr<v1::Award> CreateAward(pqxx::transaction_base& tx, const AwardSource& source,
                                      const ResolvedRules& caps, absl::Time now);

// The award of a source and rider, if any.
std::optional<v1::Award> FindAward(pqxx::transaction_base& tx, v1::AwardSourceKind kind,
                                   const std::string& source_id, const std::string& rider_id,
                                   bool for_staff);

// Columns FillAward reads, in order.
extern const char kAwardColumns[];
void FillAward(const pqxx::row& row, bool for_staff, v1::Award* out);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_AWARDS_H_
