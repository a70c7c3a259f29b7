// The redemption saga, run by whoever holds an order: placing it (PlaceOrder), then the steps after
// it was accepted (AdvancePending, Settle), and the maintenance pass. What each step decides is in
// redemption_rules.h (with the saga's diagram); the SQL is in PgRedemptionStore.
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
#include "services/rewards/standing.h"

namespace civicpoints::rewards {

absl::Status CloseWindowNow(pqxx::transaction_base& tx, const std::string& window_id,
                            absl::Time now);

namespace {

// What DecideOrder weighs, from what placing read and the rider's balance.
OrderFacts FactsOf(const PgRedemptionStore::OrderContext& c, const OrderRequest& req,
                   const std::string& rider, std::optional<int64_t> balance, absl::Time now) {
  // Without a minimum balance the standing does not weigh the balance.
  Standing standing = EvaluateStanding(*c.window, rider, balance.value_or(0), now, {}, c.standing);
  OrderFacts f;
  f.window = c.window->window;
  f.gift = c.gift;
  f.eligibility = std::move(standing.eligibility);
  f.redeemed_of_gift = standing.redeemed_by_gift[req.gift_id];
  f.redeemed_total = standing.redeemed_total;
  f.stock_available = c.stock_available;
  f.balance = balance;
  f.station_known = c.station_path.has_value();
  return f;
}

bool DueToOpen(const v1::ExchangeWindow& w, absl::Time now) {
  return w.state() == v1::EXCHANGE_WINDOW_STATE_SCHEDULED && TimeOf(w.start_time()) <= now &&
         TimeOf(w.end_time()) > now;
}

}  // namespace

absl::StatusOr<RewardsServiceImpl::PlacedOrder> RewardsServiceImpl::PlaceOrder(
    const std::string& rider, const std::string& key, const std::string& request_hash,
    const OrderRequest& req, absl::Time now) {
  // The rider's balance is read only for a window with a minimum balance; the points an order
  // costs are checked by the ledger's hold (AdvancePending), which must check them anyway.
  std::optional<int64_t> balance;
  for (int attempt = 0;; ++attempt) {
    std::optional<PgRedemptionStore::StoredRequest> seen;
    bool open_first = false;
    bool read_balance_first = false;
    PlacedOrder placed;
    absl::Status refusal;
    RETURN_IF_ERROR(InTx("place redemption", [&](pqxx::transaction_base& tx) -> absl::Status {
      seen.reset();
      open_first = false;
      read_balance_first = false;
      placed = {};
      refusal = absl::OkStatus();
      if (!redemptions_.LockForOrder(tx, req.window_id, rider)) {
        return absl::AbortedError(
            "another order of this rider in this window is being placed; retry with the same "
            "idempotency_key");
      }
      PgRedemptionStore::OrderContext c = redemptions_.ReadOrderContext(tx, req, rider, key);
      if (c.seen.has_value()) {  // a key seen before answers as the first time did
        seen = std::move(c.seen);
        return absl::OkStatus();
      }
      if (c.rider_closed) {
        refusal = Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_ACCOUNT_CLOSED,
                         "the rider's account is closed");
        return absl::OkStatus();
      }
      // No order is written that the ledger's hold could not follow at once (identity or the
      // ledger away): UNAVAILABLE with nothing recorded. (Checked here, after the replay, so an
      // answered key is answered again whatever the ledger's state; it costs no call.)
      RETURN_IF_ERROR(ledger_->Reachable());
      if (!c.window.has_value()) {
        return absl::NotFoundError(
            absl::StrCat("exchange window ", req.window_id, " does not exist"));
      }
      if (attempt == 0 && DueToOpen(c.window->window, now)) {
        open_first = true;  // its time came: opened (outside this transaction), then placed
        return absl::OkStatus();
      }
      if (c.window->window.eligibility().min_balance() > 0 && !balance.has_value()) {
        read_balance_first = true;  // from the ledger, outside this transaction
        return absl::OkStatus();
      }
      absl::StatusOr<OrderTerms> terms = DecideOrder(req, FactsOf(c, req, rider, balance, now));
      if (!terms.ok()) {
        if (terms.status().code() != absl::StatusCode::kNotFound &&
            ReasonOf(terms.status()) == v1::ERROR_REASON_UNSPECIFIED) {
          return terms.status();  // not a refusal: nothing is recorded, a retry runs again
        }
        refusal = terms.status();  // a refusal: the key answers with it from now on
        redemptions_.SaveRefusal(tx, rider, key, request_hash, refusal);
        return absl::OkStatus();
      }
      const PgRedemptionStore::NewOrder order{
          .redemption_id = NewId("r_"),
          .rider_id = rider,
          .request = req,
          .gift_name = c.gift->name,
          .terms = *terms,
          .station_path = *c.station_path,
          .pickup_ttl_s = c.window->pickup_ttl_s > 0
                              ? c.window->pickup_ttl_s
                              : absl::ToInt64Seconds(options_.default_pickup_ttl)};
      placed.redemption_id = order.redemption_id;
      placed.fresh =
          PgRedemptionStore::Order{.order = redemptions_.InsertOrder(tx, order, key, request_hash),
                                   .pickup_ttl_s = order.pickup_ttl_s};
      return absl::OkStatus();
    }));
    if (open_first) {
      RETURN_IF_ERROR(DoOpenWindow(req.window_id, now));
      continue;
    }
    if (read_balance_first) {
      ASSIGN_OR_RETURN(balance, ledger_->AvailableBalance(rider));
      continue;
    }
    if (seen.has_value()) {
      if (seen->request_hash != request_hash) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::ERROR_REASON_IDEMPOTENCY_KEY_REUSED,
                      "idempotency_key: was already used with a different request");
      }
      if (seen->redemption_id.empty()) return seen->refusal;
      return PlacedOrder{.redemption_id = seen->redemption_id};
    }
    if (!refusal.ok()) return refusal;
    return placed;
  }
}

