#include "services/rewards/rewards_events.h"

#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "civicpoints/rewards/v1/events.pb.h"
#include "common/events/outbox.h"

namespace civicpoints::rewards {

void RecordRedemptionChanged(pqxx::transaction_base& tx, absl::string_view name,
                             const v1::Redemption& order) {
  v1::RedemptionChanged data;
  data.set_order_id(order.redemption_id());
  data.set_rider_id(order.rider_id());
  data.set_gift_id(order.gift_id());
  data.set_station_id(order.station_id());
  data.set_quantity(order.quantity());
  data.set_points(order.points_cost());
  data.set_state(order.state());
  absl::Status s =
      events::RecordEvent(tx, {.service = "rewards",
                               .name = name,
                               .subject = absl::StrCat("redemptions/", order.redemption_id()),
                               .org_path = order.station_org(),
                               .data = &data});
  if (!s.ok()) throw std::logic_error(std::string(s.message()));
}

}  // namespace civicpoints::rewards
