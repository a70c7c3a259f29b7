// PgRedemptionStore: the redemption path's SQL (tables redemptions and redemption_requests, the
// stock an order reserves and returns, and the pickup keys in idempotency_keys). Every method runs
// inside the caller's transaction (RewardsServiceImpl::InTx / InReadTx, or the stock batcher's),
// so the rules (redemption_rules.h) decide between a read and a write of one transaction. Values
// cross as plain structs and the v1 messages. Statements name enum values
// (redemption_state('READY'), common/pg/sql_enums.h), never numbers. Stateless and thread-safe; a
// database error is thrown as pqxx's exception, which the transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_REWARDS_PG_REDEMPTION_STORE_H_
#define CIVICPOINTS_SERVICES_REWARDS_PG_REDEMPTION_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/rewards/v1/redemption.pb.h"
#include "services/rewards/records.h"
#include "services/rewards/redemption_rules.h"
#include "services/rewards/standing.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::rewards {

class PgRedemptionStore {
 public:
  // ---- placing an order ----

  // What an order request stored under (rider, key) became: an order, or a refusal.
  struct StoredRequest {
    std::string request_hash;
    std::string redemption_id;  // empty: refused with `refusal`
    absl::Status refusal;
  };
  // Stores the refusal the request under (rider, key) got, for its retries.
  void SaveRefusal(pqxx::transaction_base& tx, const std::string& rider, const std::string& key,
                   const std::string& request_hash, const absl::Status& refusal) const;

  // Takes, for the transaction, the lock of (rider, window) without waiting (one order at a time
  // per rider and window, so limits count every earlier order) and the rider's lock shared (an
  // account being closed takes no new order: CloseRiderOrders holds it alone, LockRiderForClosing).
  // False when another order of the rider in the window holds the first.
  bool LockForOrder(pqxx::transaction_base& tx, const std::string& window_id,
                    const std::string& rider) const;

  // Everything placing an order weighs, read in one statement after LockForOrder (so that it
  // counts every earlier order of the rider in the window).
  struct OrderContext {
    std::optional<StoredRequest> seen;   // what the key made before, if it was used
    bool rider_closed = false;           // the rider closed their account
    std::optional<WindowRecord> window;  // with its stations and gifts; empty: no such window
    StandingFacts standing;
    std::optional<GiftFacts> gift;                    // empty: no such gift
    int64_t stock_available = 0;                      // at the station
    std::optional<common::v1::OrgPath> station_path;  // empty: the station is not known
  };
  OrderContext ReadOrderContext(pqxx::transaction_base& tx, const OrderRequest& req,
                                const std::string& rider, const std::string& key) const;

  struct NewOrder {
    std::string redemption_id, rider_id;
    OrderRequest request;
    std::string gift_name;
    OrderTerms terms;
    common::v1::OrgPath station_path;
    int64_t pickup_ttl_s = 0;
  };
  // Inserts the order PENDING and stores it as what the request under (rider, `key`) made, in
  // one statement; returns the order as stored.
  v1::Redemption InsertOrder(pqxx::transaction_base& tx, const NewOrder& order,
                             const std::string& key, const std::string& request_hash) const;

  // Deletes a PENDING order with no settling step (nothing held, nothing reserved) and stores
  // `refusal` as what its request made, in one statement. False when the order was not so.
  bool DropRefusedOrder(pqxx::transaction_base& tx, const std::string& redemption_id,
                        const std::string& rider, const absl::Status& refusal) const;

  // ---- the saga ----

  struct Order {
    v1::Redemption order;  // with its pickup code
    int intent = 0;
    v1::ErrorReason intent_reason = v1::ERROR_REASON_UNSPECIFIED;
    bool stock_reserved = false;
    std::string failure_message;
    int64_t pickup_ttl_s = 0;
  };
  // The order (FOR UPDATE when `lock`), if it exists.
  std::optional<Order> ReadOrder(pqxx::transaction_base& tx, const std::string& redemption_id,
                                 bool lock) const;
  // The station's stock of the order's gift now (0 when it has none).
  int64_t StockAvailable(pqxx::transaction_base& tx, const std::string& station_id,
                         const std::string& gift_id) const;

