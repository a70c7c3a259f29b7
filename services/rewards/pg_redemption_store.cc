#include "services/rewards/pg_redemption_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "services/rewards/pg_stock_store.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_events.h"
#include "services/rewards/standing.h"

namespace civicpoints::rewards {

namespace {

// An enum value the code holds, as its smallint column stores it. Values the statement itself
// names are written by name (redemption_state('READY'), common/pg/sql_enums.h).
template <typename Enum>
int Stored(Enum value) {
  return static_cast<int>(value);
}

}  // namespace

std::optional<PgRedemptionStore::StoredRequest> PgRedemptionStore::FindRequest(
    pqxx::transaction_base& tx, const std::string& rider, const std::string& key) const {
  pqxx::result r = tx.exec_params(
      "SELECT request_hash, coalesce(redemption_id, ''), refusal_code, refusal_reason, "
      "refusal_message FROM redemption_requests WHERE rider_id = $1 AND key = $2",
      rider, key);
  if (r.empty()) return std::nullopt;
  StoredRequest stored{.request_hash = pqxx::binarystring(r[0][0]).str(),
                       .redemption_id = r[0][1].as<std::string>()};
  if (stored.redemption_id.empty()) {
    absl::Status refusal(static_cast<absl::StatusCode>(r[0][2].as<int>()),
                         r[0][4].as<std::string>());
    const auto reason = static_cast<v1::ErrorReason>(r[0][3].as<int>());
    stored.refusal = reason == v1::ERROR_REASON_UNSPECIFIED
                         ? refusal
                         : Refuse(refusal.code(), reason, refusal.message());
  }
  return stored;
}

void PgRedemptionStore::SaveRequest(pqxx::transaction_base& tx, const std::string& rider,
                                    const std::string& key, const std::string& request_hash,
                                    const std::string& redemption_id,
                                    const absl::Status& refusal) const {
  tx.exec_params(
      "INSERT INTO redemption_requests (rider_id, key, request_hash, redemption_id, "
      "refusal_code, refusal_reason, refusal_message) VALUES ($1, $2, $3, nullif($4, ''), "
      "$5::int, $6::smallint, $7)",
      rider, key, pqxx::binarystring(request_hash), redemption_id, static_cast<int>(refusal.code()),
      Stored(ReasonOf(refusal)), std::string(refusal.message()));
}

std::optional<PgRedemptionStore::WindowTimes> PgRedemptionStore::ReadWindowTimes(
    pqxx::transaction_base& tx, const std::string& window_id) const {
  pqxx::result w = tx.exec_params(
      "SELECT state, us(start_at), us(end_at) FROM exchange_windows WHERE window_id = $1",
      window_id);
  if (w.empty()) return std::nullopt;
  return WindowTimes{.state = static_cast<v1::ExchangeWindowState>(w[0][0].as<int>()),
                     .start = absl::FromUnixMicros(w[0][1].as<int64_t>()),
                     .end = absl::FromUnixMicros(w[0][2].as<int64_t>())};
}

bool PgRedemptionStore::TryLockRiderWindow(pqxx::transaction_base& tx, const std::string& window_id,
                                           const std::string& rider) const {
  return tx
      .exec_params1("SELECT pg_try_advisory_xact_lock(hashtext($1))",
                    absl::StrCat("redeem|", window_id, "|", rider))[0]
      .as<bool>();
}

absl::StatusOr<PgRedemptionStore::OrderContext> PgRedemptionStore::ReadOrderContext(
    pqxx::transaction_base& tx, const OrderRequest& req, const std::string& rider, int64_t balance,
    absl::Time now) const {
  ASSIGN_OR_RETURN(WindowRecord w, LoadWindow(tx, req.window_id, false));
  Standing standing = EvaluateStanding(tx, w, rider, balance, now, {});
  OrderContext c;
  OrderFacts& f = c.facts;
  f.eligibility = std::move(standing.eligibility);
  f.redeemed_of_gift = standing.redeemed_by_gift[req.gift_id];
  f.redeemed_total = standing.redeemed_total;
  f.balance = balance;
  c.window_pickup_ttl_s = w.pickup_ttl_s;
  f.window = std::move(w.window);
  pqxx::result gift =
      tx.exec_params("SELECT name, points_cost, active FROM gifts WHERE gift_id = $1", req.gift_id);
  if (!gift.empty()) {
    f.gift = GiftFacts{.name = gift[0][0].as<std::string>(),
                       .points_cost = gift[0][1].as<int64_t>(),
                       .active = gift[0][2].as<bool>()};
  }
  f.stock_available = StockAvailable(tx, req.station_id, req.gift_id);
  pqxx::result station = tx.exec_params(
      "SELECT district_id, street_id, community_id FROM stations WHERE station_id = $1",
      req.station_id);
  f.station_known = !station.empty();
  if (f.station_known) {
    c.station_path.set_district_id(station[0][0].as<std::string>());
    c.station_path.set_street_id(station[0][1].as<std::string>());
    c.station_path.set_community_id(station[0][2].as<std::string>());
  }
  return c;
}

v1::Redemption PgRedemptionStore::InsertOrder(pqxx::transaction_base& tx, const NewOrder& o) const {
  pqxx::result inserted = tx.exec_params(
      absl::StrCat(
          "INSERT INTO redemptions AS r (redemption_id, rider_id, window_id, station_id, gift_id, "
          "gift_name, quantity, unit_points, points, state, district_id, street_id, "
          "community_id, pickup_ttl_s) VALUES ($1, $2, $3, $4, $5, $6, $7::int, $8::bigint, "
          "$9::bigint, redemption_state('PENDING'), $10, $11, $12, $13::bigint) RETURNING ",
          kRedemptionColumns),
      o.redemption_id, o.rider_id, o.request.window_id, o.request.station_id, o.request.gift_id,
      o.gift_name, o.request.quantity, o.terms.unit_points, o.terms.points,
      o.station_path.district_id(), o.station_path.street_id(), o.station_path.community_id(),
      o.pickup_ttl_s);
  v1::Redemption order;
  FillRedemption(inserted[0], /*with_code=*/true, &order);
  return order;
}

std::optional<PgRedemptionStore::Order> PgRedemptionStore::ReadOrder(
    pqxx::transaction_base& tx, const std::string& redemption_id, bool lock) const {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kRedemptionColumns, " FROM redemptions r WHERE r.redemption_id = $1",
                   lock ? " FOR UPDATE" : ""),
      redemption_id);
  if (r.empty()) return std::nullopt;
  Order o;
  FillRedemption(r[0], /*with_code=*/true, &o.order);
  o.intent = r[0][21].as<int>();
  o.intent_reason = static_cast<v1::ErrorReason>(r[0][22].as<int>());
  o.stock_reserved = r[0][23].as<bool>();
  o.failure_message = r[0][24].as<std::string>();
  o.pickup_ttl_s = r[0][25].as<int64_t>();
  return o;
}

