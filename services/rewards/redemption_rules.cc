#include "services/rewards/redemption_rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/time_units.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"

namespace civicpoints::rewards {

namespace {

constexpr absl::StatusCode kPrecondition = absl::StatusCode::kFailedPrecondition;
constexpr absl::StatusCode kExhausted = absl::StatusCode::kResourceExhausted;

std::string StateName(int state) {
  return v1::RedemptionState_Name(static_cast<v1::RedemptionState>(state));
}

}  // namespace

absl::Status EligibilityRefusal(const v1::Eligibility& e, const v1::ExchangeWindow& w) {
  for (int r : e.reasons()) {
    switch (r) {
      case v1::ERROR_REASON_WINDOW_NOT_OPEN:
        return Refuse(
            kPrecondition, v1::ERROR_REASON_WINDOW_NOT_OPEN,
            absl::StrCat("window_id: exchange window ", w.window_id(), " has not opened yet"),
            {{"start_time", absl::FormatTime(times::TimeOf(w.start_time()))}});
      case v1::ERROR_REASON_WINDOW_CLOSED:
        return Refuse(kPrecondition, v1::ERROR_REASON_WINDOW_CLOSED,
                      absl::StrCat("window_id: exchange window ", w.window_id(), " has closed"),
                      {{"end_time", absl::FormatTime(times::TimeOf(w.end_time()))}});
      case v1::ERROR_REASON_NOT_IN_RANKING_CUT:
        return Refuse(
            kPrecondition, v1::ERROR_REASON_NOT_IN_RANKING_CUT,
            e.rank() > 0
                ? absl::StrCat("the rider ranks ", e.rank(), " with ", e.ranking_points(),
                               " points, outside the cut of ", e.cutoff_points(), " points")
                : "the rider was not inside the window's ranking cut",
            {{"rank", std::to_string(e.rank())},
             {"ranking_points", std::to_string(e.ranking_points())},
             {"cutoff_points", std::to_string(e.cutoff_points())}});
      case v1::ERROR_REASON_BALANCE_BELOW_MINIMUM:
        return Refuse(kPrecondition, v1::ERROR_REASON_BALANCE_BELOW_MINIMUM,
                      absl::StrCat("available balance ", e.available_balance(),
                                   " is below the window's minimum of ", e.min_balance()),
                      {{"available_balance", std::to_string(e.available_balance())},
                       {"min_balance", std::to_string(e.min_balance())}});
      default:
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status InsufficientPoints(int64_t balance, int64_t points) {
  return Refuse(
      kPrecondition, v1::ERROR_REASON_INSUFFICIENT_POINTS,
      absl::StrCat("available balance ", balance, " is below the order's ", points, " points"),
      {{"available_balance", std::to_string(balance)},
       {"required_points", std::to_string(points)}});
}

absl::StatusOr<OrderTerms> DecideOrder(const OrderRequest& req, const OrderFacts& f) {
  if (!f.gift.has_value()) {
    return absl::NotFoundError(absl::StrCat("gift ", req.gift_id, " does not exist"));
  }
  const auto& reasons = f.eligibility.reasons();
  if (!reasons.empty() && (reasons[0] == v1::ERROR_REASON_WINDOW_NOT_OPEN ||
                           reasons[0] == v1::ERROR_REASON_WINDOW_CLOSED)) {
    return EligibilityRefusal(f.eligibility, f.window);
  }
  const auto& stations = f.window.station_ids();
  if (std::find(stations.begin(), stations.end(), req.station_id) == stations.end()) {
    return Refuse(
        kPrecondition, v1::ERROR_REASON_STATION_NOT_IN_WINDOW,
        absl::StrCat("station_id: ", req.station_id, " is not a station of this exchange window"));
  }
  const v1::WindowGift* offered = nullptr;
  for (const v1::WindowGift& g : f.window.gifts()) {
    if (g.gift_id() == req.gift_id) offered = &g;
  }
  if (offered == nullptr) {
    return Refuse(
        kPrecondition, v1::ERROR_REASON_GIFT_NOT_IN_WINDOW,
        absl::StrCat("gift_id: ", req.gift_id, " is not offered in this exchange window"));
  }
  if (!f.gift->active) {
    return Refuse(kPrecondition, v1::ERROR_REASON_GIFT_INACTIVE,
                  absl::StrCat("gift_id: ", req.gift_id, " has been deactivated"));
  }
  RETURN_IF_ERROR(EligibilityRefusal(f.eligibility, f.window));
  if (offered->max_per_rider() > 0 &&
      f.redeemed_of_gift + req.quantity > offered->max_per_rider()) {
    return Refuse(
        kExhausted, v1::ERROR_REASON_GIFT_LIMIT_REACHED,
        absl::StrCat("quantity: the rider has ", f.redeemed_of_gift,
                     " of this gift in the window and may take at most ", offered->max_per_rider()),
        {{"limit", std::to_string(offered->max_per_rider())},
         {"redeemed", std::to_string(f.redeemed_of_gift)}});
  }
  const int32_t window_limit = f.window.max_items_per_rider();
  if (window_limit > 0 && f.redeemed_total + req.quantity > window_limit) {
    return Refuse(
        kExhausted, v1::ERROR_REASON_WINDOW_LIMIT_REACHED,
        absl::StrCat("quantity: the rider has ", f.redeemed_total,
                     " items in the window and may take at most ", window_limit),
        {{"limit", std::to_string(window_limit)}, {"redeemed", std::to_string(f.redeemed_total)}});
  }
  if (f.stock_available < req.quantity) {
    return Refuse(kPrecondition, v1::ERROR_REASON_OUT_OF_STOCK,
                  absl::StrCat("the station has ", f.stock_available, " items of this gift left, ",
                               req.quantity, " ordered"),
                  {{"available_quantity", std::to_string(f.stock_available)}});
  }
  const OrderTerms terms{.unit_points = f.gift->points_cost,
                         .points = f.gift->points_cost * req.quantity};
  if (f.balance.has_value() && *f.balance < terms.points) {
    return InsufficientPoints(*f.balance, terms.points);
  }
  if (!f.station_known) {
    return Refuse(kPrecondition, v1::ERROR_REASON_NOT_A_STATION,
                  absl::StrCat("station_id: ", req.station_id, " is not known"));
  }
  return terms;
}

SagaStep NextSagaStep(v1::RedemptionState state, int intent) {
  switch (intent) {
    case 0:
      return state == v1::REDEMPTION_STATE_PENDING ? SagaStep::kHold : SagaStep::kDone;
    case v1::REDEMPTION_STATE_FULFILLED:
      return SagaStep::kCapture;
    default:
      return SagaStep::kRelease;  // CANCELLED, EXPIRED or FAILED
  }
}

bool LedgerRetryable(absl::StatusCode c) {
  switch (c) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

HoldRefusal OnHoldRefused(absl::StatusCode code, int64_t points_cost) {
  if (LedgerRetryable(code)) return {};
  if (code == absl::StatusCode::kFailedPrecondition || code == absl::StatusCode::kNotFound) {
    return {.action = HoldRefusal::Action::kFail,
            .reason = v1::ERROR_REASON_INSUFFICIENT_POINTS,
            .message = absl::StrCat("not enough points: the order needs ", points_cost, " points")};
  }
  // A bad request or a permission: retrying forever would hold the order and its rider's limits.
  return {.action = HoldRefusal::Action::kFailIfNoneHeld,
          .reason = v1::ERROR_REASON_UNSPECIFIED,
          .message = "the points could not be held for this order; nothing was taken"};
}

bool CaptureMeansExpired(absl::StatusCode code) {
  return code == absl::StatusCode::kFailedPrecondition;
}

const char* ReleaseNote(int intent) {
  switch (intent) {
    case v1::REDEMPTION_STATE_CANCELLED:
      return "cancelled by the rider";
    case v1::REDEMPTION_STATE_EXPIRED:
      return "not picked up in time";
    default:
      return "the order could not be completed";
  }
}

std::string OutOfStockMessage(int32_t quantity, const std::string& gift_name) {
  return absl::StrCat("out of stock: the station has fewer than ", quantity, " items of ",
                      gift_name, " left");
}

absl::Status FailureStatus(const v1::Redemption& order, const std::string& message,
                           const std::vector<std::pair<std::string, std::string>>& figures) {
  const v1::ErrorReason reason = order.failure_reason();
  const bool limit = reason == v1::ERROR_REASON_GIFT_LIMIT_REACHED ||
                     reason == v1::ERROR_REASON_WINDOW_LIMIT_REACHED;
  return Refuse(
      limit ? kExhausted : kPrecondition, reason,
      message.empty() ? absl::StrCat("redemption ", order.redemption_id(), " failed") : message,
      figures);
}

absl::Status DecideCancel(const std::string& redemption_id, v1::RedemptionState state, int intent,
                          bool* mark) {
  *mark = false;
  if (state == v1::REDEMPTION_STATE_CANCELLED || intent == v1::REDEMPTION_STATE_CANCELLED) {
    return absl::OkStatus();  // a retry: finish or return it
  }
  if (state != v1::REDEMPTION_STATE_READY || intent != 0) {
    return Refuse(kPrecondition, v1::ERROR_REASON_ORDER_NOT_CANCELLABLE,
                  absl::StrCat("redemption ", redemption_id, " is ",
                               StateName(intent != 0 ? intent : state), ", not READY"));
  }
  *mark = true;
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizePickupCode(const std::string& raw) {
  std::string code;
  for (char c : raw) {
    if (c != ' ' && c != '-') code += c;
  }
  if (code.empty()) return absl::InvalidArgumentError("pickup_code: is required");
  if (code.size() != 6 || !std::all_of(code.begin(), code.end(), absl::ascii_isdigit)) {
    return absl::InvalidArgumentError("pickup_code: must be six digits");
  }
  return code;
}

PickupDecision DecidePickup(const std::string& station_id,
                            const std::optional<WaitingPickup>& waiting,
                            const std::optional<EndedPickup>& ended) {
  if (!waiting.has_value()) {
    // An ended order elsewhere says nothing a stranger to that station should learn.
    if (!ended.has_value() || ended->station_id != station_id) {
      return {.refusal = Refuse(absl::StatusCode::kNotFound, v1::ERROR_REASON_PICKUP_CODE_UNKNOWN,
                                "pickup_code: no order waiting for pickup has this code")};
    }
    if (ended->state == v1::REDEMPTION_STATE_FULFILLED) {
      return {.refusal = Refuse(
                  kPrecondition, v1::ERROR_REASON_PICKUP_CODE_ALREADY_USED,
                  "pickup_code: the order with this code was already handed over",
                  {{"station_id", ended->station_id},
                   {"fulfil_time", absl::FormatTime(ended->ended.value_or(absl::UnixEpoch()))}})};
    }
    return {.refusal = Refuse(kPrecondition, v1::ERROR_REASON_PICKUP_CODE_EXPIRED,
                              absl::StrCat("pickup_code: the order with this code is ",
                                           StateName(ended->state), "; its points were released"),
                              {{"state", StateName(ended->state)}})};
  }
  if (waiting->station_id != station_id) {
    return {.refusal = Refuse(kPrecondition, v1::ERROR_REASON_PICKUP_AT_OTHER_STATION,
                              absl::StrCat("pickup_code: the order is to be collected at station ",
                                           waiting->station_id),
                              {{"station_id", waiting->station_id}})};
  }
  if (waiting->intent == v1::REDEMPTION_STATE_FULFILLED) {
    // Another entry of this code (another keeper, or another tap under a new key) is handing the
    // gift over right now: a second OK would hand it over twice. Only a repeat of that entry's
    // own key resumes it.
    return {.refusal = Refuse(kPrecondition, v1::ERROR_REASON_PICKUP_CODE_ALREADY_USED,
                              "pickup_code: was just entered and the gift is being handed over",
                              {{"station_id", station_id}})};
  }
  if (waiting->intent != 0) {
    return {.refusal = Refuse(kPrecondition, v1::ERROR_REASON_PICKUP_CODE_EXPIRED,
                              "pickup_code: the order is being cancelled or has expired")};
  }
  if (waiting->expired) return {.mark = v1::REDEMPTION_STATE_EXPIRED};
  return {.mark = v1::REDEMPTION_STATE_FULFILLED, .save_key = true};
}

absl::Status PickupOutcome(const v1::Redemption& settled) {
  if (settled.state() == v1::REDEMPTION_STATE_EXPIRED) {
    return Refuse(kPrecondition, v1::ERROR_REASON_PICKUP_CODE_EXPIRED,
                  "pickup_code: the order expired before it was collected; its points were "
                  "released");
  }
  if (settled.state() != v1::REDEMPTION_STATE_FULFILLED) {
    return absl::UnavailableError("the hand-over is not finished yet; retry with the same key");
  }
  return absl::OkStatus();
}

}  // namespace civicpoints::rewards