  // A PENDING order with no settling step fails at once (nothing was held).
  void FailPending(pqxx::transaction_base& tx, const std::string& redemption_id,
                   v1::ErrorReason reason, const std::string& message) const;
  // The stock step of a PENDING order with no settling step (else nothing, `pending` false): in
  // one statement, moves its items from available to reserved and makes it READY with the first
  // of `codes` no READY order holds, its pickup time running from now but ending no later than
  // `hold_expiry` (when the ledger would release the points by itself: a hold taken long before,
  // its order PENDING while the ledger was away, has less time left than a pickup); or, when the
  // station has too few items, writes the FAILED settling step (OUT_OF_STOCK). Records the stock
  // movement, redemption_ready, and stock_low when the reservation takes the available count
  // from above `low_stock_threshold` to at or below it (once per crossing; 0 turns it off).
  // Throws pqxx::unique_violation (the stock batcher's ALREADY_EXISTS) when another order took
  // the code at the same instant.
  struct StockStep {
    bool pending = false;                 // the order was PENDING with no settling step
    std::optional<v1::Redemption> ready;  // READY: reserved, with its pickup code
    bool no_free_code = false;            // every one of `codes` is held: draw others
  };
  StockStep ReserveAndMakeReady(pqxx::transaction_base& tx, const v1::Redemption& order,
                                const std::vector<std::string>& codes,
                                std::optional<absl::Time> hold_expiry,
                                int low_stock_threshold) const;

  // Writes the settling step `target` on a READY order with none under way (else nothing).
  void StartSettle(pqxx::transaction_base& tx, const std::string& redemption_id,
                   v1::RedemptionState target) const;
  // A hand-over whose capture the ledger refused settles toward EXPIRED instead.
  void ExpireInsteadOfFulfil(pqxx::transaction_base& tx, const std::string& redemption_id) const;
  // Finishes a captured hand-over: FULFILLED, its reserved items gone. False when another runner
  // finished it first.
  bool FinishFulfil(pqxx::transaction_base& tx, const v1::Redemption& order) const;
  // Finishes a released order in the state `intent` names, returning its reserved items. Only
  // while the order still carries `intent`.
  void FinishRelease(pqxx::transaction_base& tx, const std::string& redemption_id,
                     int intent) const;

  // Orders READY past their pickup time with no settling step, oldest first.
  std::vector<std::string> ExpiredOrders(pqxx::transaction_base& tx, absl::Time now,
                                         int limit) const;
  // Orders PENDING, or with a settling step, untouched since `before`: left by a crash or a lost
  // ledger, for the recovery pass; those whose turn has come by `now`, by turn (never tried
  // first), then oldest first.
  std::vector<std::string> UnsettledOrders(pqxx::transaction_base& tx, absl::Time before,
                                           absl::Time now, int limit) const;
  // The recovery pass could not settle the order at `now`: its next turn waits 5 s, doubling with
  // each failure, at most 10 minutes.
  void PostponeRecovery(pqxx::transaction_base& tx, const std::string& redemption_id,
                        absl::Time now) const;

  // ---- handing over ----

  // The READY order holding `code`, locked.
  std::optional<WaitingPickup> FindWaitingPickup(pqxx::transaction_base& tx,
                                                 const std::string& code) const;
  // The latest ended order that held `code`.
  std::optional<EndedPickup> FindEndedPickup(pqxx::transaction_base& tx,
                                             const std::string& code) const;
  // Writes the settling step a pickup decided on its READY order (fulfilled by `keeper`).
  void MarkPickup(pqxx::transaction_base& tx, const std::string& redemption_id,
                  v1::RedemptionState mark, const std::string& keeper) const;

  // The order a pickup key (`scope`, `key`) names, with the hash of the request that stored it.
  struct PickupKey {
    std::string request_hash;
    std::string redemption_id;
  };
  std::optional<PickupKey> FindPickupKey(pqxx::transaction_base& tx, const std::string& scope,
                                         const std::string& key) const;
  void SavePickupKey(pqxx::transaction_base& tx, const std::string& scope, const std::string& key,
                     const std::string& request_hash, const std::string& redemption_id) const;

  // ---- cancelling ----

  struct Ownership {
    std::string rider_id;
    v1::RedemptionState state = v1::REDEMPTION_STATE_UNSPECIFIED;
    int intent = 0;
  };
  // The order's rider, state and settling step, locked.
  std::optional<Ownership> LockForCancel(pqxx::transaction_base& tx,
                                         const std::string& redemption_id) const;
  void MarkCancel(pqxx::transaction_base& tx, const std::string& redemption_id,
                  const std::string& reason) const;

  // ---- closed accounts ----

  // Serializes a rider's account closing with the rider's new orders: the closing takes the
  // rider's lock alone, a new order shares it (LockForOrder; both until the transaction ends).
  void LockRiderForClosing(pqxx::transaction_base& tx, const std::string& rider) const;
  // Records that the rider closed their account (idempotent).
  void MarkRiderClosed(pqxx::transaction_base& tx, const std::string& rider) const;
  // The rider's orders in `state`, oldest first.
  std::vector<std::string> OrdersOfRider(pqxx::transaction_base& tx, const std::string& rider,
                                         v1::RedemptionState state) const;
};

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_PG_REDEMPTION_STORE_H_