int64_t PgRedemptionStore::StockAvailable(pqxx::transaction_base& tx, const std::string& station_id,
                                          const std::string& gift_id) const {
  pqxx::result r =
      tx.exec_params("SELECT available FROM station_stock WHERE station_id = $1 AND gift_id = $2",
                     station_id, gift_id);
  return r.empty() ? 0 : r[0][0].as<int64_t>();
}

void PgRedemptionStore::FailPending(pqxx::transaction_base& tx, const std::string& redemption_id,
                                    v1::ErrorReason reason, const std::string& message) const {
  tx.exec_params(
      "UPDATE redemptions SET state = redemption_state('FAILED'), failure_reason = $2::smallint, "
      "failure_message = $3, ended_at = now(), updated_at = now() WHERE redemption_id = $1 AND "
      "state = redemption_state('PENDING') AND intent = redemption_state('UNSPECIFIED')",
      redemption_id, Stored(reason), message);
}

bool PgRedemptionStore::ReserveStock(pqxx::transaction_base& tx, const v1::Redemption& order,
                                     int low_stock_threshold) const {
  pqxx::result taken = tx.exec_params(
      "UPDATE station_stock SET available = available - $3::int, reserved = reserved + $3::int, "
      "updated_at = now() WHERE station_id = $1 AND gift_id = $2 AND available >= $3::int "
      "RETURNING available",
      order.station_id(), order.gift_id(), order.quantity());
  if (taken.empty()) return false;
  WriteStockMovement(tx, order.station_id(), order.gift_id(), v1::STOCK_MOVEMENT_KIND_RESERVE,
                     -order.quantity(), order.quantity(), "", "", order.redemption_id(), nullptr);
  const int available = taken[0][0].as<int>();
  if (available <= low_stock_threshold && available + order.quantity() > low_stock_threshold) {
    RecordStockLow(tx, order, available, low_stock_threshold);
  }
  return true;
}

