// Redemptions: CreateRedemption (accept the order, then run the saga to READY), GetRedemption,
// ListMyRedemptions, CancelRedemption, CloseRiderOrders, FulfilRedemption, ListStationPickups.
#include <pqxx/pqxx>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/principal.h"
#include "common/base/request_hash.h"
#include "common/base/text.h"
#include "common/pg/throttle.h"
#include "services/rewards/access.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_service.h"
#include "services/rewards/standing.h"

namespace civicpoints::rewards {

using common::v1::ROLE_RIDER;

namespace {

// Wrong pickup codes a keeper may enter (sliding window, common/pg/throttle.h).
constexpr int kWrongCodesPerKeeper = 10;
constexpr absl::Duration kWrongCodeWindow = absl::Minutes(10);

}  // namespace

grpc::Status RewardsServiceImpl::CreateRedemption(grpc::ServerContext* ctx,
                                                  const v1::CreateRedemptionRequest* req,
                                                  v1::CreateRedemptionResponse* resp) {
  return Handle(ctx, "CreateRedemption", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->window_id(), "window_id"));
    RETURN_IF_ERROR(CheckId(req->station_id(), "station_id"));
    RETURN_IF_ERROR(CheckId(req->gift_id(), "gift_id"));
    const OrderRequest order{.window_id = req->window_id(),
                             .station_id = req->station_id(),
                             .gift_id = req->gift_id(),
                             .quantity = req->quantity() == 0 ? 1 : req->quantity()};
    if (order.quantity < 1 || order.quantity > 10) {
      return absl::InvalidArgumentError(
          absl::StrCat("quantity: must be 1–10, got ", req->quantity()));
    }
    RETURN_IF_ERROR(text::CheckIdempotencyKey(req->idempotency_key()));
    ASSIGN_OR_RETURN(PlacedOrder placed, PlaceOrder(caller.who().subject, req->idempotency_key(),
                                                    RequestHash(*req), order, caller.now));
    return AdvancePending(placed.redemption_id, resp->mutable_redemption(),
                          placed.fresh ? &*placed.fresh : nullptr);
  });
}

grpc::Status RewardsServiceImpl::GetRedemption(grpc::ServerContext* ctx,
                                               const v1::GetRedemptionRequest* req,
                                               v1::GetRedemptionResponse* resp) {
  return Handle(ctx, "GetRedemption", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->redemption_id(), "redemption_id"));
    RETURN_IF_ERROR(LoadRedemption(req->redemption_id(), resp->mutable_redemption()));
    v1::Redemption& r = *resp->mutable_redemption();
    if (r.rider_id() == caller.who().subject) return absl::OkStatus();
    r.clear_pickup_code();
    if (IsRiderOnly(caller.who())) {
      resp->Clear();
      return Refuse(absl::StatusCode::kPermissionDenied, v1::ERROR_REASON_NOT_ORDER_OWNER,
                    absl::StrCat("redemption ", req->redemption_id(), " belongs to another rider"));
    }
    ASSIGN_OR_RETURN(StationInfo station, Station(r.station_id()));
    absl::Status scope = CheckStationScope(caller.who(), station);
    if (!scope.ok()) resp->Clear();
    return scope;
  });
}

grpc::Status RewardsServiceImpl::ListMyRedemptions(grpc::ServerContext* ctx,
                                                   const v1::ListMyRedemptionsRequest* req,
                                                   v1::ListMyRedemptionsResponse* resp) {
  return Handle(ctx, "ListMyRedemptions", [&](const Caller& caller) -> absl::Status {
    std::vector<std::string> states;
    for (int s : req->states()) {
      if (s == v1::REDEMPTION_STATE_UNSPECIFIED || !v1::RedemptionState_IsValid(s)) {
        return absl::InvalidArgumentError("states: holds an unspecified or unknown state");
      }
      states.push_back(std::to_string(s));
    }
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 2));
    return InReadTx("ListMyRedemptions", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kRedemptionColumns,
                       " FROM redemptions r WHERE r.rider_id = $1 AND (cardinality($2::smallint[]) "
                       "= 0 OR r.state = ANY ($2::smallint[])) AND ($3 = '' OR r.window_id = $3) "
                       "AND (us(r.created_at), r.redemption_id) < ($4::bigint, $5) "
                       "ORDER BY r.created_at DESC, r.redemption_id DESC LIMIT $6::int"),
          caller.who().subject, absl::StrCat("{", absl::StrJoin(states, ","), "}"),
          req->window_id(), paging.after.empty() ? "9223372036854775807" : paging.after[0],
          paging.after.empty() ? "" : paging.after[1], paging.size + 1);
      resp->set_next_page_token(FillPage(
          rows, paging,
          [&](const pqxx::row& row) { FillRedemption(row, true, resp->add_redemptions()); },
          [](const pqxx::row& row) {
            return std::vector<std::string>{row[14].as<std::string>(), row[0].as<std::string>()};
          }));
      return absl::OkStatus();
    });
  });
}

