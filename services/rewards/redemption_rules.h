// The redemption's rules as pure functions over plain values: whether an order may be placed and at
// what price, what the saga does next for an order, how a ledger refusal moves it, what a pickup
// code entry does and what a cancel does. No storage and no clock: the handlers
// (redemption_methods.cc) and the saga's runner (saga.cc) read the facts through PgRedemptionStore,
// ask these, and write the answer in the same transaction. redemption_rules_test.cc holds them
// without a database.
#ifndef CIVICPOINTS_SERVICES_REWARDS_REDEMPTION_RULES_H_
#define CIVICPOINTS_SERVICES_REWARDS_REDEMPTION_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/rewards/v1/errors.pb.h"
#include "civicpoints/rewards/v1/exchange_window.pb.h"
#include "civicpoints/rewards/v1/redemption.pb.h"

namespace civicpoints::rewards {

// ---- placing an order ----

struct OrderRequest {
  std::string window_id, station_id, gift_id;
  int32_t quantity = 1;
};

struct GiftFacts {
  std::string name;
  int64_t points_cost = 0;
  bool active = false;
};

// What CreateRedemption knows when it decides, read under the rider's order lock.
struct OrderFacts {
  v1::ExchangeWindow window;      // with its station_ids and gifts
  std::optional<GiftFacts> gift;  // empty: no such gift
  v1::Eligibility eligibility;    // the rider's standing in the window (standing.h)
  int32_t redeemed_of_gift = 0;   // items of this gift the rider has in the window
  int32_t redeemed_total = 0;     // items of every gift
  int64_t stock_available = 0;    // at the station
  // The rider's available points, when read: only a window with a minimum balance needs them
  // before the hold; otherwise the ledger's hold is the check (InsufficientPoints).
  std::optional<int64_t> balance;
  bool station_known = false;  // the station is in the local copy of activity's stations
};

struct OrderTerms {
  int64_t unit_points = 0;
  int64_t points = 0;
};

// The price of `req`, or the refusal it gets, checked in the order a rider would want to hear
// them: the window's state first, then where and what (station, gift in the window, gift active),
// then who (ranking cut, minimum balance), then how many (per gift, per window), then stock and
// points. Refusals are FAILED_PRECONDITION or RESOURCE_EXHAUSTED (limits) with an ErrorInfo reason
// and the figures behind them; NOT_FOUND for a gift that does not exist.
absl::StatusOr<OrderTerms> DecideOrder(const OrderRequest& req, const OrderFacts& facts);

// The refusal of an order of `points` points when the rider has `balance` available.
absl::Status InsufficientPoints(int64_t balance, int64_t points);

// The refusal for the first of `eligibility`'s reasons that CreateRedemption answers with (window
// not open or closed, outside the ranking cut, balance below the minimum); OK when none.
absl::Status EligibilityRefusal(const v1::Eligibility& eligibility,
                                const v1::ExchangeWindow& window);

// ---- the saga ----
//
//   PENDING ──Hold──► stock reserved ──► READY ──(intent FULFILLED) Capture──► FULFILLED
//      │                   │                 └──(intent CANCELLED/EXPIRED) Release + restock
//      └── too few points ─┴── out of stock: (intent FAILED) Release ──► FAILED
//
// `intent` is the settling step written before its ledger call (0: none under way), so a crash
// between the call and the final update is finished by whoever runs the order next.

enum class SagaStep {
  kDone,     // nothing to do: the order rests (READY) or has ended
  kHold,     // PENDING: hold the points, then reserve the stock
  kCapture,  // take the held points (hand-over under way)
  kRelease,  // give the held points back, then the stock (cancel, expiry, failure)
};
SagaStep NextSagaStep(v1::RedemptionState state, int intent);

// Whether a failed ledger call may succeed when repeated (the ledger or its token is away, or a
// race): the order then waits for the next try. Any other refusal is final.
bool LedgerRetryable(absl::StatusCode code);

// What a refused hold does to a PENDING order.
struct HoldRefusal {
  enum class Action {
    kRetryLater,      // the ledger is unreachable: the order stays PENDING
    kFail,            // nothing was held (too few points): the order fails
    kFailIfNoneHeld,  // a refusal no retry changes: fail if, and only if, the ledger holds nothing
  };
  Action action = Action::kRetryLater;
  v1::ErrorReason reason = v1::ERROR_REASON_UNSPECIFIED;  // the failed order's reason
  std::string message;
};
HoldRefusal OnHoldRefused(absl::StatusCode code, int64_t points_cost);

// A refused capture with this code means the ledger released the hold by its own timeout: the
// order expired after all.
bool CaptureMeansExpired(absl::StatusCode code);

// The note a release carries in the ledger for an order settling toward `intent`.
const char* ReleaseNote(int intent);

// The message an order failed for lack of stock keeps.
std::string OutOfStockMessage(int32_t quantity, const std::string& gift_name);

// The refusal a FAILED order answers with (RESOURCE_EXHAUSTED for limits, FAILED_PRECONDITION
// otherwise); `figures` as the contract promises for its reason (available_quantity).
absl::Status FailureStatus(const v1::Redemption& order, const std::string& message,
                           const std::vector<std::pair<std::string, std::string>>& figures = {});

// ---- cancelling ----

// What CancelRedemption does to the rider's order in `state` with `intent`: OK with `mark` true
// when it writes the CANCELLED intent, OK with `mark` false when a cancel is already under way or
// done (a retry), or the refusal ORDER_NOT_CANCELLABLE.
absl::Status DecideCancel(const std::string& redemption_id, v1::RedemptionState state, int intent,
                          bool* mark);

// ---- handing over ----

// The six digits of a pickup code typed with spaces or dashes. Errors: INVALID_ARGUMENT.
absl::StatusOr<std::string> NormalizePickupCode(const std::string& raw);

// The READY order holding a pickup code.
struct WaitingPickup {
  std::string redemption_id;
  std::string station_id;
  int intent = 0;
  bool expired = false;  // its pickup time has passed
};
// The latest ended order that held the code (for a precise refusal).
struct EndedPickup {
  v1::RedemptionState state = v1::REDEMPTION_STATE_UNSPECIFIED;
  std::string station_id;
  std::optional<absl::Time> ended;
};

// What an entry of a pickup code at `station_id` does.
struct PickupDecision {
  absl::Status refusal;  // not OK: answer it, write nothing
  // The settling step to write on the order (FULFILLED, or EXPIRED when its time has passed);
  // UNSPECIFIED: none.
  v1::RedemptionState mark = v1::REDEMPTION_STATE_UNSPECIFIED;
  bool save_key = false;  // the entry's idempotency key names the order from now on
};
PickupDecision DecidePickup(const std::string& station_id,
                            const std::optional<WaitingPickup>& waiting,
                            const std::optional<EndedPickup>& ended);

// The answer to a pickup once its order settled: OK when handed over; EXPIRED's refusal; else
// UNAVAILABLE (the hand-over is still under way; the same key resumes it).
absl::Status PickupOutcome(const v1::Redemption& settled);

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_REDEMPTION_RULES_H_