void PgRedemptionStore::MarkOutOfStock(pqxx::transaction_base& tx,
                                       const v1::Redemption& order) const {
  tx.exec_params(
      "UPDATE redemptions SET intent = redemption_state('FAILED'), intent_reason = "
      "error_reason('OUT_OF_STOCK'), failure_message = $2, updated_at = now() "
      "WHERE redemption_id = $1",
      order.redemption_id(), OutOfStockMessage(order.quantity(), order.gift_name()));
}

bool PgRedemptionStore::PickupCodeInUse(pqxx::transaction_base& tx, const std::string& code) const {
  return !tx.exec_params(
                "SELECT 1 FROM redemptions WHERE state = redemption_state('READY') AND "
                "pickup_code = $1",
                code)
              .empty();
}

v1::Redemption PgRedemptionStore::MakeReady(pqxx::transaction_base& tx,
                                            const std::string& redemption_id,
                                            const std::string& code,
                                            std::optional<absl::Time> hold_expiry) const {
  // LEAST skips a NULL: no cap when the hold never expires.
  pqxx::result r = tx.exec_params(
      absl::StrCat(
          "UPDATE redemptions AS r SET state = redemption_state('READY'), pickup_code = $2, "
          "stock_reserved = true, ready_at = now(), expire_at = LEAST(now() + "
          "make_interval(secs => pickup_ttl_s), from_us($3::bigint)), updated_at = now() "
          "WHERE redemption_id = $1 RETURNING ",
          kRedemptionColumns),
      redemption_id, code,
      hold_expiry ? std::optional<int64_t>(Us(*hold_expiry)) : std::optional<int64_t>());
  v1::Redemption order;
  FillRedemption(r[0], /*with_code=*/true, &order);
  RecordRedemptionChanged(tx, "redemption_ready", order);
  return order;
}

void PgRedemptionStore::StartSettle(pqxx::transaction_base& tx, const std::string& redemption_id,
                                    v1::RedemptionState target) const {
  tx.exec_params(
      "UPDATE redemptions SET intent = $2::smallint, updated_at = now() "
      "WHERE redemption_id = $1 AND state = redemption_state('READY') AND intent = "
      "redemption_state('UNSPECIFIED')",
      redemption_id, Stored(target));
}

void PgRedemptionStore::ExpireInsteadOfFulfil(pqxx::transaction_base& tx,
                                              const std::string& redemption_id) const {
  tx.exec_params(
      "UPDATE redemptions SET intent = redemption_state('EXPIRED'), fulfilled_by = '', "
      "updated_at = now() WHERE redemption_id = $1 AND intent = redemption_state('FULFILLED')",
      redemption_id);
}

bool PgRedemptionStore::FinishFulfil(pqxx::transaction_base& tx,
                                     const v1::Redemption& order) const {
  pqxx::result done = tx.exec_params(
      "UPDATE redemptions SET state = redemption_state('FULFILLED'), intent = "
      "redemption_state('UNSPECIFIED'), ended_at = "
      "now(), updated_at = now() WHERE redemption_id = $1 AND intent = "
      "redemption_state('FULFILLED') RETURNING fulfilled_by",
      order.redemption_id());
  if (done.empty()) return false;
  tx.exec_params(
      "UPDATE station_stock SET reserved = reserved - $3::int, updated_at = now() "
      "WHERE station_id = $1 AND gift_id = $2",
      order.station_id(), order.gift_id(), order.quantity());
  WriteStockMovement(tx, order.station_id(), order.gift_id(), v1::STOCK_MOVEMENT_KIND_FULFIL, 0,
                     -order.quantity(), "", done[0][0].as<std::string>(), order.redemption_id(),
                     nullptr);
  v1::Redemption fulfilled = order;
  fulfilled.set_state(v1::REDEMPTION_STATE_FULFILLED);
  RecordRedemptionChanged(tx, "redemption_fulfilled", fulfilled);
  return true;
}

