#include "services/rewards/pg_redemption_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/pg/prepared.h"
#include "common/pg/sql_values.h"
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

namespace {

// What a stored request row (request_hash, redemption_id or NULL, refusal_code, refusal_reason,
// refusal_message from column `at` on) says.
PgRedemptionStore::StoredRequest ReadStoredRequest(const pqxx::row& row, int at) {
  PgRedemptionStore::StoredRequest stored{
      .request_hash = pqxx::binarystring(row[at]).str(),
      .redemption_id = row[at + 1].is_null() ? "" : row[at + 1].as<std::string>()};
  if (stored.redemption_id.empty()) {
    absl::Status refusal(static_cast<absl::StatusCode>(row[at + 2].as<int>()),
                         row[at + 4].as<std::string>());
    const auto reason = static_cast<v1::ErrorReason>(row[at + 3].as<int>());
    stored.refusal = reason == v1::ERROR_REASON_UNSPECIFIED
                         ? refusal
                         : Refuse(refusal.code(), reason, refusal.message());
  }
  return stored;
}

std::vector<int64_t> ParseIntArray(const pqxx::field& field) {
  std::vector<int64_t> out;
  for (const std::string& item : pg::ParseTextArray(field)) out.push_back(std::stoll(item));
  return out;
}

}  // namespace

void PgRedemptionStore::SaveRefusal(pqxx::transaction_base& tx, const std::string& rider,
                                    const std::string& key, const std::string& request_hash,
                                    const absl::Status& refusal) const {
  pg::Exec(tx,
           "INSERT INTO redemption_requests (rider_id, key, request_hash, refusal_code, "
           "refusal_reason, refusal_message) VALUES ($1, $2, $3, $4::int, $5::smallint, $6)",
           rider, key, pqxx::binarystring(request_hash), static_cast<int>(refusal.code()),
           Stored(ReasonOf(refusal)), std::string(refusal.message()));
}

bool PgRedemptionStore::LockForOrder(pqxx::transaction_base& tx, const std::string& window_id,
                                     const std::string& rider) const {
  return pg::Exec(tx,
                  "SELECT pg_try_advisory_xact_lock(hashtext($1)), "
                  "pg_advisory_xact_lock_shared(hashtext($2))",
                  absl::StrCat("redeem|", window_id, "|", rider),
                  absl::StrCat("rider|", rider))[0][0]
      .as<bool>();
}