absl::Status RewardsServiceImpl::LoadRedemption(const std::string& redemption_id,
                                                v1::Redemption* out) {
  return InReadTx("load redemption", [&](pqxx::transaction_base& tx) -> absl::Status {
    std::optional<PgRedemptionStore::Order> o = redemptions_.ReadOrder(tx, redemption_id, false);
    if (!o.has_value()) {
      return absl::NotFoundError(absl::StrCat("redemption ", redemption_id, " does not exist"));
    }
    *out = o->order;
    return absl::OkStatus();
  });
}

absl::Status RewardsServiceImpl::AdvancePending(const std::string& id, v1::Redemption* out,
                                                const PgRedemptionStore::Order* fresh) {
  std::optional<PgRedemptionStore::Order> o;
  if (fresh != nullptr) {
    o = *fresh;
  } else {
    RETURN_IF_ERROR(InReadTx("load redemption", [&](pqxx::transaction_base& tx) {
      o = redemptions_.ReadOrder(tx, id, false);
      return absl::OkStatus();
    }));
  }
  if (!o.has_value()) return absl::NotFoundError(absl::StrCat("redemption ", id, " not found"));
  if (NextSagaStep(o->order.state(), o->intent) != SagaStep::kHold) return Settle(id, out);
  const v1::Redemption& order = o->order;
  absl::StatusOr<ledger::v1::Hold> hold =
      ledger_->Hold(id, order.rider_id(), order.points_cost(),
                    absl::Seconds(o->pickup_ttl_s) + options_.hold_margin, order.station_org(),
                    absl::StrCat("兑换 ", order.gift_name(), " ×", order.quantity()));
  if (!hold.ok()) {
    const HoldRefusal refused = OnHoldRefused(hold.status().code(), order.points_cost());
    if (refused.action == HoldRefusal::Action::kRetryLater) return hold.status();
    if (refused.action == HoldRefusal::Action::kFail && fresh != nullptr) {
      // Too few points for an order this call placed: taken back, and its key answers with the
      // refusal, as when the checks before the order refuse it.
      std::optional<absl::Status> refusal;
      RETURN_IF_ERROR(DropUnaffordableOrder(order, &refusal));
      if (refusal.has_value()) return *refusal;
    }
    if (refused.action == HoldRefusal::Action::kFailIfNoneHeld) {
      log::Error("the ledger refused a redemption's hold; the order fails",
                 {{"redemption_id", id}, {"error", hold.status().ToString()}});
      absl::StatusOr<ledger::v1::Hold> existing = ledger_->GetHold(id);
      if (existing.ok() || existing.status().code() != absl::StatusCode::kNotFound) {
        return hold.status();  // something is held, or the ledger cannot say: stays PENDING
      }
    }
    RETURN_IF_ERROR(InTx("fail redemption", [&](pqxx::transaction_base& tx) {
      redemptions_.FailPending(tx, id, refused.reason, refused.message);
      return absl::OkStatus();
    }));
    return Settle(id, out);
  }
  if (options_.after_hold && !options_.after_hold(id)) {
    return absl::UnavailableError("the saga stopped after the hold (test hook)");
  }
  std::optional<absl::Time> hold_expiry;
  if (hold->has_expire_time()) {
    hold_expiry = absl::FromUnixSeconds(hold->expire_time().seconds()) +
                  absl::Nanoseconds(hold->expire_time().nanos());
  }
  // The stock step: reserve the items and issue a pickup code, or give up for lack of stock.
  std::optional<v1::Redemption> ready;
  for (int attempt = 0;; ++attempt) {
    ready.reset();
    bool no_free_code = false;
    absl::Status s = stock_batcher_->Run([&](pqxx::transaction_base& tx) -> absl::Status {
      std::vector<std::string> codes;
      for (int i = 0; i < 8; ++i) codes.push_back(NewPickupCode());
      PgRedemptionStore::StockStep step = redemptions_.ReserveAndMakeReady(
          tx, order, codes, hold_expiry, options_.low_stock_threshold);
      ready = std::move(step.ready);
      no_free_code = step.pending && step.no_free_code;
      return absl::OkStatus();  // not pending: another runner got here first
    });
    // A pickup code taken at the same instant by another order, or none of those drawn free:
    // draw again.
    if ((s.code() == absl::StatusCode::kAlreadyExists || (s.ok() && no_free_code)) && attempt < 5) {
      continue;
    }
    RETURN_IF_ERROR(s);
    if (no_free_code) return absl::UnavailableError("no free pickup code could be drawn; retry");
    break;
  }
  if (ready.has_value()) {
    if (out != nullptr) *out = *ready;
    return absl::OkStatus();
  }
  return Settle(id, out);
}