void PgRedemptionStore::FinishRelease(pqxx::transaction_base& tx, const std::string& redemption_id,
                                      int intent) const {
  std::optional<Order> locked = ReadOrder(tx, redemption_id, true);
  if (!locked.has_value() || locked->intent != intent) return;
  tx.exec_params(
      "UPDATE redemptions SET state = $2::smallint, intent = redemption_state('UNSPECIFIED'), "
      "failure_reason = CASE WHEN "
      "$2::smallint = redemption_state('FAILED') THEN intent_reason ELSE failure_reason END, "
      "ended_at = now(), updated_at = now() WHERE redemption_id = $1",
      redemption_id, intent);
  // A FAILED order was never ready: only the ends of orders riders were told about are announced.
  const bool cancelled = intent == Stored(v1::REDEMPTION_STATE_CANCELLED);
  if (cancelled || intent == Stored(v1::REDEMPTION_STATE_EXPIRED)) {
    v1::Redemption ended = locked->order;
    ended.set_state(cancelled ? v1::REDEMPTION_STATE_CANCELLED : v1::REDEMPTION_STATE_EXPIRED);
    RecordRedemptionChanged(tx, cancelled ? "redemption_cancelled" : "redemption_expired", ended);
  }
  if (!locked->stock_reserved) return;
  const v1::Redemption& order = locked->order;
  tx.exec_params(
      "UPDATE station_stock SET available = available + $3::int, reserved = reserved - $3::int, "
      "updated_at = now() WHERE station_id = $1 AND gift_id = $2",
      order.station_id(), order.gift_id(), order.quantity());
  WriteStockMovement(tx, order.station_id(), order.gift_id(), v1::STOCK_MOVEMENT_KIND_RETURN,
                     order.quantity(), -order.quantity(), "", "", redemption_id, nullptr);
}

std::vector<std::string> PgRedemptionStore::ExpiredOrders(pqxx::transaction_base& tx,
                                                          absl::Time now, int limit) const {
  return FirstColumn(tx.exec_params(
      "SELECT redemption_id FROM redemptions WHERE state = redemption_state('READY') AND intent = "
      "redemption_state('UNSPECIFIED') AND expire_at <= from_us($1::bigint) ORDER BY expire_at "
      "LIMIT $2::int",
      Us(now), limit));
}

std::vector<std::string> PgRedemptionStore::UnsettledOrders(pqxx::transaction_base& tx,
                                                            absl::Time before, absl::Time now,
                                                            int limit) const {
  return FirstColumn(tx.exec_params(
      "SELECT redemption_id FROM redemptions WHERE (state = redemption_state('PENDING') OR intent "
      "<> redemption_state('UNSPECIFIED')) AND updated_at <= from_us($1::bigint) AND "
      "next_recovery_at <= from_us($2::bigint) ORDER BY next_recovery_at, updated_at "
      "LIMIT $3::int",
      Us(before), Us(now), limit));
}

void PgRedemptionStore::PostponeRecovery(pqxx::transaction_base& tx,
                                         const std::string& redemption_id, absl::Time now) const {
  tx.exec_params(
      "UPDATE redemptions SET recovery_attempts = recovery_attempts + 1, next_recovery_at = "
      "from_us($2::bigint) + least(interval '10 minutes', interval '5 seconds' * "
      "power(2, least(recovery_attempts, 20))) WHERE redemption_id = $1",
      redemption_id, Us(now));
}

std::optional<WaitingPickup> PgRedemptionStore::FindWaitingPickup(pqxx::transaction_base& tx,
                                                                  const std::string& code) const {
  pqxx::result r = tx.exec_params(
      "SELECT redemption_id, station_id, intent, expire_at <= now() FROM redemptions "
      "WHERE pickup_code = $1 AND state = redemption_state('READY') FOR UPDATE",
      code);
  if (r.empty()) return std::nullopt;
  return WaitingPickup{.redemption_id = r[0][0].as<std::string>(),
                       .station_id = r[0][1].as<std::string>(),
                       .intent = r[0][2].as<int>(),
                       .expired = r[0][3].as<bool>()};
}

std::optional<EndedPickup> PgRedemptionStore::FindEndedPickup(pqxx::transaction_base& tx,
                                                              const std::string& code) const {
  pqxx::result r = tx.exec_params(
      "SELECT state, station_id, us(ended_at) FROM redemptions WHERE pickup_code = $1 "
      "AND state <> redemption_state('READY') ORDER BY ended_at DESC NULLS FIRST LIMIT 1",
      code);
  if (r.empty()) return std::nullopt;
  EndedPickup ended{.state = static_cast<v1::RedemptionState>(r[0][0].as<int>()),
                    .station_id = r[0][1].as<std::string>()};
  if (!r[0][2].is_null()) ended.ended = absl::FromUnixMicros(r[0][2].as<int64_t>());
  return ended;
}