PgRedemptionStore::OrderContext PgRedemptionStore::ReadOrderContext(pqxx::transaction_base& tx,
                                                                    const OrderRequest& req,
                                                                    const std::string& rider,
                                                                    const std::string& key) const {
  // One row whatever exists: each part is joined to it, NULL when missing. The window's columns
  // come first (ReadWindow reads them by position).
  static const std::string kSql = absl::StrCat(
      "SELECT ", kWindowColumns,
      ", (SELECT array_agg(ws.station_id ORDER BY ws.position) FROM window_stations ws "
      "WHERE ws.window_id = $1), wg.ids, wg.names, wg.costs, wg.maxes, e.rank, e.points, "
      "held.gifts, held.counts, g.name, g.points_cost, g.active, s.available, st.district_id, "
      "st.street_id, st.community_id, EXISTS (SELECT 1 FROM closed_riders c WHERE c.rider_id = "
      "$2), q.request_hash, q.redemption_id, q.refusal_code, q.refusal_reason, q.refusal_message "
      "FROM (VALUES (1)) AS one (x) "
      "LEFT JOIN exchange_windows w ON w.window_id = $1 "
      "LEFT JOIN LATERAL (SELECT array_agg(x.gift_id ORDER BY x.position) AS ids, "
      "array_agg(y.name ORDER BY x.position) AS names, array_agg(y.points_cost ORDER BY "
      "x.position) AS costs, array_agg(x.max_per_rider ORDER BY x.position) AS maxes "
      "FROM window_gifts x JOIN gifts y USING (gift_id) WHERE x.window_id = $1) wg ON true "
      "LEFT JOIN window_eligible e ON e.window_id = $1 AND e.rider_id = $2 "
      "LEFT JOIN LATERAL (SELECT array_agg(h.gift_id) AS gifts, array_agg(h.n) AS counts FROM "
      "(SELECT r.gift_id, sum(r.quantity)::int AS n FROM redemptions r WHERE r.window_id = $1 "
      "AND r.rider_id = $2 AND r.state IN (redemption_state('PENDING'), "
      "redemption_state('READY'), redemption_state('FULFILLED')) GROUP BY r.gift_id) h) held "
      "ON true "
      "LEFT JOIN gifts g ON g.gift_id = $3 "
      "LEFT JOIN station_stock s ON s.station_id = $4 AND s.gift_id = $3 "
      "LEFT JOIN stations st ON st.station_id = $4 "
      "LEFT JOIN redemption_requests q ON q.rider_id = $2 AND q.key = $5");
  const pqxx::row row =
      pg::Exec(tx, kSql, req.window_id, rider, req.gift_id, req.station_id, key)[0];
  constexpr int kParts = 22;  // the columns of kWindowColumns
  OrderContext c;
  if (!row[kParts + 17].is_null()) c.seen = ReadStoredRequest(row, kParts + 17);
  c.rider_closed = row[kParts + 16].as<bool>();
  if (!row[0].is_null()) {
    WindowRecord w = ReadWindow(row);
    for (const std::string& id : pg::ParseTextArray(row[kParts])) w.window.add_station_ids(id);
    const std::vector<std::string> ids = pg::ParseTextArray(row[kParts + 1]);
    const std::vector<std::string> names = pg::ParseTextArray(row[kParts + 2]);
    const std::vector<int64_t> costs = ParseIntArray(row[kParts + 3]);
    const std::vector<int64_t> maxes = ParseIntArray(row[kParts + 4]);
    for (size_t i = 0; i < ids.size(); ++i) {
      v1::WindowGift* g = w.window.add_gifts();
      g->set_gift_id(ids[i]);
      g->set_gift_name(names[i]);
      g->set_points_cost(costs[i]);
      g->set_max_per_rider(static_cast<int32_t>(maxes[i]));
    }
    c.window = std::move(w);
  }
  if (!row[kParts + 5].is_null()) {
    c.standing.cut_rank = row[kParts + 5].as<int32_t>();
    c.standing.cut_points = row[kParts + 6].as<int64_t>();
  }
  const std::vector<std::string> held = pg::ParseTextArray(row[kParts + 7]);
  const std::vector<int64_t> counts = ParseIntArray(row[kParts + 8]);
  for (size_t i = 0; i < held.size(); ++i) {
    c.standing.redeemed_by_gift[held[i]] = static_cast<int32_t>(counts[i]);
  }
  if (!row[kParts + 9].is_null()) {
    c.gift = GiftFacts{.name = row[kParts + 9].as<std::string>(),
                       .points_cost = row[kParts + 10].as<int64_t>(),
                       .active = row[kParts + 11].as<bool>()};
  }
  c.stock_available = row[kParts + 12].is_null() ? 0 : row[kParts + 12].as<int64_t>();
  if (!row[kParts + 13].is_null()) {
    common::v1::OrgPath path;
    path.set_district_id(row[kParts + 13].as<std::string>());
    path.set_street_id(row[kParts + 14].as<std::string>());
    path.set_community_id(row[kParts + 15].as<std::string>());
    c.station_path = std::move(path);
  }
  return c;
}

v1::Redemption PgRedemptionStore::InsertOrder(pqxx::transaction_base& tx, const NewOrder& o,
                                              const std::string& key,
                                              const std::string& request_hash) const {
  static const std::string kSql = absl::StrCat(
      "WITH saved AS (INSERT INTO redemption_requests (rider_id, key, request_hash, "
      "redemption_id, refusal_code, refusal_reason, refusal_message) VALUES ($2, $14, $15, $1, "
      "0, 0, '')) "
      "INSERT INTO redemptions AS r (redemption_id, rider_id, window_id, station_id, gift_id, "
      "gift_name, quantity, unit_points, points, state, district_id, street_id, "
      "community_id, pickup_ttl_s) VALUES ($1, $2, $3, $4, $5, $6, $7::int, $8::bigint, "
      "$9::bigint, redemption_state('PENDING'), $10, $11, $12, $13::bigint) RETURNING ",
      kRedemptionColumns);
  pqxx::result inserted = pg::Exec(
      tx, kSql, o.redemption_id, o.rider_id, o.request.window_id, o.request.station_id,
      o.request.gift_id, o.gift_name, o.request.quantity, o.terms.unit_points, o.terms.points,
      o.station_path.district_id(), o.station_path.street_id(), o.station_path.community_id(),
      o.pickup_ttl_s, key, pqxx::binarystring(request_hash));
  v1::Redemption order;
  FillRedemption(inserted[0], /*with_code=*/true, &order);
  return order;
}

