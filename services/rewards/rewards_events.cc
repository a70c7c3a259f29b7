#include "services/rewards/rewards_events.h"

#include <pqxx/pqxx>
#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "civicpoints/rewards/v1/events.pb.h"
#include "common/base/time_units.h"
#include "common/events/outbox.h"

namespace civicpoints::rewards {

namespace {

v1::RedemptionChanged RedemptionChangedData(const v1::Redemption& order) {
  v1::RedemptionChanged data;
  data.set_order_id(order.redemption_id());
  data.set_rider_id(order.rider_id());
  data.set_gift_id(order.gift_id());
  data.set_station_id(order.station_id());
  data.set_quantity(order.quantity());
  data.set_points(order.points_cost());
  data.set_state(order.state());
  return data;
}

events::OutboxEvent RedemptionEvent(absl::string_view name, const v1::Redemption& order,
                                    const v1::RedemptionChanged& data) {
  return {.service = "rewards",
          .name = name,
          .subject = absl::StrCat("redemptions/", order.redemption_id()),
          .org_path = order.station_org(),
          .data = &data};
}

}  // namespace

void RecordRedemptionChanged(pqxx::transaction_base& tx, absl::string_view name,
                             const v1::Redemption& order) {
  const v1::RedemptionChanged data = RedemptionChangedData(order);
  absl::Status s = events::RecordEvent(tx, RedemptionEvent(name, order, data));
  if (!s.ok()) throw std::logic_error(std::string(s.message()));
}

events::EncodedEvent EncodeRedemptionChanged(absl::string_view name, const v1::Redemption& order) {
  const v1::RedemptionChanged data = RedemptionChangedData(order);
  absl::StatusOr<events::EncodedEvent> e = events::EncodeEvent(RedemptionEvent(name, order, data));
  if (!e.ok()) throw std::logic_error(std::string(e.status().message()));
  return *std::move(e);
}

void RecordStockLow(pqxx::transaction_base& tx, const v1::Redemption& order, int available,
                    int threshold) {
  v1::StockLow data;
  data.set_station_id(order.station_id());
  data.set_gift_id(order.gift_id());
  data.set_available(available);
  data.set_threshold(threshold);
  absl::Status s = events::RecordEvent(
      tx, {.service = "rewards",
           .name = "stock_low",
           .subject = absl::StrCat("stations/", order.station_id(), "/gifts/", order.gift_id()),
           .org_path = order.station_org(),
           .data = &data});
  if (!s.ok()) throw std::logic_error(std::string(s.message()));
}

void RecordWindowChanged(pqxx::transaction_base& tx, absl::string_view name, const pqxx::row& r,
                         int64_t cutoff_points, int eligible_riders) {
  v1::ExchangeWindowChanged data;
  data.set_window_id(r[0].as<std::string>());
  data.set_org_id(r[1].as<std::string>());
  times::SetTime(data.mutable_start_time(), r[5].as<int64_t>());
  times::SetTime(data.mutable_end_time(), r[6].as<int64_t>());
  data.set_cutoff_points(cutoff_points);
  data.set_eligible_riders(eligible_riders);
  common::v1::OrgPath path;
  path.set_district_id(r[2].as<std::string>());
  path.set_street_id(r[3].as<std::string>());
  path.set_community_id(r[4].as<std::string>());
  absl::Status s =
      events::RecordEvent(tx, {.service = "rewards",
                               .name = name,
                               .subject = absl::StrCat("exchange-windows/", data.window_id()),
                               .org_path = path,
                               .data = &data});
  if (!s.ok()) throw std::logic_error(std::string(s.message()));
}

}  // namespace civicpoints::rewards