absl::Status RewardsServiceImpl::DropUnaffordableOrder(const v1::Redemption& order,
                                                       std::optional<absl::Status>* refusal) {
  const std::string& id = order.redemption_id();
  // The figure the contract promises; and if the points arrived meanwhile, the order stays and
  // its key's retry holds them.
  absl::StatusOr<int64_t> balance = ledger_->AvailableBalance(order.rider_id());
  if (balance.ok() && *balance >= order.points_cost()) {
    return absl::AbortedError(
        "the rider's points changed while the order was placed; retry with the same "
        "idempotency_key");
  }
  // Nothing may be held under the order when it goes: a retry of the same key may have held it
  // since (a hold the ledger refused leaves no trace there, so a later one can succeed). The
  // window left between this read and the delete is bounded by the hold's own timeout, after
  // which the ledger releases it by itself.
  if (absl::StatusOr<ledger::v1::Hold> held = ledger_->GetHold(id);
      held.ok() || held.status().code() != absl::StatusCode::kNotFound) {
    return absl::AbortedError(
        "the order's points are being held by another attempt; retry with the same "
        "idempotency_key");
  }
  const absl::Status refused =
      balance.ok()
          ? InsufficientPoints(*balance, order.points_cost())
          : Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_INSUFFICIENT_POINTS,
                   absl::StrCat("not enough points: the order needs ", order.points_cost(),
                                " points"));
  bool dropped = false;
  RETURN_IF_ERROR(InTx("drop unaffordable order", [&](pqxx::transaction_base& tx) {
    dropped = redemptions_.DropRefusedOrder(tx, id, order.rider_id(), refused);
    return absl::OkStatus();
  }));
  if (dropped) *refusal = refused;
  return absl::OkStatus();
}

absl::Status RewardsServiceImpl::Settle(const std::string& id, v1::Redemption* out) {
  std::optional<PgRedemptionStore::Order> o;
  RefusalFigures figures;
  RETURN_IF_ERROR(InReadTx("load redemption", [&](pqxx::transaction_base& tx) {
    o = redemptions_.ReadOrder(tx, id, false);
    figures.clear();
    if (o.has_value() && o->intent == 0 && o->order.state() == v1::REDEMPTION_STATE_FAILED &&
        o->order.failure_reason() == v1::ERROR_REASON_OUT_OF_STOCK) {
      // As the contract promises: how many the station has now, for the app to offer.
      figures.emplace_back("available_quantity",
                           std::to_string(redemptions_.StockAvailable(tx, o->order.station_id(),
                                                                      o->order.gift_id())));
    }
    return absl::OkStatus();
  }));
  if (!o.has_value()) return absl::NotFoundError(absl::StrCat("redemption ", id, " not found"));
  const v1::Redemption& order = o->order;
  const int intent = o->intent;
  switch (NextSagaStep(order.state(), intent)) {
    case SagaStep::kDone:
    case SagaStep::kHold:  // PENDING: answered as it stands (its runner is elsewhere)
      if (out != nullptr) *out = order;
      if (order.state() == v1::REDEMPTION_STATE_FAILED) {
        return FailureStatus(order, o->failure_message, figures);
      }
      return absl::OkStatus();
    case SagaStep::kCapture: {
      absl::StatusOr<ledger::v1::Hold> captured = ledger_->Capture(id);
      if (!captured.ok() && !CaptureMeansExpired(captured.status().code())) {
        return captured.status();
      }
      RETURN_IF_ERROR(InTx("fulfil redemption", [&](pqxx::transaction_base& tx) {
        if (captured.ok()) {
          redemptions_.FinishFulfil(tx, order);
        } else {
          redemptions_.ExpireInsteadOfFulfil(tx, id);  // the ledger's timeout released it
        }
        return absl::OkStatus();
      }));
      return Settle(id, out);
    }
    case SagaStep::kRelease: {
      // CANCELLED, EXPIRED or FAILED: give the points back, then the stock.
      absl::StatusOr<ledger::v1::Hold> released = ledger_->Release(id, ReleaseNote(intent));
      if (!released.ok() && released.status().code() != absl::StatusCode::kNotFound) {
        if (released.status().code() == absl::StatusCode::kFailedPrecondition) {
          log::Error("redemption hold was captured but the order is being released",
                     {{"redemption_id", id}, {"error", std::string(released.status().message())}});
        }
        return released.status();
      }
      RETURN_IF_ERROR(InTx("release redemption", [&](pqxx::transaction_base& tx) {
        redemptions_.FinishRelease(tx, id, intent);
        return absl::OkStatus();
      }));
      return Settle(id, out);
    }
  }
  return absl::InternalError("unknown saga step");
}

