// The redemption saga's steps after an order is accepted, and the maintenance pass.
//
//   PENDING ──Hold──► stock reserved ──► READY ──(intent FULFILLED) Capture──► FULFILLED
//      │                   │                 └──(intent CANCELLED/EXPIRED) Release + restock
//      └── too few points ─┴── out of stock: (intent FAILED) Release ──► FAILED
//
// Every ledger call uses the order's key, so any step may run again; every state change is
// conditional on the state it starts from, so two runners (a retry and the recovery pass) cannot
// both apply it. Before a settling ledger call the target state is written to `intent`, so a
// crash between the call and the final update is finished by recovery.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/pg/pg_pool.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_service.h"

namespace civicpoints::rewards {

void WriteMovement(pqxx::transaction_base& tx, const std::string& station_id,
                   const std::string& gift_id, v1::StockMovementKind kind, int64_t available_delta,
                   int64_t reserved_delta, const std::string& reason, const std::string& actor,
                   const std::string& redemption_id, v1::StockMovement* out);
absl::Status CloseWindowNow(pqxx::transaction_base& tx, const std::string& window_id,
                            absl::Time now);

namespace {

// A ledger hold lives a little longer than the pickup time, so rewards' own expiry releases it
// first; the ledger's timeout only matters if rewards is gone for good.
constexpr absl::Duration kHoldMargin = absl::Hours(1);

// Whether a failed ledger call may succeed when repeated (the ledger or the token is away, or a
// race): the order then waits for the next try. Any other refusal is final.
bool Retryable(absl::StatusCode c) {
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

struct OrderRow {
  v1::Redemption order;
  OrderInternals in;
};

std::optional<OrderRow> ReadOrder(pqxx::transaction_base& tx, const std::string& id, bool lock) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kRedemptionColumns, " FROM redemptions r WHERE r.redemption_id = $1",
                   lock ? " FOR UPDATE" : ""),
      id);
  if (r.empty()) return std::nullopt;
  OrderRow o;
  FillRedemption(r[0], /*with_code=*/true, &o.order);
  o.in = ReadOrderInternals(r[0]);
  return o;
}

}  // namespace

absl::Status RewardsServiceImpl::LoadRedemption(const std::string& redemption_id,
                                                v1::Redemption* out) {
  return InReadTx("load redemption", [&](pqxx::transaction_base& tx) -> absl::Status {
    std::optional<OrderRow> o = ReadOrder(tx, redemption_id, false);
    if (!o.has_value()) {
      return absl::NotFoundError(absl::StrCat("redemption ", redemption_id, " does not exist"));
    }
    *out = o->order;
    return absl::OkStatus();
  });
}

absl::Status RewardsServiceImpl::FailureStatus(const v1::Redemption& order,
                                               const std::string& message,
                                               const RefusalFigures& figures) {
  const v1::ErrorReason reason = order.failure_reason();
  const absl::StatusCode code = reason == v1::ERROR_REASON_GIFT_LIMIT_REACHED ||
                                        reason == v1::ERROR_REASON_WINDOW_LIMIT_REACHED
                                    ? absl::StatusCode::kResourceExhausted
                                    : absl::StatusCode::kFailedPrecondition;
  return Refuse(
      code, reason,
      message.empty() ? absl::StrCat("redemption ", order.redemption_id(), " failed") : message,
      figures);
}

