// Redemptions: CreateRedemption (accept the order, then run the saga to READY), GetRedemption,
// ListMyRedemptions, CancelRedemption, FulfilRedemption, ListStationPickups.
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

// The first reason of a standing as the refusal CreateRedemption answers with.
absl::Status RefusalFor(const Standing& st, const v1::ExchangeWindow& w) {
  const v1::Eligibility& e = st.eligibility;
  for (int r : e.reasons()) {
    switch (r) {
      case v1::ERROR_REASON_WINDOW_NOT_OPEN:
        return Refuse(
            absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_WINDOW_NOT_OPEN,
            absl::StrCat("window_id: exchange window ", w.window_id(), " has not opened yet"),
            {{"start_time", absl::FormatTime(TimeOf(w.start_time()))}});
      case v1::ERROR_REASON_WINDOW_CLOSED:
        return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_WINDOW_CLOSED,
                      absl::StrCat("window_id: exchange window ", w.window_id(), " has closed"),
                      {{"end_time", absl::FormatTime(TimeOf(w.end_time()))}});
      case v1::ERROR_REASON_NOT_IN_RANKING_CUT:
        return Refuse(
            absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_NOT_IN_RANKING_CUT,
            e.rank() > 0
                ? absl::StrCat("the rider ranks ", e.rank(), " with ", e.ranking_points(),
                               " points, outside the cut of ", e.cutoff_points(), " points")
                : "the rider was not inside the window's ranking cut",
            {{"rank", std::to_string(e.rank())},
             {"ranking_points", std::to_string(e.ranking_points())},
             {"cutoff_points", std::to_string(e.cutoff_points())}});
      case v1::ERROR_REASON_BALANCE_BELOW_MINIMUM:
        return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_BALANCE_BELOW_MINIMUM,
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

std::string NormalizeCode(const std::string& raw) {
  std::string code;
  for (char c : raw) {
    if (c != ' ' && c != '-') code += c;
  }
  return code;
}

}  // namespace

grpc::Status RewardsServiceImpl::CreateRedemption(grpc::ServerContext* ctx,
                                                  const v1::CreateRedemptionRequest* req,
                                                  v1::CreateRedemptionResponse* resp) {
  return Handle(ctx, "CreateRedemption", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->window_id(), "window_id"));
    RETURN_IF_ERROR(CheckId(req->station_id(), "station_id"));
    RETURN_IF_ERROR(CheckId(req->gift_id(), "gift_id"));
    const int32_t quantity = req->quantity() == 0 ? 1 : req->quantity();
    if (quantity < 1 || quantity > 10) {
      return absl::InvalidArgumentError(
          absl::StrCat("quantity: must be 1–10, got ", req->quantity()));
    }
    RETURN_IF_ERROR(text::CheckIdempotencyKey(req->idempotency_key()));
    const std::string rider = caller.who().subject;
    const std::string hash = RequestHash(*req);

    // A key seen before answers as the first time did (resuming an order cut short).
    auto replay = [&](pqxx::transaction_base& tx) -> std::optional<absl::Status> {
      pqxx::result r = tx.exec_params(
          "SELECT request_hash, coalesce(redemption_id, ''), refusal_code, refusal_reason, "
          "refusal_message FROM redemption_requests WHERE rider_id = $1 AND key = $2",
          rider, req->idempotency_key());
      if (r.empty()) return std::nullopt;
      if (pqxx::binarystring(r[0][0]).str() != hash) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::ERROR_REASON_IDEMPOTENCY_KEY_REUSED,
                      "idempotency_key: was already used with a different request");
      }
      const std::string order = r[0][1].as<std::string>();
      if (!order.empty()) return absl::AlreadyExistsError(order);  // marker: resume `order`
      absl::Status refusal(static_cast<absl::StatusCode>(r[0][2].as<int>()),
                           r[0][4].as<std::string>());
      const auto reason = static_cast<v1::ErrorReason>(r[0][3].as<int>());
      return reason == v1::ERROR_REASON_UNSPECIFIED
                 ? refusal
                 : Refuse(refusal.code(), reason, refusal.message());
    };
    auto resume = [&](const absl::Status& replayed) -> absl::Status {
      if (replayed.code() != absl::StatusCode::kAlreadyExists) return replayed;
      const std::string order(replayed.message());
      return AdvancePending(order, resp->mutable_redemption());
    };
    // One read for a repeated key and the window's times (to open it if its time came).
    std::optional<absl::Status> seen;
    std::optional<std::tuple<int, int64_t, int64_t>> times;
    RETURN_IF_ERROR(InReadTx("replay", [&](pqxx::transaction_base& tx) {
      seen = replay(tx);
      pqxx::result w = tx.exec_params(
          "SELECT state, us(start_at), us(end_at) FROM exchange_windows WHERE window_id = $1",
          req->window_id());
      if (!w.empty()) {
        times.emplace(w[0][0].as<int>(), w[0][1].as<int64_t>(), w[0][2].as<int64_t>());
      }
      return absl::OkStatus();
    }));
    if (seen.has_value()) return resume(*seen);
    if (!times.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("exchange window ", req->window_id(), " does not exist"));
    }
    const auto [state, start_us, end_us] = *times;
    if (state == v1::EXCHANGE_WINDOW_STATE_SCHEDULED && start_us <= Us(caller.now) &&
        end_us > Us(caller.now)) {
      RETURN_IF_ERROR(DoOpenWindow(req->window_id(), caller.now));
    }
    absl::StatusOr<int64_t> balance = ledger_->AvailableBalance(rider);
    if (!balance.ok()) return balance.status();

    std::string order_id;
    absl::Status refusal;
    v1::Redemption fresh;
    int64_t fresh_ttl_s = 0;
    RETURN_IF_ERROR(InTx("place redemption", [&](pqxx::transaction_base& tx) -> absl::Status {
      // One order at a time per rider and window, so limits count every earlier order.
      if (!tx.exec_params1("SELECT pg_try_advisory_xact_lock(hashtext($1))",
                           absl::StrCat("redeem|", req->window_id(), "|", rider))[0]
               .as<bool>()) {
        return absl::AbortedError(
            "another order of this rider in this window is being placed; retry with the same "
            "idempotency_key");
      }
      if (std::optional<absl::Status> again = replay(tx)) {
        refusal = *again;
        return absl::OkStatus();
      }
      auto check = [&]() -> absl::Status {
        ASSIGN_OR_RETURN(WindowRecord w, LoadWindow(tx, req->window_id(), false));
        pqxx::result gift = tx.exec_params(
            "SELECT name, points_cost, active FROM gifts WHERE gift_id = $1", req->gift_id());
        if (gift.empty()) {
          return absl::NotFoundError(absl::StrCat("gift ", req->gift_id(), " does not exist"));
        }
        Standing st = EvaluateStanding(tx, w, rider, *balance, caller.now, {});
        // Window state first; then where and what; then who.
        if (!st.eligibility.reasons().empty() &&
            (st.eligibility.reasons(0) == v1::ERROR_REASON_WINDOW_NOT_OPEN ||
             st.eligibility.reasons(0) == v1::ERROR_REASON_WINDOW_CLOSED)) {
          return RefusalFor(st, w.window);
        }
        const auto& stations = w.window.station_ids();
        if (std::find(stations.begin(), stations.end(), req->station_id()) == stations.end()) {
          return Refuse(absl::StatusCode::kFailedPrecondition,
                        v1::ERROR_REASON_STATION_NOT_IN_WINDOW,
                        absl::StrCat("station_id: ", req->station_id(),
                                     " is not a station of this exchange window"));
        }
        const v1::WindowGift* wg = nullptr;
        for (const v1::WindowGift& g : w.window.gifts()) {
          if (g.gift_id() == req->gift_id()) wg = &g;
        }
        if (wg == nullptr) {
          return Refuse(
              absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_GIFT_NOT_IN_WINDOW,
              absl::StrCat("gift_id: ", req->gift_id(), " is not offered in this exchange window"));
        }
        if (!gift[0][2].as<bool>()) {
          return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_GIFT_INACTIVE,
                        absl::StrCat("gift_id: ", req->gift_id(), " has been deactivated"));
        }
        RETURN_IF_ERROR(RefusalFor(st, w.window));
        const int32_t used = st.redeemed_by_gift[req->gift_id()];
        if (wg->max_per_rider() > 0 && used + quantity > wg->max_per_rider()) {
          return Refuse(
              absl::StatusCode::kResourceExhausted, v1::ERROR_REASON_GIFT_LIMIT_REACHED,
              absl::StrCat("quantity: the rider has ", used,
                           " of this gift in the "
                           "window and may take at most ",
                           wg->max_per_rider()),
              {{"limit", std::to_string(wg->max_per_rider())}, {"redeemed", std::to_string(used)}});
        }
        if (w.window.max_items_per_rider() > 0 &&
            st.redeemed_total + quantity > w.window.max_items_per_rider()) {
          return Refuse(absl::StatusCode::kResourceExhausted, v1::ERROR_REASON_WINDOW_LIMIT_REACHED,
                        absl::StrCat("quantity: the rider has ", st.redeemed_total,
                                     " items in the window and may take at most ",
                                     w.window.max_items_per_rider()),
                        {{"limit", std::to_string(w.window.max_items_per_rider())},
                         {"redeemed", std::to_string(st.redeemed_total)}});
        }
        pqxx::result stock = tx.exec_params(
            "SELECT available FROM station_stock WHERE station_id = $1 AND gift_id = $2",
            req->station_id(), req->gift_id());
        const int64_t available = stock.empty() ? 0 : stock[0][0].as<int64_t>();
        if (available < quantity) {
          return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_OUT_OF_STOCK,
                        absl::StrCat("the station has ", available, " items of this gift left, ",
                                     quantity, " ordered"),
                        {{"available_quantity", std::to_string(available)}});
        }
        const int64_t unit = gift[0][1].as<int64_t>();
        if (*balance < unit * quantity) {
          return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_INSUFFICIENT_POINTS,
                        absl::StrCat("available balance ", *balance, " is below the order's ",
                                     unit * quantity, " points"),
                        {{"available_balance", std::to_string(*balance)},
                         {"required_points", std::to_string(unit * quantity)}});
        }
        pqxx::result st_row = tx.exec_params(
            "SELECT district_id, street_id, community_id FROM stations WHERE station_id = $1",
            req->station_id());
        if (st_row.empty()) {
          return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_NOT_A_STATION,
                        absl::StrCat("station_id: ", req->station_id(), " is not known"));
        }
        order_id = NewId("r_");
        const int64_t ttl_s =
            w.pickup_ttl_s > 0 ? w.pickup_ttl_s : absl::ToInt64Seconds(options_.default_pickup_ttl);
        pqxx::result inserted = tx.exec_params(
            absl::StrCat(
                "INSERT INTO redemptions AS r (redemption_id, rider_id, window_id, station_id, "
                "gift_id, gift_name, quantity, unit_points, points, state, district_id, "
                "street_id, community_id, pickup_ttl_s) VALUES ($1, $2, $3, $4, $5, $6, $7::int, "
                "$8::bigint, $9::bigint, 1, $10, $11, $12, $13::bigint) RETURNING ",
                kRedemptionColumns),
            order_id, rider, req->window_id(), req->station_id(), req->gift_id(),
            gift[0][0].as<std::string>(), quantity, unit, unit * quantity,
            st_row[0][0].as<std::string>(), st_row[0][1].as<std::string>(),
            st_row[0][2].as<std::string>(), ttl_s);
        FillRedemption(inserted[0], true, &fresh);
        fresh_ttl_s = ttl_s;
        return absl::OkStatus();
      };
      absl::Status checked = check();
      if (!checked.ok() && checked.code() != absl::StatusCode::kNotFound &&
          ReasonOf(checked) == v1::ERROR_REASON_UNSPECIFIED) {
        return checked;  // not a refusal: nothing is recorded, a retry runs again
      }
      tx.exec_params(
          "INSERT INTO redemption_requests (rider_id, key, request_hash, redemption_id, "
          "refusal_code, refusal_reason, refusal_message) VALUES ($1, $2, $3, nullif($4, ''), "
          "$5::int, $6::smallint, $7)",
          rider, req->idempotency_key(), pqxx::binarystring(hash), order_id,
          static_cast<int>(checked.code()), static_cast<int>(ReasonOf(checked)),
          std::string(checked.message()));
      refusal = checked.ok() ? absl::AlreadyExistsError(order_id) : checked;
      return absl::OkStatus();
    }));
    if (!order_id.empty() && refusal.code() == absl::StatusCode::kAlreadyExists &&
        refusal.message() == order_id) {
      return AdvancePending(order_id, resp->mutable_redemption(), &fresh, fresh_ttl_s);
    }
    return resume(refusal);
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
    RETURN_IF_ERROR(CheckId(req->redemption_id(), "redemption_id"));
    RETURN_IF_ERROR(
        text::CheckText(req->reason(), "reason", {.max = 200, .lines = text::Lines::kMany}));
    RETURN_IF_ERROR(InTx("cancel redemption", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result r = tx.exec_params(
          "SELECT rider_id, state, intent FROM redemptions WHERE redemption_id = $1 FOR UPDATE",
          req->redemption_id());
      if (r.empty()) {
        return absl::NotFoundError(
            absl::StrCat("redemption ", req->redemption_id(), " does not exist"));
      }
      if (r[0][0].as<std::string>() != caller.who().subject) {
        return Refuse(
            absl::StatusCode::kPermissionDenied, v1::ERROR_REASON_NOT_ORDER_OWNER,
            absl::StrCat("redemption ", req->redemption_id(), " belongs to another rider"));
      }
      const int state = r[0][1].as<int>(), intent = r[0][2].as<int>();
      if (state == v1::REDEMPTION_STATE_CANCELLED || intent == v1::REDEMPTION_STATE_CANCELLED) {
        return absl::OkStatus();  // a retry: finish or return it
      }
      if (state != v1::REDEMPTION_STATE_READY || intent != 0) {
        const auto shown = static_cast<v1::RedemptionState>(intent != 0 ? intent : state);
        return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_ORDER_NOT_CANCELLABLE,
                      absl::StrCat("redemption ", req->redemption_id(), " is ",
                                   v1::RedemptionState_Name(shown), ", not READY"));
      }
      tx.exec_params(
          "UPDATE redemptions SET intent = 4, cancel_reason = $2, updated_at = now() "
          "WHERE redemption_id = $1",
          req->redemption_id(), req->reason());
      return absl::OkStatus();
    }));
    RETURN_IF_ERROR(Settle(req->redemption_id(), resp->mutable_redemption()));
    return absl::OkStatus();
  });
}