MaintenanceCounts RewardsServiceImpl::RunMaintenance(absl::Time now, absl::Duration min_age) {
  MaintenanceCounts counts;
  using IdQuery = std::function<std::vector<std::string>(pqxx::transaction_base&)>;
  auto ids = [&](const char* what, const IdQuery& query) {
    std::vector<std::string> out;
    absl::Status s = InReadTx(what, [&](pqxx::transaction_base& tx) {
      out = query(tx);
      return absl::OkStatus();
    });
    if (!s.ok()) log::Warn("maintenance query failed", {{"what", what}, {"error", s.ToString()}});
    return out;
  };
  auto warn = [](const char* what, const std::string& id, const absl::Status& s) {
    log::Warn("maintenance step failed", {{"what", what}, {"id", id}, {"error", s.ToString()}});
  };
  for (const std::string& w : ids("due windows", [&](pqxx::transaction_base& tx) {
         return FirstColumn(tx.exec_params(
             "SELECT window_id FROM exchange_windows WHERE state = "
             "exchange_window_state('SCHEDULED') AND start_at <= from_us($1::bigint) AND end_at > "
             "from_us($1::bigint) ORDER BY start_at LIMIT 100",
             Us(now)));
       })) {
    absl::Status s = DoOpenWindow(w, now);
    if (s.ok()) {
      ++counts.windows_opened;
    } else {
      warn("open window", w, s);
    }
  }
  for (const std::string& w : ids("ended windows", [&](pqxx::transaction_base& tx) {
         return FirstColumn(tx.exec_params(
             "SELECT window_id FROM exchange_windows WHERE state IN "
             "(exchange_window_state('SCHEDULED'), exchange_window_state('OPEN')) AND end_at <= "
             "from_us($1::bigint) ORDER BY end_at LIMIT 100",
             Us(now)));
       })) {
    absl::Status s = InTx("close window",
                          [&](pqxx::transaction_base& tx) { return CloseWindowNow(tx, w, now); });
    if (s.ok()) {
      ++counts.windows_closed;
    } else {
      warn("close window", w, s);
    }
  }
  for (const std::string& id : ids("expired orders", [&](pqxx::transaction_base& tx) {
         return redemptions_.ExpiredOrders(tx, now, 500);
       })) {
    absl::Status s = InTx("expire order", [&](pqxx::transaction_base& tx) {
      redemptions_.StartSettle(tx, id, v1::REDEMPTION_STATE_EXPIRED);
      return absl::OkStatus();
    });
    if (s.ok()) s = Settle(id, nullptr);
    if (s.ok()) {
      ++counts.orders_expired;
    } else {
      warn("expire order", id, s);
    }
  }
  for (const std::string& id : ids("unsettled orders", [&](pqxx::transaction_base& tx) {
         return redemptions_.UnsettledOrders(tx, now - min_age, now, 500);
       })) {
    absl::Status s = AdvancePending(id, nullptr);
    // A FAILED order answers with its refusal; for recovery that is a finished order.
    if (s.ok() || ReasonOf(s) != v1::ERROR_REASON_UNSPECIFIED) {
      ++counts.orders_recovered;
    } else {
      warn("recover order", id, s);
      // Its next turn waits, so an order stuck for good does not take every pass's first places.
      absl::Status postponed = InTx("postpone recovery", [&](pqxx::transaction_base& tx) {
        redemptions_.PostponeRecovery(tx, id, now);
        return absl::OkStatus();
      });
      if (!postponed.ok()) warn("postpone recovery", id, postponed);
    }
  }
  return counts;
}

}  // namespace civicpoints::rewards
