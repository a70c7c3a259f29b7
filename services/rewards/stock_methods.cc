// Station stock: ListStationStock, AddStationStock, CorrectStationStock, ListStockMovements.
// Every change writes one stock movement in the same transaction. The rules are stock_rules.h's;
// the SQL is PgStockStore's.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/text.h"
#include "services/rewards/access.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_service.h"
#include "services/rewards/stock_rules.h"

namespace civicpoints::rewards {

grpc::Status RewardsServiceImpl::ListStationStock(grpc::ServerContext* ctx,
                                                  const v1::ListStationStockRequest* req,
                                                  v1::ListStationStockResponse* resp) {
  return Handle(ctx, "ListStationStock", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->station_id(), "station_id"));
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 2));
    const bool rider = IsRiderOnly(caller.who());
    const bool available_only = req->available_only() || rider;
    bool known = true;
    RETURN_IF_ERROR(InReadTx("ListStationStock", [&](pqxx::transaction_base& tx) -> absl::Status {
      known = stock_.StationKnown(tx, req->station_id());
      std::vector<v1::StationStock> stock =
          stock_.List(tx, req->station_id(),
                      {.after_name = paging.after.empty() ? "" : paging.after[0],
                       .after_id = paging.after.empty() ? "" : paging.after[1],
                       .available_only = available_only,
                       .active_only = rider,
                       .limit = paging.size + 1});
      resp->set_next_page_token(TrimPage(stock, paging, [](const v1::StationStock& last) {
        return std::vector<std::string>{last.gift_name(), last.gift_id()};
      }));
      for (v1::StationStock& s : stock) *resp->add_stock() = std::move(s);
      return absl::OkStatus();
    }));
    if (!known) {
      absl::StatusOr<StationInfo> station = Station(req->station_id());
      if (!station.ok() && ReasonOf(station.status()) == v1::ERROR_REASON_NOT_A_STATION) {
        return absl::NotFoundError(
            absl::StrCat("station ", req->station_id(), " is not a rider station"));
      }
      return station.status();
    }
    return absl::OkStatus();
  });
}

grpc::Status RewardsServiceImpl::AddStationStock(grpc::ServerContext* ctx,
                                                 const v1::AddStationStockRequest* req,
                                                 v1::AddStationStockResponse* resp) {
  return Handle(ctx, "AddStationStock", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->station_id(), "station_id"));
    RETURN_IF_ERROR(CheckId(req->gift_id(), "gift_id"));
    if (req->quantity() < 1 || req->quantity() > 10000) {
      return absl::InvalidArgumentError(
          absl::StrCat("quantity: must be 1–10,000, got ", req->quantity()));
    }
    RETURN_IF_ERROR(text::CheckText(req->reason(), "reason",
                                    {.max = 200, .required = true, .lines = text::Lines::kMany}));
    RETURN_IF_ERROR(text::CheckIdempotencyKey(req->idempotency_key()));
    ASSIGN_OR_RETURN(StationInfo station, Station(req->station_id()));
    RETURN_IF_ERROR(CheckStationScope(caller.who(), station));
    return Idempotent(
        caller.who(), "AddStationStock", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          const std::optional<bool> active = stock_.GiftActive(tx, req->gift_id());
          if (!active) {
            return absl::NotFoundError(absl::StrCat("gift ", req->gift_id(), " does not exist"));
          }
          if (!*active) {
            return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_GIFT_INACTIVE,
                          absl::StrCat("gift ", req->gift_id(), " is inactive"));
          }
          stock_.Ensure(tx, req->station_id(), req->gift_id());
          const v1::StationStock before = *stock_.Lock(tx, req->station_id(), req->gift_id());
          RETURN_IF_ERROR(CheckRestock(before.on_hand_quantity(), req->quantity()));
          stock_.AddAvailable(tx, req->station_id(), req->gift_id(), req->quantity());
          WriteStockMovement(tx, req->station_id(), req->gift_id(), v1::STOCK_MOVEMENT_KIND_ADD,
                             req->quantity(), 0, req->reason(), caller.who().subject, "",
                             resp->mutable_movement());
          *resp->mutable_stock() = *stock_.Lock(tx, req->station_id(), req->gift_id());
          return absl::OkStatus();
        });
  });
}