absl::Status RewardsServiceImpl::AdvancePending(const std::string& id, v1::Redemption* out,
                                                const v1::Redemption* fresh, int64_t fresh_ttl_s) {
  std::optional<OrderRow> o;
  if (fresh != nullptr) {
    o.emplace();
    o->order = *fresh;
    o->in.pickup_ttl_s = fresh_ttl_s;
  } else {
    RETURN_IF_ERROR(InReadTx("load redemption", [&](pqxx::transaction_base& tx) {
      o = ReadOrder(tx, id, false);
      return absl::OkStatus();
    }));
  }
  if (!o.has_value()) return absl::NotFoundError(absl::StrCat("redemption ", id, " not found"));
  if (o->order.state() != v1::REDEMPTION_STATE_PENDING || o->in.intent != 0) {
    return Settle(id, out);
  }
  const v1::Redemption& order = o->order;
  absl::StatusOr<ledger::v1::Hold> hold = ledger_->Hold(
      id, order.rider_id(), order.points_cost(), absl::Seconds(o->in.pickup_ttl_s) + kHoldMargin,
      order.station_org(), absl::StrCat("兑换 ", order.gift_name(), " ×", order.quantity()));
  if (!hold.ok()) {
    const absl::StatusCode c = hold.status().code();
    if (Retryable(c)) {
      return hold.status();  // the ledger is unreachable: the order stays PENDING for a retry
    }
    v1::ErrorReason reason = v1::ERROR_REASON_INSUFFICIENT_POINTS;
    std::string message =
        absl::StrCat("not enough points: the order needs ", order.points_cost(), " points");
    if (c != absl::StatusCode::kFailedPrecondition && c != absl::StatusCode::kNotFound) {
      // A refusal no retry can change (a bad request, a permission): retrying forever would hold
      // the order and its rider's limits. The order fails if, and only if, the ledger holds
      // nothing for it; an operator is told either way.
      log::Error("the ledger refused a redemption's hold; the order fails",
                 {{"redemption_id", id}, {"error", hold.status().ToString()}});
      absl::StatusOr<ledger::v1::Hold> existing = ledger_->GetHold(id);
      if (existing.ok() || existing.status().code() != absl::StatusCode::kNotFound) {
        return hold.status();  // something is held, or the ledger cannot say: stays PENDING
      }
      reason = v1::ERROR_REASON_UNSPECIFIED;
      message = "the points could not be held for this order; nothing was taken";
    }
    // Nothing was held, so the order fails at once.
    RETURN_IF_ERROR(InTx("fail redemption", [&](pqxx::transaction_base& tx) {
      tx.exec_params(
          "UPDATE redemptions SET state = 6, failure_reason = $2::smallint, failure_message = "
          "$3, ended_at = now(), updated_at = now() WHERE redemption_id = $1 AND state = 1 AND "
          "intent = 0",
          id, static_cast<int>(reason), message);
      return absl::OkStatus();
    }));
    return Settle(id, out);
  }
  if (options_.after_hold && !options_.after_hold(id)) {
    return absl::UnavailableError("the saga stopped after the hold (test hook)");
  }
  // The stock step: reserve the items and issue a pickup code, or give up for lack of stock.
  bool ready = false;
  v1::Redemption made_ready;
  for (int attempt = 0;; ++attempt) {
    absl::Status s = stock_batcher_->Run([&](pqxx::transaction_base& tx) -> absl::Status {
      std::optional<OrderRow> locked = ReadOrder(tx, id, true);
      if (!locked.has_value() || locked->order.state() != v1::REDEMPTION_STATE_PENDING ||
          locked->in.intent != 0) {
        return absl::OkStatus();  // another runner got here first
      }
      pqxx::result taken = tx.exec_params(
          "UPDATE station_stock SET available = available - $3::int, reserved = reserved + "
          "$3::int, updated_at = now() WHERE station_id = $1 AND gift_id = $2 AND available >= "
          "$3::int RETURNING available",
          order.station_id(), order.gift_id(), order.quantity());
      if (taken.empty()) {
        tx.exec_params(
            "UPDATE redemptions SET intent = 6, intent_reason = $2::smallint, failure_message = "
            "$3, updated_at = now() WHERE redemption_id = $1",
            id, static_cast<int>(v1::ERROR_REASON_OUT_OF_STOCK),
            absl::StrCat("out of stock: the station has fewer than ", order.quantity(),
                         " items of ", order.gift_name(), " left"));
        return absl::OkStatus();
      }
      std::string code = NewPickupCode();
      for (int i = 0; i < 20 && !tx.exec_params("SELECT 1 FROM redemptions WHERE state = 2 AND "
                                                "pickup_code = $1",
                                                code)
                                     .empty();
           ++i) {
        code = NewPickupCode();
      }
      pqxx::result r = tx.exec_params(
          absl::StrCat("UPDATE redemptions AS r SET state = 2, pickup_code = $2, stock_reserved = "
                       "true, ready_at = now(), expire_at = now() + make_interval(secs => "
                       "pickup_ttl_s), updated_at = now() WHERE redemption_id = $1 RETURNING ",
                       kRedemptionColumns),
          id, code);
      FillRedemption(r[0], /*with_code=*/true, &made_ready);
      ready = true;
      WriteMovement(tx, order.station_id(), order.gift_id(), v1::STOCK_MOVEMENT_KIND_RESERVE,
                    -order.quantity(), order.quantity(), "", "", id, nullptr);
      return absl::OkStatus();
    });
    // A pickup code taken at the same instant by another order: draw again.
    if (s.code() == absl::StatusCode::kAlreadyExists && attempt < 5) {
      ready = false;
      continue;
    }
    RETURN_IF_ERROR(s);
    break;
  }
  if (ready) {
    if (out != nullptr) *out = made_ready;
    return absl::OkStatus();
  }
  return Settle(id, out);
}