grpc::Status RewardsServiceImpl::CancelRedemption(grpc::ServerContext* ctx,
                                                  const v1::CancelRedemptionRequest* req,
                                                  v1::CancelRedemptionResponse* resp) {
  return Handle(ctx, "CancelRedemption", [&](const Caller& caller) -> absl::Status {
    const std::string& id = req->redemption_id();
    RETURN_IF_ERROR(CheckId(id, "redemption_id"));
    RETURN_IF_ERROR(
        text::CheckText(req->reason(), "reason", {.max = 200, .lines = text::Lines::kMany}));
    RETURN_IF_ERROR(InTx("cancel redemption", [&](pqxx::transaction_base& tx) -> absl::Status {
      std::optional<PgRedemptionStore::Ownership> o = redemptions_.LockForCancel(tx, id);
      if (!o.has_value()) {
        return absl::NotFoundError(absl::StrCat("redemption ", id, " does not exist"));
      }
      if (o->rider_id != caller.who().subject) {
        return Refuse(absl::StatusCode::kPermissionDenied, v1::ERROR_REASON_NOT_ORDER_OWNER,
                      absl::StrCat("redemption ", id, " belongs to another rider"));
      }
      bool mark = false;
      RETURN_IF_ERROR(DecideCancel(id, o->state, o->intent, &mark));
      if (mark) redemptions_.MarkCancel(tx, id, req->reason());
      return absl::OkStatus();
    }));
    return Settle(id, resp->mutable_redemption());
  });
}

grpc::Status RewardsServiceImpl::CloseRiderOrders(grpc::ServerContext* ctx,
                                                  const v1::CloseRiderOrdersRequest* req,
                                                  v1::CloseRiderOrdersResponse* resp) {
  return Handle(ctx, "CloseRiderOrders", [&](const Caller&) -> absl::Status {
    const std::string& rider = req->rider_id();
    RETURN_IF_ERROR(CheckId(rider, "rider_id"));
    // Closed first, under the rider's lock: no order placed from now on, and every order placed
    // before is listed below.
    std::vector<std::string> pending;
    RETURN_IF_ERROR(InTx("close rider", [&](pqxx::transaction_base& tx) {
      redemptions_.LockRiderForClosing(tx, rider);
      redemptions_.MarkRiderClosed(tx, rider);
      pending = redemptions_.OrdersOfRider(tx, rider, v1::REDEMPTION_STATE_PENDING);
      return absl::OkStatus();
    }));
    // An order still being placed goes to READY or FAILED first.
    for (const std::string& id : pending) {
      v1::Redemption settled;
      absl::Status s = AdvancePending(id, &settled);
      if (!s.ok() && s.code() == absl::StatusCode::kUnavailable) return s;
    }
    std::vector<std::string> marked;
    RETURN_IF_ERROR(InTx("cancel rider's orders", [&](pqxx::transaction_base& tx) {
      marked.clear();
      for (const std::string& id :
           redemptions_.OrdersOfRider(tx, rider, v1::REDEMPTION_STATE_READY)) {
        std::optional<PgRedemptionStore::Ownership> o = redemptions_.LockForCancel(tx, id);
        if (!o.has_value()) continue;
        bool mark = false;
        if (!DecideCancel(id, o->state, o->intent, &mark).ok() || !mark) continue;
        redemptions_.MarkCancel(tx, id, "the rider closed their account");
        marked.push_back(id);
      }
      return absl::OkStatus();
    }));
    // The holds are released by the saga's settling step (here, or by the background pass after a
    // crash): the cancel intent is already written.
    for (const std::string& id : marked) {
      RETURN_IF_ERROR(Settle(id, resp->add_cancelled()));
    }
    return absl::OkStatus();
  });
}

