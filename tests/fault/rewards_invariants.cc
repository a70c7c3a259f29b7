// Rewards' books: stations' stock against its movements and the orders, and the orders against
// the ledger's holds.
//
// Stock (services/rewards/pg_redemption_store.cc, stock_methods.cc): ADD and CORRECTION movements
// put items in (a correction's on-hand delta may be negative); an order that becomes READY moves
// its items from available to reserved (RESERVE); fulfilment takes them out of reserved and on
// hand (FULFIL); a cancelled or expired READY order moves them back to available (RETURN). A
// movement happens at most once per order and kind.
//
// Holds (services/rewards/saga.cc): the ledger's hold is keyed by the redemption id and holds the
// order's points; READY holds them, FULFILLED captured them, CANCELLED and EXPIRED (both only
// from READY) released them, FAILED released them or never held any.
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/fault/invariant_checks.h"

namespace civicpoints::fault {
namespace {

// Per station and gift: the stock row, its movements' sums and its orders' items.
constexpr char kStockSql[] = R"sql(
WITH moved AS (
  SELECT station_id, gift_id,
         coalesce(sum(on_hand_delta) FILTER (
           WHERE kind IN (rewards.stock_movement_kind('ADD'),
                          rewards.stock_movement_kind('CORRECTION'))), 0)::bigint AS put_in,
         sum(available_delta)::bigint AS available, sum(reserved_delta)::bigint AS reserved
    FROM rewards.stock_movements
   GROUP BY 1, 2
),
ordered AS (
  SELECT station_id, gift_id,
         coalesce(sum(quantity) FILTER (WHERE state = rewards.redemption_state('READY')), 0)::bigint
           AS ready,
         coalesce(sum(quantity) FILTER (
           WHERE state = rewards.redemption_state('FULFILLED')), 0)::bigint AS fulfilled
    FROM rewards.redemptions
   GROUP BY 1, 2
)
SELECT station_id, gift_id,
       coalesce(s.available, 0) AS available, coalesce(s.reserved, 0) AS reserved,
       coalesce(m.put_in, 0) AS put_in, coalesce(m.available, 0) AS moved_available,
       coalesce(m.reserved, 0) AS moved_reserved,
       coalesce(o.ready, 0) AS ready, coalesce(o.fulfilled, 0) AS fulfilled
  FROM rewards.station_stock s
  FULL JOIN moved m USING (station_id, gift_id)
  FULL JOIN ordered o USING (station_id, gift_id)
 ORDER BY station_id, gift_id
)sql";

// Each order with the stock movements it wrote, by kind, and how many of them do not move its
// own items at its own station as their kind should.
constexpr char kOrderMovementsSql[] = R"sql(
SELECT r.redemption_id, rewards.redemption_state_name(r.state) AS state, r.stock_reserved,
       count(m.movement_id) FILTER (WHERE m.kind = rewards.stock_movement_kind('RESERVE'))
         AS reserves,
       count(m.movement_id) FILTER (WHERE m.kind = rewards.stock_movement_kind('RETURN'))
         AS returns,
       count(m.movement_id) FILTER (WHERE m.kind = rewards.stock_movement_kind('FULFIL'))
         AS fulfils,
       count(m.movement_id) FILTER (WHERE m.station_id <> r.station_id
         OR m.gift_id <> r.gift_id
         OR NOT ((m.kind = rewards.stock_movement_kind('RESERVE')
                  AND m.available_delta = -r.quantity AND m.reserved_delta = r.quantity)
              OR (m.kind = rewards.stock_movement_kind('RETURN')
                  AND m.available_delta = r.quantity AND m.reserved_delta = -r.quantity)
              OR (m.kind = rewards.stock_movement_kind('FULFIL')
                  AND m.available_delta = 0 AND m.reserved_delta = -r.quantity))) AS misfits
  FROM rewards.redemptions r
  LEFT JOIN rewards.stock_movements m ON m.redemption_id = r.redemption_id
 GROUP BY r.redemption_id
 ORDER BY r.redemption_id
)sql";