absl::Status RewardsServiceImpl::Settle(const std::string& id, v1::Redemption* out) {
  std::optional<OrderRow> o;
  RefusalFigures figures;
  RETURN_IF_ERROR(InReadTx("load redemption", [&](pqxx::transaction_base& tx) {
    o = ReadOrder(tx, id, false);
    figures.clear();
    if (o.has_value() && o->in.intent == 0 && o->order.state() == v1::REDEMPTION_STATE_FAILED &&
        o->order.failure_reason() == v1::ERROR_REASON_OUT_OF_STOCK) {
      // As the contract promises: how many the station has now, for the app to offer.
      pqxx::result left = tx.exec_params(
          "SELECT available FROM station_stock WHERE station_id = $1 AND gift_id = $2",
          o->order.station_id(), o->order.gift_id());
      figures.emplace_back("available_quantity",
                           left.empty() ? "0" : std::string(left[0][0].c_str()));
    }
    return absl::OkStatus();
  }));
  if (!o.has_value()) return absl::NotFoundError(absl::StrCat("redemption ", id, " not found"));
  const int intent = o->in.intent;
  if (intent == 0) {
    if (out != nullptr) *out = o->order;
    if (o->order.state() == v1::REDEMPTION_STATE_FAILED) {
      return FailureStatus(o->order, o->in.failure_message, figures);
    }
    return absl::OkStatus();
  }
  const v1::Redemption& order = o->order;
  if (intent == v1::REDEMPTION_STATE_FULFILLED) {
    absl::StatusOr<ledger::v1::Hold> captured = ledger_->Capture(id);
    if (!captured.ok()) {
      if (captured.status().code() != absl::StatusCode::kFailedPrecondition) {
        return captured.status();
      }
      // The ledger released the hold by its timeout: the order expired after all.
      RETURN_IF_ERROR(InTx("expire instead", [&](pqxx::transaction_base& tx) {
        tx.exec_params(
            "UPDATE redemptions SET intent = 5, fulfilled_by = '', updated_at = now() "
            "WHERE redemption_id = $1 AND intent = 3",
            id);
        return absl::OkStatus();
      }));
      return Settle(id, out);
    }
    RETURN_IF_ERROR(InTx("fulfil redemption", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result done = tx.exec_params(
          "UPDATE redemptions SET state = 3, intent = 0, ended_at = now(), updated_at = now() "
          "WHERE redemption_id = $1 AND intent = 3 RETURNING fulfilled_by",
          id);
      if (done.empty()) return absl::OkStatus();
      tx.exec_params(
          "UPDATE station_stock SET reserved = reserved - $3::int, updated_at = now() "
          "WHERE station_id = $1 AND gift_id = $2",
          order.station_id(), order.gift_id(), order.quantity());
      WriteMovement(tx, order.station_id(), order.gift_id(), v1::STOCK_MOVEMENT_KIND_FULFIL, 0,
                    -order.quantity(), "", done[0][0].as<std::string>(), id, nullptr);
      return absl::OkStatus();
    }));
    return Settle(id, out);
  }
  // CANCELLED, EXPIRED or FAILED: give the points back, then the stock.
  const char* why = intent == v1::REDEMPTION_STATE_CANCELLED ? "cancelled by the rider"
                    : intent == v1::REDEMPTION_STATE_EXPIRED ? "not picked up in time"
                                                             : "the order could not be completed";
  absl::StatusOr<ledger::v1::Hold> released = ledger_->Release(id, why);
  if (!released.ok() && released.status().code() != absl::StatusCode::kNotFound) {
    if (released.status().code() == absl::StatusCode::kFailedPrecondition) {
      log::Error("redemption hold was captured but the order is being released",
                 {{"redemption_id", id}, {"error", std::string(released.status().message())}});
    }
    return released.status();
  }
  RETURN_IF_ERROR(InTx("release redemption", [&](pqxx::transaction_base& tx) -> absl::Status {
    std::optional<OrderRow> locked = ReadOrder(tx, id, true);
    if (!locked.has_value() || locked->in.intent != intent) return absl::OkStatus();
    tx.exec_params(
        "UPDATE redemptions SET state = $2::smallint, intent = 0, failure_reason = CASE WHEN "
        "$2::smallint = 6 THEN intent_reason ELSE failure_reason END, ended_at = now(), "
        "updated_at = now() WHERE redemption_id = $1",
        id, intent);
    if (locked->in.stock_reserved) {
      tx.exec_params(
          "UPDATE station_stock SET available = available + $3::int, reserved = reserved - "
          "$3::int, updated_at = now() WHERE station_id = $1 AND gift_id = $2",
          order.station_id(), order.gift_id(), order.quantity());
      WriteMovement(tx, order.station_id(), order.gift_id(), v1::STOCK_MOVEMENT_KIND_RETURN,
                    order.quantity(), -order.quantity(), "", "", id, nullptr);
    }
    return absl::OkStatus();
  }));
  return Settle(id, out);
}