grpc::Status RewardsServiceImpl::FulfilRedemption(grpc::ServerContext* ctx,
                                                  const v1::FulfilRedemptionRequest* req,
                                                  v1::FulfilRedemptionResponse* resp) {
  return Handle(ctx, "FulfilRedemption", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->station_id(), "station_id"));
    ASSIGN_OR_RETURN(const std::string code, NormalizePickupCode(req->pickup_code()));
    RETURN_IF_ERROR(text::CheckIdempotencyKey(req->idempotency_key()));
    ASSIGN_OR_RETURN(StationInfo station, Station(req->station_id()));
    RETURN_IF_ERROR(CheckStationScope(caller.who(), station));
    // The fingerprint is of the code as read, so "482 913" retried as "482913" is the same request
    // (the contract ignores spaces).
    v1::FulfilRedemptionRequest normalized = *req;
    normalized.set_pickup_code(code);
    ASSIGN_OR_RETURN(const std::string order_id,
                     EnterPickupCode(caller.who().subject, req->station_id(), code,
                                     req->idempotency_key(), RequestHash(normalized), caller.now));
    v1::Redemption order;
    RETURN_IF_ERROR(Settle(order_id, &order));
    RETURN_IF_ERROR(PickupOutcome(order));
    order.clear_pickup_code();
    *resp->mutable_redemption() = order;
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> RewardsServiceImpl::EnterPickupCode(
    const std::string& keeper, const std::string& station_id, const std::string& code,
    const std::string& key, const std::string& request_hash, absl::Time now) {
  const std::string scope = absl::StrCat("FulfilRedemption|", keeper);
  const pg::Throttle::Limit code_limit{.bucket = absl::StrCat("pickup-code:", keeper),
                                       .limit = kWrongCodesPerKeeper,
                                       .window = kWrongCodeWindow};
  std::string order_id;
  absl::Status refusal;
  RETURN_IF_ERROR(InTx("fulfil redemption", [&](pqxx::transaction_base& tx) -> absl::Status {
    // A repeated key: the order it named, settled and answered as the first time.
    if (std::optional<PgRedemptionStore::PickupKey> seen =
            redemptions_.FindPickupKey(tx, scope, key)) {
      if (seen->request_hash != request_hash) {
        refusal =
            Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_IDEMPOTENCY_KEY_REUSED,
                   "idempotency_key: was already used with a different request");
      }
      order_id = seen->redemption_id;
      return absl::OkStatus();
    }
    // Over the limit no code is even looked up, so a keeper's device cannot be used to try
    // codes faster than the limit allows.
    if (const absl::Duration wait = pg::Throttle::WaitIn(tx, code_limit, now);
        wait > absl::ZeroDuration()) {
      refusal = throttle_.Refused(wait);
      return absl::OkStatus();
    }
    std::optional<WaitingPickup> waiting = redemptions_.FindWaitingPickup(tx, code);
    std::optional<EndedPickup> ended;
    if (!waiting.has_value()) ended = redemptions_.FindEndedPickup(tx, code);
    const PickupDecision decision = DecidePickup(station_id, waiting, ended);
    refusal = decision.refusal;
    if (!refusal.ok()) return absl::OkStatus();
    order_id = waiting->redemption_id;
    if (decision.mark != v1::REDEMPTION_STATE_UNSPECIFIED) {
      redemptions_.MarkPickup(tx, order_id, decision.mark, keeper);
    }
    if (decision.save_key) redemptions_.SavePickupKey(tx, scope, key, request_hash, order_id);
    return absl::OkStatus();
  }));
  if (ReasonOf(refusal) == v1::ERROR_REASON_PICKUP_CODE_UNKNOWN) {
    // Count the wrong code; over the limit the answer says to wait.
    RETURN_IF_ERROR(throttle_.Take({code_limit}, now).status());
  }
  RETURN_IF_ERROR(refusal);
  return order_id;
}

grpc::Status RewardsServiceImpl::ListStationPickups(grpc::ServerContext* ctx,
                                                    const v1::ListStationPickupsRequest* req,
                                                    v1::ListStationPickupsResponse* resp) {
  return Handle(ctx, "ListStationPickups", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->station_id(), "station_id"));
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 2));
    ASSIGN_OR_RETURN(StationInfo station, Station(req->station_id()));
    RETURN_IF_ERROR(CheckStationScope(caller.who(), station));
    return InReadTx("ListStationPickups", [&](pqxx::transaction_base& tx) -> absl::Status {
      resp->set_total_waiting(tx.exec_params1("SELECT count(*) FROM redemptions WHERE station_id = "
                                              "$1 AND state = redemption_state('READY') "
                                              "AND ($2 = '' OR window_id = $2)",
                                              req->station_id(), req->window_id())[0]
                                  .as<int32_t>());
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kRedemptionColumns,
                       " FROM redemptions r WHERE r.station_id = $1 AND r.state = "
                       "redemption_state('READY') AND ($2 = '' "
                       "OR r.window_id = $2) AND (us(r.expire_at), r.redemption_id) > "
                       "($3::bigint, $4) ORDER BY r.expire_at, r.redemption_id LIMIT $5::int"),
          req->station_id(), req->window_id(),
          paging.after.empty() ? "-9223372036854775807" : paging.after[0],
          paging.after.empty() ? "" : paging.after[1], paging.size + 1);
      resp->set_next_page_token(FillPage(
          rows, paging,
          [&](const pqxx::row& row) { FillRedemption(row, false, resp->add_redemptions()); },
          [](const pqxx::row& row) {
            return std::vector<std::string>{row[16].as<std::string>(), row[0].as<std::string>()};
          }));
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::rewards