constexpr char kOrphanMovementsSql[] = R"sql(
SELECT m.movement_id, m.redemption_id
  FROM rewards.stock_movements m
 WHERE m.redemption_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM rewards.redemptions r WHERE r.redemption_id = m.redemption_id)
)sql";

// Every order and every hold, matched by the redemption id.
constexpr char kOrdersAndHoldsSql[] = R"sql(
SELECT coalesce(r.redemption_id, h.order_id) AS order_id,
       r.redemption_id IS NOT NULL AS has_order,
       coalesce(rewards.redemption_state_name(r.state), '') AS state,
       coalesce(r.intent, 0) AS intent,
       coalesce(rewards.redemption_state_name(r.intent), '') AS intent_name,
       coalesce(r.state = rewards.redemption_state('PENDING')
                AND r.created_at < now() - interval '60 seconds', false) AS stale_pending,
       coalesce(r.points, 0) AS points, coalesce(r.rider_id, '') AS rider_id,
       h.order_id IS NOT NULL AS has_hold,
       coalesce(ledger.hold_state_name(h.state), '') AS hold_state,
       coalesce(h.amount, 0) AS hold_amount, coalesce(h.person_id, '') AS hold_person
  FROM rewards.redemptions r
  FULL JOIN ledger.holds h ON h.order_id = r.redemption_id
 ORDER BY 1
)sql";

void CheckStockRow(const pqxx::row& row, Tally& tally) {
  const std::string where = absl::StrCat("station ", row["station_id"].as<std::string>(), ", gift ",
                                         row["gift_id"].as<std::string>());
  const int64_t available = row["available"].as<int64_t>();
  const int64_t reserved = row["reserved"].as<int64_t>();
  const int64_t put_in = row["put_in"].as<int64_t>();
  const int64_t ready = row["ready"].as<int64_t>();
  const int64_t fulfilled = row["fulfilled"].as<int64_t>();
  if (!tally.Holds(available >= 0 && reserved >= 0)) {
    tally.Violation("stock", absl::StrCat(where, ": available ", available, ", reserved ", reserved,
                                          " (negative)"));
  }
  if (!tally.Holds(put_in == available + reserved + fulfilled)) {
    tally.Violation("stock", absl::StrCat(where, ": put in ", put_in, " != available ", available,
                                          " + reserved ", reserved, " + fulfilled ", fulfilled));
  }
  if (!tally.Holds(reserved == ready)) {
    tally.Violation(
        "stock", absl::StrCat(where, ": reserved ", reserved, " != items of READY orders ", ready));
  }
  const int64_t moved_available = row["moved_available"].as<int64_t>();
  const int64_t moved_reserved = row["moved_reserved"].as<int64_t>();
  if (!tally.Holds(available == moved_available && reserved == moved_reserved)) {
    tally.Violation(
        "stock", absl::StrCat(where, ": available ", available, ", reserved ", reserved,
                              " but the movements sum to ", moved_available, ", ", moved_reserved));
  }
}

// The movements an order in its state has written: RESERVE once its items were set aside (an
// order is READY only with them, and FULFILLED, CANCELLED and EXPIRED orders were READY), FULFIL
// once fulfilled, RETURN once it ended without handing them over.
void CheckOrderMovements(const pqxx::row& row, Tally& tally) {
  const std::string id = row["redemption_id"].as<std::string>();
  const std::string state = row["state"].as<std::string>();
  const bool reserved = row["stock_reserved"].as<bool>();
  const bool was_ready =
      state == "READY" || state == "FULFILLED" || state == "CANCELLED" || state == "EXPIRED";
  const bool ended_unfulfilled = state == "CANCELLED" || state == "EXPIRED" || state == "FAILED";
  const int64_t reserves = row["reserves"].as<int64_t>();
  const int64_t returns = row["returns"].as<int64_t>();
  const int64_t fulfils = row["fulfils"].as<int64_t>();
  const int64_t want_returns = reserved && ended_unfulfilled ? 1 : 0;
  const int64_t want_fulfils = state == "FULFILLED" ? 1 : 0;
  if (!tally.Holds(reserved == was_ready && reserves == (reserved ? 1 : 0) &&
                   returns == want_returns && fulfils == want_fulfils)) {
    tally.Violation("stock",
                    absl::StrCat("order ", id, " (", state, ", stock_reserved ",
                                 reserved ? "true" : "false", ") has ", reserves, " RESERVE, ",
                                 returns, " RETURN, ", fulfils, " FULFIL movements"));
  }
  const int64_t misfits = row["misfits"].as<int64_t>();
  if (!tally.Holds(misfits == 0)) {
    tally.Violation("stock", absl::StrCat("order ", id, ": ", misfits,
                                          " of its movements move other items or another "
                                          "quantity than the order's"));
  }
}

