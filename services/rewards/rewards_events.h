// Rewards' domain events (civicpoints/rewards/v1/events.proto), recorded in the transaction of the
// change (common/events/outbox.h) by the store that makes it. The org path is the station's.
#ifndef CIVICPOINTS_SERVICES_REWARDS_REWARDS_EVENTS_H_
#define CIVICPOINTS_SERVICES_REWARDS_REWARDS_EVENTS_H_

#include "absl/strings/string_view.h"
#include "civicpoints/rewards/v1/redemption.pb.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::rewards {

// `name` is redemption_ready, _fulfilled, _cancelled or _expired; `order` as it stands after the
// change. Throws std::logic_error for a name not in the suite's list (a programming error, which
// rolls the change back like a database error).
void RecordRedemptionChanged(pqxx::transaction_base& tx, absl::string_view name,
                             const v1::Redemption& order);

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_REWARDS_EVENTS_H_