grpc::Status RewardsServiceImpl::FulfilRedemption(grpc::ServerContext* ctx,
                                                  const v1::FulfilRedemptionRequest* req,
                                                  v1::FulfilRedemptionResponse* resp) {
  return Handle(ctx, "FulfilRedemption", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->station_id(), "station_id"));
    const std::string code = NormalizeCode(req->pickup_code());
    if (code.empty()) return absl::InvalidArgumentError("pickup_code: is required");
    if (code.size() != 6 || !std::all_of(code.begin(), code.end(), absl::ascii_isdigit)) {
      return absl::InvalidArgumentError("pickup_code: must be six digits");
    }
    RETURN_IF_ERROR(text::CheckIdempotencyKey(req->idempotency_key()));
    ASSIGN_OR_RETURN(StationInfo station, Station(req->station_id()));
    RETURN_IF_ERROR(CheckStationScope(caller.who(), station));
    const std::string keeper = caller.who().subject;
    const std::string scope = absl::StrCat("FulfilRedemption|", keeper);
    const std::string hash = RequestHash(*req);
    const pg::Throttle::Limit code_limit{.bucket = absl::StrCat("pickup-code:", keeper),
                                         .limit = kWrongCodesPerKeeper,
                                         .window = kWrongCodeWindow};

    // A repeated key: the order it named, settled and answered as the first time.
    std::string order_id;
    absl::Status early;
    RETURN_IF_ERROR(InTx("fulfil redemption", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result seen = tx.exec_params(
          "SELECT request_hash, response FROM idempotency_keys WHERE method = $1 AND key = $2",
          scope, req->idempotency_key());
      if (!seen.empty()) {
        if (pqxx::binarystring(seen[0][0]).str() != hash) {
          early =
              Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_IDEMPOTENCY_KEY_REUSED,
                     "idempotency_key: was already used with a different request");
          return absl::OkStatus();
        }
        v1::Redemption first;
        (void)first.ParseFromString(pqxx::binarystring(seen[0][1]).str());
        order_id = first.redemption_id();
        return absl::OkStatus();
      }
      // Over the limit no code is even looked up, so a keeper's device cannot be used to try
      // codes faster than the limit allows.
      if (const absl::Duration wait = pg::Throttle::WaitIn(tx, code_limit, caller.now);
          wait > absl::ZeroDuration()) {
        early = throttle_.Refused(wait);
        return absl::OkStatus();
      }
      pqxx::result ready = tx.exec_params(
          "SELECT redemption_id, station_id, intent, expire_at <= now() FROM redemptions "
          "WHERE pickup_code = $1 AND state = 2 FOR UPDATE",
          code);
      if (ready.empty()) {
        pqxx::result past = tx.exec_params(
            "SELECT state, station_id, us(ended_at) FROM redemptions WHERE pickup_code = $1 "
            "AND state <> 2 ORDER BY ended_at DESC NULLS FIRST LIMIT 1",
            code);
        if (past.empty() || past[0][1].as<std::string>() != req->station_id()) {
          early = Refuse(absl::StatusCode::kNotFound, v1::ERROR_REASON_PICKUP_CODE_UNKNOWN,
                         "pickup_code: no order waiting for pickup has this code");
        } else if (past[0][0].as<int>() == v1::REDEMPTION_STATE_FULFILLED) {
          early = Refuse(
              absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_PICKUP_CODE_ALREADY_USED,
              "pickup_code: the order with this code was already handed over",
              {{"station_id", past[0][1].as<std::string>()},
               {"fulfil_time", absl::FormatTime(absl::FromUnixMicros(
                                   past[0][2].is_null() ? 0 : past[0][2].as<int64_t>()))}});
        } else {
          early = Refuse(
              absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_PICKUP_CODE_EXPIRED,
              absl::StrCat(
                  "pickup_code: the order with this code is ",
                  v1::RedemptionState_Name(static_cast<v1::RedemptionState>(past[0][0].as<int>())),
                  "; its points were released"),
              {{"state",
                v1::RedemptionState_Name(static_cast<v1::RedemptionState>(past[0][0].as<int>()))}});
        }
        return absl::OkStatus();
      }
      order_id = ready[0][0].as<std::string>();
      if (ready[0][1].as<std::string>() != req->station_id()) {
        early =
            Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_PICKUP_AT_OTHER_STATION,
                   absl::StrCat("pickup_code: the order is to be collected at station ",
                                ready[0][1].as<std::string>()),
                   {{"station_id", ready[0][1].as<std::string>()}});
        return absl::OkStatus();
      }
      const int intent = ready[0][2].as<int>();
      if (intent != 0 && intent != v1::REDEMPTION_STATE_FULFILLED) {
        early = Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_PICKUP_CODE_EXPIRED,
                       "pickup_code: the order is being cancelled or has expired");
        return absl::OkStatus();
      }
      if (intent == v1::REDEMPTION_STATE_FULFILLED) {
        // Another entry of this code (another keeper, or another tap under a new key) is handing
        // the gift over right now: a second OK would hand it over twice. Only a repeat of that
        // entry's own key resumes it (answered from idempotency_keys above).
        early =
            Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_PICKUP_CODE_ALREADY_USED,
                   "pickup_code: was just entered and the gift is being handed over",
                   {{"station_id", req->station_id()}});
        return absl::OkStatus();
      }
      if (intent == 0) {
        const bool expired = ready[0][3].as<bool>();
        tx.exec_params(
            "UPDATE redemptions SET intent = $2::smallint, fulfilled_by = CASE WHEN $2::smallint "
            "= 3 THEN $3 ELSE '' END, updated_at = now() WHERE redemption_id = $1",
            order_id,
            expired ? static_cast<int>(v1::REDEMPTION_STATE_EXPIRED)
                    : static_cast<int>(v1::REDEMPTION_STATE_FULFILLED),
            keeper);
        if (expired) return absl::OkStatus();
      }
      v1::Redemption marker;
      marker.set_redemption_id(order_id);
      tx.exec_params(
          "INSERT INTO idempotency_keys (method, key, request_hash, response) "
          "VALUES ($1, $2, $3, $4)",
          scope, req->idempotency_key(), pqxx::binarystring(hash),
          pqxx::binarystring(marker.SerializeAsString()));
      return absl::OkStatus();
    }));
    if (ReasonOf(early) == v1::ERROR_REASON_PICKUP_CODE_UNKNOWN) {
      // Count the wrong code; over the limit the answer says to wait.
      absl::StatusOr<pg::Throttle::Ticket> counted = throttle_.Take({code_limit}, caller.now);
      if (!counted.ok()) return counted.status();
    }
    RETURN_IF_ERROR(early);
    v1::Redemption order;
    RETURN_IF_ERROR(Settle(order_id, &order));
    if (order.state() == v1::REDEMPTION_STATE_EXPIRED) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_PICKUP_CODE_EXPIRED,
                    "pickup_code: the order expired before it was collected; its points were "
                    "released");
    }
    if (order.state() != v1::REDEMPTION_STATE_FULFILLED) {
      return absl::UnavailableError("the hand-over is not finished yet; retry with the same key");
    }
    order.clear_pickup_code();
    *resp->mutable_redemption() = order;
    return absl::OkStatus();
  });
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
      resp->set_total_waiting(
          tx.exec_params1("SELECT count(*) FROM redemptions WHERE station_id = $1 AND state = 2 "
                          "AND ($2 = '' OR window_id = $2)",
                          req->station_id(), req->window_id())[0]
              .as<int32_t>());
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kRedemptionColumns,
                       " FROM redemptions r WHERE r.station_id = $1 AND r.state = 2 AND ($2 = '' "
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
