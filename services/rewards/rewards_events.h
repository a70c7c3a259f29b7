// Rewards' domain events (civicpoints/rewards/v1/events.proto), recorded in the transaction of the
// change (common/events/outbox.h) by the store that makes it.
#ifndef CIVICPOINTS_SERVICES_REWARDS_REWARDS_EVENTS_H_
#define CIVICPOINTS_SERVICES_REWARDS_REWARDS_EVENTS_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "civicpoints/rewards/v1/redemption.pb.h"
#include "common/events/outbox.h"

namespace pqxx {
class transaction_base;
class row;
}  // namespace pqxx

namespace civicpoints::rewards {

// `name` is redemption_ready, _fulfilled, _cancelled or _expired; `order` as it stands after the
// change. Throws std::logic_error for a name not in the suite's list (a programming error, which
// rolls the change back like a database error).
void RecordRedemptionChanged(pqxx::transaction_base& tx, absl::string_view name,
                             const v1::Redemption& order);
// The same event encoded, for a statement that inserts it itself (events::EncodeEvent).
events::EncodedEvent EncodeRedemptionChanged(absl::string_view name, const v1::Redemption& order);

// stock_low for the order's station and gift, `available` now at or below `threshold`; the org
// path is the station's. Throws as RecordRedemptionChanged.
void RecordStockLow(pqxx::transaction_base& tx, const v1::Redemption& order, int available,
                    int threshold);

// `name` is exchange_window_opened or _closed; `window_row` the window's columns
// `kWindowEventColumns` read after the change; the cut as frozen at opening (zeros on closing).
// The org path is the window's owner node's. Throws as RecordRedemptionChanged.
inline constexpr char kWindowEventColumns[] =
    "window_id, owner_org_id, owner_district_id, owner_street_id, owner_community_id, "
    "us(start_at), us(end_at)";
void RecordWindowChanged(pqxx::transaction_base& tx, absl::string_view name,
                         const pqxx::row& window_row, int64_t cutoff_points, int eligible_riders);

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_REWARDS_EVENTS_H_