// Whether the hold (`has_hold`, in `hold_state`) is what an order in `state` leaves in the
// ledger. A FAILED order may have none: the ledger may have refused to hold anything.
bool HoldFitsOrder(const std::string& state, bool has_hold, const std::string& hold_state) {
  if (state == "READY") return hold_state == "HELD";
  if (state == "FULFILLED") return hold_state == "CAPTURED";
  if (state == "CANCELLED" || state == "EXPIRED") return hold_state == "RELEASED";
  if (state == "FAILED") return !has_hold || hold_state == "RELEASED";
  return hold_state != "CAPTURED";  // PENDING: judged by its age
}

void CheckOrderAndHold(const pqxx::row& row, Tally& tally) {
  const std::string id = row["order_id"].as<std::string>();
  const bool has_hold = row["has_hold"].as<bool>();
  const std::string hold_state = row["hold_state"].as<std::string>();
  if (!tally.Holds(row["has_order"].as<bool>())) {
    tally.Violation(
        "holds", absl::StrCat("hold ", id, " (", hold_state, ", ", row["hold_amount"].as<int64_t>(),
                              " points) has no redemption order"));
    return;
  }
  const std::string state = row["state"].as<std::string>();
  if (!tally.Holds(row["intent"].as<int>() == 0)) {
    tally.Violation("orders", absl::StrCat("order ", id, " (", state, ") still has intent ",
                                           row["intent_name"].as<std::string>()));
  }
  if (!tally.Holds(!row["stale_pending"].as<bool>())) {
    tally.Violation("orders", absl::StrCat("order ", id, " is PENDING for over 60 s"));
  }
  if (!tally.Holds(HoldFitsOrder(state, has_hold, hold_state))) {
    tally.Violation("holds", absl::StrCat("order ", id, " is ", state, " but its hold is ",
                                          has_hold ? hold_state : "missing"));
  }
  if (!has_hold) return;
  const int64_t points = row["points"].as<int64_t>();
  const int64_t amount = row["hold_amount"].as<int64_t>();
  const std::string rider = row["rider_id"].as<std::string>();
  const std::string person = row["hold_person"].as<std::string>();
  if (!tally.Holds(points == amount && rider == person)) {
    tally.Violation("holds", absl::StrCat("order ", id, " of ", rider, " for ", points,
                                          " points has a hold of ", amount, " on ", person));
  }
}

}  // namespace

void CheckStock(pqxx::transaction_base& tx, Tally& tally) {
  for (const pqxx::row& row : tx.exec(kStockSql)) CheckStockRow(row, tally);
  for (const pqxx::row& row : tx.exec(kOrderMovementsSql)) CheckOrderMovements(row, tally);
  const pqxx::result orphans = tx.exec(kOrphanMovementsSql);
  if (tally.Holds(orphans.empty())) return;
  for (const pqxx::row& row : orphans) {
    tally.Violation("stock",
                    absl::StrCat("movement ", row["movement_id"].as<std::string>(), " names order ",
                                 row["redemption_id"].as<std::string>(), ", which does not exist"));
  }
}

void CheckOrdersAndHolds(pqxx::transaction_base& tx, Tally& tally) {
  for (const pqxx::row& row : tx.exec(kOrdersAndHoldsSql)) CheckOrderAndHold(row, tally);
}

}  // namespace civicpoints::fault