void PgRedemptionStore::MarkPickup(pqxx::transaction_base& tx, const std::string& redemption_id,
                                   v1::RedemptionState mark, const std::string& keeper) const {
  tx.exec_params(
      "UPDATE redemptions SET intent = $2::smallint, fulfilled_by = $3, updated_at = now() "
      "WHERE redemption_id = $1",
      redemption_id, Stored(mark), mark == v1::REDEMPTION_STATE_FULFILLED ? keeper : std::string());
}

std::optional<PgRedemptionStore::PickupKey> PgRedemptionStore::FindPickupKey(
    pqxx::transaction_base& tx, const std::string& scope, const std::string& key) const {
  pqxx::result seen = tx.exec_params(
      "SELECT request_hash, response FROM idempotency_keys WHERE method = $1 AND key = $2", scope,
      key);
  if (seen.empty()) return std::nullopt;
  v1::Redemption first;  // the stored response names the order
  (void)first.ParseFromString(pqxx::binarystring(seen[0][1]).str());
  return PickupKey{.request_hash = pqxx::binarystring(seen[0][0]).str(),
                   .redemption_id = first.redemption_id()};
}

void PgRedemptionStore::SavePickupKey(pqxx::transaction_base& tx, const std::string& scope,
                                      const std::string& key, const std::string& request_hash,
                                      const std::string& redemption_id) const {
  v1::Redemption marker;
  marker.set_redemption_id(redemption_id);
  tx.exec_params(
      "INSERT INTO idempotency_keys (method, key, request_hash, response) VALUES ($1, $2, $3, $4)",
      scope, key, pqxx::binarystring(request_hash), pqxx::binarystring(marker.SerializeAsString()));
}

std::optional<PgRedemptionStore::Ownership> PgRedemptionStore::LockForCancel(
    pqxx::transaction_base& tx, const std::string& redemption_id) const {
  pqxx::result r = tx.exec_params(
      "SELECT rider_id, state, intent FROM redemptions WHERE redemption_id = $1 FOR UPDATE",
      redemption_id);
  if (r.empty()) return std::nullopt;
  return Ownership{.rider_id = r[0][0].as<std::string>(),
                   .state = static_cast<v1::RedemptionState>(r[0][1].as<int>()),
                   .intent = r[0][2].as<int>()};
}

void PgRedemptionStore::MarkCancel(pqxx::transaction_base& tx, const std::string& redemption_id,
                                   const std::string& reason) const {
  tx.exec_params(
      "UPDATE redemptions SET intent = redemption_state('CANCELLED'), cancel_reason = $2, "
      "updated_at = now() WHERE redemption_id = $1",
      redemption_id, reason);
}

void PgRedemptionStore::LockRiderForClosing(pqxx::transaction_base& tx,
                                            const std::string& rider) const {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", absl::StrCat("rider|", rider));
}

void PgRedemptionStore::LockRiderForOrder(pqxx::transaction_base& tx,
                                          const std::string& rider) const {
  tx.exec_params("SELECT pg_advisory_xact_lock_shared(hashtext($1))",
                 absl::StrCat("rider|", rider));
}

void PgRedemptionStore::MarkRiderClosed(pqxx::transaction_base& tx,
                                        const std::string& rider) const {
  tx.exec_params("INSERT INTO closed_riders (rider_id) VALUES ($1) ON CONFLICT DO NOTHING", rider);
}

bool PgRedemptionStore::RiderClosed(pqxx::transaction_base& tx, const std::string& rider) const {
  return !tx.exec_params("SELECT 1 FROM closed_riders WHERE rider_id = $1", rider).empty();
}

std::vector<std::string> PgRedemptionStore::OrdersOfRider(pqxx::transaction_base& tx,
                                                          const std::string& rider,
                                                          v1::RedemptionState state) const {
  std::vector<std::string> ids;
  for (const auto& row :
       tx.exec_params("SELECT redemption_id FROM redemptions WHERE rider_id = $1 AND state = $2 "
                      "ORDER BY created_at",
                      rider, static_cast<int>(state))) {
    ids.push_back(row[0].as<std::string>());
  }
  return ids;
}

}  // namespace civicpoints::rewards