absl::Status RewardsServiceImpl::StartSettle(pqxx::transaction_base& tx, const std::string& id,
                                             v1::RedemptionState target) {
  tx.exec_params(
      "UPDATE redemptions SET intent = $2::smallint, updated_at = now() "
      "WHERE redemption_id = $1 AND state = 2 AND intent = 0",
      id, static_cast<int>(target));
  return absl::OkStatus();
}

MaintenanceCounts RewardsServiceImpl::RunMaintenance(absl::Time now, absl::Duration min_age) {
  MaintenanceCounts counts;
  auto ids = [&](const char* what, const std::string& sql, int64_t param) {
    std::vector<std::string> out;
    absl::Status s = InReadTx(what, [&](pqxx::transaction_base& tx) {
      for (const auto& row : tx.exec_params(sql, param)) out.push_back(row[0].as<std::string>());
      return absl::OkStatus();
    });
    if (!s.ok()) log::Warn("maintenance query failed", {{"what", what}, {"error", s.ToString()}});
    return out;
  };
  auto warn = [](const char* what, const std::string& id, const absl::Status& s) {
    log::Warn("maintenance step failed", {{"what", what}, {"id", id}, {"error", s.ToString()}});
  };
  for (const std::string& w :
       ids("due windows",
           "SELECT window_id FROM exchange_windows WHERE state = 1 AND start_at <= "
           "from_us($1::bigint) AND end_at > from_us($1::bigint) ORDER BY start_at LIMIT 100",
           Us(now))) {
    absl::Status s = DoOpenWindow(w, now);
    if (s.ok()) {
      ++counts.windows_opened;
    } else {
      warn("open window", w, s);
    }
  }
  for (const std::string& w :
       ids("ended windows",
           "SELECT window_id FROM exchange_windows WHERE state IN (1, 2) AND end_at <= "
           "from_us($1::bigint) ORDER BY end_at LIMIT 100",
           Us(now))) {
    absl::Status s = InTx("close window",
                          [&](pqxx::transaction_base& tx) { return CloseWindowNow(tx, w, now); });
    if (s.ok()) {
      ++counts.windows_closed;
    } else {
      warn("close window", w, s);
    }
  }
  for (const std::string& id :
       ids("expired orders",
           "SELECT redemption_id FROM redemptions WHERE state = 2 AND intent = 0 AND expire_at <= "
           "from_us($1::bigint) ORDER BY expire_at LIMIT 500",
           Us(now))) {
    absl::Status s = InTx("expire order", [&](pqxx::transaction_base& tx) {
      return StartSettle(tx, id, v1::REDEMPTION_STATE_EXPIRED);
    });
    if (s.ok()) s = Settle(id, nullptr);
    if (s.ok()) {
      ++counts.orders_expired;
    } else {
      warn("expire order", id, s);
    }
  }
  for (const std::string& id :
       ids("unsettled orders",
           "SELECT redemption_id FROM redemptions WHERE (state = 1 OR intent <> 0) AND "
           "updated_at <= from_us($1::bigint) ORDER BY updated_at LIMIT 500",
           Us(now - min_age))) {
    absl::Status s = AdvancePending(id, nullptr);
    // A FAILED order answers with its refusal; for recovery that is a finished order.
    if (s.ok() || ReasonOf(s) != v1::ERROR_REASON_UNSPECIFIED) {
      ++counts.orders_recovered;
    } else {
      warn("recover order", id, s);
    }
  }
  return counts;
}

}  // namespace civicpoints::rewards
