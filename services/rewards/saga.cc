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

namespace civicpoints::rewards {

absl::Status CloseWindowNow(pqxx::transaction_base& tx, const std::string& window_id,
                            absl::Time now);

absl::StatusOr<RewardsServiceImpl::PlacedOrder> RewardsServiceImpl::PlaceOrder(
    const std::string& rider, const std::string& key, const std::string& request_hash,
    const OrderRequest& req, absl::Time now) {
  // A key seen before answers as the first time did (resuming an order cut short).
  auto replay = [&](const PgRedemptionStore::StoredRequest& seen) -> absl::StatusOr<PlacedOrder> {
    if (seen.request_hash != request_hash) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_IDEMPOTENCY_KEY_REUSED,
                    "idempotency_key: was already used with a different request");
    }
    if (seen.redemption_id.empty()) return seen.refusal;
    return PlacedOrder{.redemption_id = seen.redemption_id};
  };
  // One read for a repeated key and the window's times (to open it if its time came).
  std::optional<PgRedemptionStore::StoredRequest> seen;
  std::optional<PgRedemptionStore::WindowTimes> times;
  RETURN_IF_ERROR(InReadTx("replay", [&](pqxx::transaction_base& tx) {
    seen = redemptions_.FindRequest(tx, rider, key);
    times = redemptions_.ReadWindowTimes(tx, req.window_id);
    return absl::OkStatus();
  }));
  if (seen.has_value()) return replay(*seen);
  if (!times.has_value()) {
    return absl::NotFoundError(absl::StrCat("exchange window ", req.window_id, " does not exist"));
  }
  if (times->state == v1::EXCHANGE_WINDOW_STATE_SCHEDULED && times->start <= now &&
      times->end > now) {
    RETURN_IF_ERROR(DoOpenWindow(req.window_id, now));
  }
  ASSIGN_OR_RETURN(const int64_t balance, ledger_->AvailableBalance(rider));

  PlacedOrder placed;
  absl::Status refusal;
  RETURN_IF_ERROR(InTx("place redemption", [&](pqxx::transaction_base& tx) -> absl::Status {
    if (!redemptions_.TryLockRiderWindow(tx, req.window_id, rider)) {
      return absl::AbortedError(
          "another order of this rider in this window is being placed; retry with the same "
          "idempotency_key");
    }
    // An account being closed takes no new order (CloseRiderOrders holds this lock alone).
    redemptions_.LockRiderForOrder(tx, rider);
    if (redemptions_.RiderClosed(tx, rider)) {
      refusal = Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_ACCOUNT_CLOSED,
                       "the rider's account is closed");
      return absl::OkStatus();
    }
    // The same key may have been placed since the read above: answered as that one.
    seen = redemptions_.FindRequest(tx, rider, key);
    if (seen.has_value()) return absl::OkStatus();
    absl::StatusOr<PgRedemptionStore::OrderContext> context =
        redemptions_.ReadOrderContext(tx, req, rider, balance, now);
    absl::StatusOr<OrderTerms> terms =
        context.ok() ? DecideOrder(req, context->facts) : context.status();
    if (terms.ok()) {
      const PgRedemptionStore::NewOrder order{
          .redemption_id = NewId("r_"),
          .rider_id = rider,
          .request = req,
          .gift_name = context->facts.gift->name,
          .terms = *terms,
          .station_path = context->station_path,
          .pickup_ttl_s = context->window_pickup_ttl_s > 0
                              ? context->window_pickup_ttl_s
                              : absl::ToInt64Seconds(options_.default_pickup_ttl)};
      placed.redemption_id = order.redemption_id;
      placed.fresh = PgRedemptionStore::Order{.order = redemptions_.InsertOrder(tx, order),
                                              .pickup_ttl_s = order.pickup_ttl_s};
    } else if (terms.status().code() == absl::StatusCode::kNotFound ||
               ReasonOf(terms.status()) != v1::ERROR_REASON_UNSPECIFIED) {
      refusal = terms.status();  // a refusal: the key answers with it from now on
    } else {
      return terms.status();  // not a refusal: nothing is recorded, a retry runs again
    }
    redemptions_.SaveRequest(tx, rider, key, request_hash, placed.redemption_id, refusal);
    return absl::OkStatus();
  }));
  if (seen.has_value()) return replay(*seen);
  if (!refusal.ok()) return refusal;
  return placed;
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
    absl::Status s = stock_batcher_->Run([&](pqxx::transaction_base& tx) -> absl::Status {
      std::optional<PgRedemptionStore::Order> locked = redemptions_.ReadOrder(tx, id, true);
      if (!locked.has_value() ||
          NextSagaStep(locked->order.state(), locked->intent) != SagaStep::kHold) {
        return absl::OkStatus();  // another runner got here first
      }
      if (!redemptions_.ReserveStock(tx, order, options_.low_stock_threshold)) {
        redemptions_.MarkOutOfStock(tx, order);
        return absl::OkStatus();
      }
      std::string code = NewPickupCode();
      for (int i = 0; i < 20 && redemptions_.PickupCodeInUse(tx, code); ++i) {
        code = NewPickupCode();
      }
      ready = redemptions_.MakeReady(tx, id, code, hold_expiry);
      return absl::OkStatus();
    });
    // A pickup code taken at the same instant by another order: draw again.
    if (s.code() == absl::StatusCode::kAlreadyExists && attempt < 5) continue;
    RETURN_IF_ERROR(s);
    break;
  }
  if (ready.has_value()) {
    if (out != nullptr) *out = *ready;
    return absl::OkStatus();
  }
  return Settle(id, out);
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
