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
#include "services/rewards/redemption_rules.h"

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
  std::optional<StoredRequest> FindRequest(pqxx::transaction_base& tx, const std::string& rider,
                                           const std::string& key) const;
  // Stores what the request under (rider, key) became: `redemption_id`, or `refusal`.
  void SaveRequest(pqxx::transaction_base& tx, const std::string& rider, const std::string& key,
                   const std::string& request_hash, const std::string& redemption_id,
                   const absl::Status& refusal) const;

  struct WindowTimes {
    v1::ExchangeWindowState state = v1::EXCHANGE_WINDOW_STATE_UNSPECIFIED;
    absl::Time start, end;
  };
  std::optional<WindowTimes> ReadWindowTimes(pqxx::transaction_base& tx,
                                             const std::string& window_id) const;

  // Takes the lock of (rider, window) for the transaction, without waiting: one order at a time
  // per rider and window, so limits count every earlier order. False when another holds it.
  bool TryLockRiderWindow(pqxx::transaction_base& tx, const std::string& window_id,
                          const std::string& rider) const;

  // Everything DecideOrder weighs, with what the order row needs besides. Errors: NOT_FOUND when
  // the window does not exist.
  struct OrderContext {
    OrderFacts facts;
    common::v1::OrgPath station_path;  // when facts.station_known
    int64_t window_pickup_ttl_s = 0;   // 0: the service default
  };
  absl::StatusOr<OrderContext> ReadOrderContext(pqxx::transaction_base& tx, const OrderRequest& req,
                                                const std::string& rider, int64_t balance,
                                                absl::Time now) const;

  struct NewOrder {
    std::string redemption_id, rider_id;
    OrderRequest request;
    std::string gift_name;
    OrderTerms terms;
    common::v1::OrgPath station_path;
    int64_t pickup_ttl_s = 0;
  };
  // Inserts the order PENDING; returns it as stored.
  v1::Redemption InsertOrder(pqxx::transaction_base& tx, const NewOrder& order) const;

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
  // Moves the order's items from available to reserved if the station has them. False when not.
  // When the reservation takes the available count from above `low_stock_threshold` to at or
  // below it, records stock_low (once per crossing; 0 turns it off).
  bool ReserveStock(pqxx::transaction_base& tx, const v1::Redemption& order,
                    int low_stock_threshold) const;
  // A PENDING order's stock step found too few items: it settles toward FAILED.
  void MarkOutOfStock(pqxx::transaction_base& tx, const v1::Redemption& order) const;
  // Whether a READY order holds `code`.
  bool PickupCodeInUse(pqxx::transaction_base& tx, const std::string& code) const;
  // The order READY with `code`, its pickup time running from now but ending no later than
  // `hold_expiry` (when the ledger would release the points by itself; a hold taken long before,
  // its order PENDING while the ledger was away, has less time left than a pickup). Throws
  // pqxx::unique_violation (the stock batcher's ALREADY_EXISTS) when another order took the code
  // at the same instant.
  v1::Redemption MakeReady(pqxx::transaction_base& tx, const std::string& redemption_id,
                           const std::string& code, std::optional<absl::Time> hold_expiry) const;

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
  // rider's lock alone, a new order shares it (both until the transaction ends).
  void LockRiderForClosing(pqxx::transaction_base& tx, const std::string& rider) const;
  void LockRiderForOrder(pqxx::transaction_base& tx, const std::string& rider) const;
  // Records that the rider closed their account (idempotent); whether the rider has.
  void MarkRiderClosed(pqxx::transaction_base& tx, const std::string& rider) const;
  bool RiderClosed(pqxx::transaction_base& tx, const std::string& rider) const;
  // The rider's orders in `state`, oldest first.
  std::vector<std::string> OrdersOfRider(pqxx::transaction_base& tx, const std::string& rider,
                                         v1::RedemptionState state) const;
};

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_PG_REDEMPTION_STORE_H_