grpc::Status RewardsServiceImpl::CorrectStationStock(grpc::ServerContext* ctx,
                                                     const v1::CorrectStationStockRequest* req,
                                                     v1::CorrectStationStockResponse* resp) {
  return Handle(ctx, "CorrectStationStock", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->station_id(), "station_id"));
    RETURN_IF_ERROR(CheckId(req->gift_id(), "gift_id"));
    if (req->counted_quantity() < 0 || req->counted_quantity() > kMaxOnHand) {
      return absl::InvalidArgumentError(
          absl::StrCat("counted_quantity: must be 0–1,000,000, got ", req->counted_quantity()));
    }
    RETURN_IF_ERROR(text::CheckText(req->reason(), "reason",
                                    {.max = 200, .required = true, .lines = text::Lines::kMany}));
    RETURN_IF_ERROR(text::CheckIdempotencyKey(req->idempotency_key()));
    ASSIGN_OR_RETURN(StationInfo station, Station(req->station_id()));
    RETURN_IF_ERROR(CheckStationScope(caller.who(), station));
    return Idempotent(
        caller.who(), "CorrectStationStock", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          const std::optional<v1::StationStock> before =
              stock_.Lock(tx, req->station_id(), req->gift_id());
          if (!before) {
            return absl::NotFoundError(absl::StrCat("station ", req->station_id(),
                                                    " holds no stock of gift ", req->gift_id()));
          }
          ASSIGN_OR_RETURN(
              const int64_t available,
              AvailableAfterCount(before->available_quantity(), before->reserved_quantity(),
                                  req->counted_quantity(),
                                  req->has_expected_on_hand_quantity()
                                      ? std::optional<int64_t>(req->expected_on_hand_quantity())
                                      : std::nullopt));
          stock_.SetAvailable(tx, req->station_id(), req->gift_id(), available);
          WriteStockMovement(tx, req->station_id(), req->gift_id(),
                             v1::STOCK_MOVEMENT_KIND_CORRECTION,
                             available - before->available_quantity(), 0, req->reason(),
                             caller.who().subject, "", resp->mutable_movement());
          *resp->mutable_stock() = *stock_.Lock(tx, req->station_id(), req->gift_id());
          return absl::OkStatus();
        });
  });
}

grpc::Status RewardsServiceImpl::ListStockMovements(grpc::ServerContext* ctx,
                                                    const v1::ListStockMovementsRequest* req,
                                                    v1::ListStockMovementsResponse* resp) {
  return Handle(ctx, "ListStockMovements", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->station_id(), "station_id"));
    std::vector<int> kinds;
    for (int k : req->kinds()) {
      if (k == v1::STOCK_MOVEMENT_KIND_UNSPECIFIED || !v1::StockMovementKind_IsValid(k)) {
        return absl::InvalidArgumentError("kinds: holds an unspecified or unknown kind");
      }
      kinds.push_back(k);
    }
    const auto& range = req->time_range();
    if (range.has_start_time() && range.has_end_time() &&
        TimeOf(range.end_time()) < TimeOf(range.start_time())) {
      return absl::InvalidArgumentError("time_range: end_time is before start_time");
    }
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 1));
    ASSIGN_OR_RETURN(StationInfo station, Station(req->station_id()));
    RETURN_IF_ERROR(CheckStationScope(caller.who(), station));
    const PgStockStore::MovementFilter filter{
        .station_id = req->station_id(),
        .gift_id = req->gift_id(),
        .kinds = std::move(kinds),
        .from_us =
            range.has_start_time() ? std::optional(Us(TimeOf(range.start_time()))) : std::nullopt,
        .to_us = range.has_end_time() ? std::optional(Us(TimeOf(range.end_time()))) : std::nullopt,
        .before_id = paging.after.empty() ? "" : paging.after[0],
        .limit = paging.size + 1};
    return InReadTx("ListStockMovements", [&](pqxx::transaction_base& tx) -> absl::Status {
      std::vector<v1::StockMovement> movements = stock_.Movements(tx, filter);
      resp->set_next_page_token(TrimPage(movements, paging, [](const v1::StockMovement& last) {
        return std::vector<std::string>{last.movement_id()};
      }));
      for (v1::StockMovement& m : movements) *resp->add_movements() = std::move(m);
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::rewards