bool PgRedemptionStore::DropRefusedOrder(pqxx::transaction_base& tx,
                                         const std::string& redemption_id, const std::string& rider,
                                         const absl::Status& refusal) const {
  return pg::Exec(tx,
                  "WITH dropped AS (DELETE FROM redemptions WHERE redemption_id = $1 AND state = "
                  "redemption_state('PENDING') AND intent = redemption_state('UNSPECIFIED') "
                  "RETURNING redemption_id), "
                  "refused AS (UPDATE redemption_requests q SET redemption_id = NULL, "
                  "refusal_code = $3::int, refusal_reason = $4::smallint, refusal_message = $5 "
                  "FROM dropped d WHERE q.rider_id = $2 AND q.redemption_id = d.redemption_id) "
                  "SELECT EXISTS (SELECT 1 FROM dropped)",
                  redemption_id, rider, static_cast<int>(refusal.code()), Stored(ReasonOf(refusal)),
                  std::string(refusal.message()))[0][0]
      .as<bool>();
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

PgRedemptionStore::StockStep PgRedemptionStore::ReserveAndMakeReady(
    pqxx::transaction_base& tx, const v1::Redemption& order, const std::vector<std::string>& codes,
    std::optional<absl::Time> hold_expiry, int low_stock_threshold) const {
  // `pending` locks the order if it is still to be run; `taken` moves the items if the station
  // has them and a code is free; `moved` records the movement; `ready` or `short` ends the step;
  // `announced` records redemption_ready.
  // LEAST skips a NULL: no cap when the hold never expires.
  static const std::string kSql = absl::StrCat(
      "WITH pending AS (SELECT redemption_id FROM redemptions WHERE redemption_id = $1 AND "
      "state = redemption_state('PENDING') AND intent = redemption_state('UNSPECIFIED') FOR "
      "UPDATE), "
      "code AS (SELECT u.c FROM unnest($5::text[]) WITH ORDINALITY AS u (c, i) WHERE NOT EXISTS "
      "(SELECT 1 FROM redemptions x WHERE x.state = redemption_state('READY') AND x.pickup_code "
      "= u.c) ORDER BY u.i LIMIT 1), "
      "taken AS (UPDATE station_stock SET available = available - $4::int, reserved = reserved "
      "+ $4::int, updated_at = now() WHERE station_id = $2 AND gift_id = $3 AND available >= "
      "$4::int AND EXISTS (SELECT 1 FROM pending) AND EXISTS (SELECT 1 FROM code) RETURNING "
      "available, reserved), "
      "moved AS (INSERT INTO stock_movements (station_id, gift_id, kind, available_delta, "
      "reserved_delta, on_hand_delta, available_after, on_hand_after, reason, actor_id, "
      "redemption_id) SELECT $2, $3, stock_movement_kind('RESERVE'), -$4::int, $4::int, 0, "
      "t.available, t.available + t.reserved, '', '', $1 FROM taken t), "
      "ready AS (UPDATE redemptions AS r SET state = redemption_state('READY'), pickup_code = "
      "(SELECT c FROM code), stock_reserved = true, ready_at = now(), expire_at = LEAST(now() + "
      "make_interval(secs => r.pickup_ttl_s), from_us($6::bigint)), updated_at = now() WHERE "
      "r.redemption_id = $1 AND EXISTS (SELECT 1 FROM taken) RETURNING ",
      kRedemptionColumns,
      "), short AS (UPDATE redemptions SET intent = redemption_state('FAILED'), intent_reason = "
      "error_reason('OUT_OF_STOCK'), failure_message = $7, updated_at = now() WHERE "
      "redemption_id = $1 AND EXISTS (SELECT 1 FROM pending) AND EXISTS (SELECT 1 FROM code) "
      "AND NOT EXISTS (SELECT 1 FROM taken)), "
      "announced AS (INSERT INTO outbox_events (type, subject, district_id, street_id, "
      "community_id, data_type, data) SELECT $8, $9, $10, $11, $12, $13, $14 FROM ready) "
      "SELECT EXISTS (SELECT 1 FROM pending), EXISTS (SELECT 1 FROM code), "
      "(SELECT available FROM taken), ready.* FROM (VALUES (1)) AS one (x) LEFT JOIN ready ON "
      "true");
  v1::Redemption announced = order;
  announced.set_state(v1::REDEMPTION_STATE_READY);
  const events::EncodedEvent e = EncodeRedemptionChanged("redemption_ready", announced);
  const pqxx::row row =
      pg::Exec(tx, kSql, order.redemption_id(), order.station_id(), order.gift_id(),
               order.quantity(), pg::TextArray(codes),
               hold_expiry ? std::optional<int64_t>(Us(*hold_expiry)) : std::optional<int64_t>(),
               OutOfStockMessage(order.quantity(), order.gift_name()), e.type, e.subject,
               e.org_path.district_id(), e.org_path.street_id(), e.org_path.community_id(),
               e.data_type, pqxx::binarystring(e.data))[0];
  StockStep step{.pending = row[0].as<bool>(), .no_free_code = !row[1].as<bool>()};
  if (!step.pending || row[2].is_null()) return step;
  events::WakeRelaysAfterCommit();
  v1::Redemption ready;
  FillRedemption(row.slice(3, row.size()), /*with_code=*/true, &ready);
  const int available = row[2].as<int>();
  if (available <= low_stock_threshold && available + order.quantity() > low_stock_threshold) {
    RecordStockLow(tx, order, available, low_stock_threshold);
  }
  step.ready = std::move(ready);
  return step;
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

void PgRedemptionStore::MarkRiderClosed(pqxx::transaction_base& tx,
                                        const std::string& rider) const {
  tx.exec_params("INSERT INTO closed_riders (rider_id) VALUES ($1) ON CONFLICT DO NOTHING", rider);
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
