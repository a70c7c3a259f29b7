// Station stock: ListStationStock, AddStationStock, CorrectStationStock, ListStockMovements.
// Every change writes one stock movement in the same transaction.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/text.h"
#include "services/rewards/access.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_service.h"

namespace civicpoints::rewards {

namespace {

constexpr int64_t kMaxOnHand = 1000000;

// The stock row of (station, gift) with the gift's name and the station's path, locked.
pqxx::result LockStock(pqxx::transaction_base& tx, const std::string& station_id,
                       const std::string& gift_id) {
  return tx.exec_params(absl::StrCat("SELECT ", kStockColumns,
                                     " FROM station_stock s JOIN gifts g USING (gift_id) "
                                     "JOIN stations st USING (station_id) "
                                     "WHERE s.station_id = $1 AND s.gift_id = $2 FOR UPDATE OF s"),
                        station_id, gift_id);
}

}  // namespace

// Writes a movement of (station, gift) and returns it; the stock row must already hold the new
// figures.
void WriteMovement(pqxx::transaction_base& tx, const std::string& station_id,
                   const std::string& gift_id, v1::StockMovementKind kind, int64_t available_delta,
                   int64_t reserved_delta, const std::string& reason, const std::string& actor,
                   const std::string& redemption_id, v1::StockMovement* out) {
  pqxx::result r = tx.exec_params(
      absl::StrCat(
          "INSERT INTO stock_movements (station_id, gift_id, kind, available_delta, "
          "reserved_delta, on_hand_delta, available_after, on_hand_after, reason, actor_id, "
          "redemption_id) SELECT $1, $2, $3::smallint, $4::bigint, $5::bigint, "
          "$4::bigint + $5::bigint, s.available, s.available + s.reserved, $6, $7, "
          "nullif($8, '') FROM station_stock s WHERE s.station_id = $1 AND s.gift_id = $2 "
          "RETURNING ",
          kMovementColumns),
      station_id, gift_id, static_cast<int>(kind), available_delta, reserved_delta, reason, actor,
      redemption_id);
  if (out != nullptr) FillMovement(r[0], out);
}

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
      known = !tx.exec_params("SELECT 1 FROM stations WHERE station_id = $1", req->station_id())
                   .empty();
      pqxx::result rows = tx.exec_params(
          absl::StrCat(
              "SELECT ", kStockColumns,
              " FROM station_stock s JOIN gifts g USING (gift_id) "
              "JOIN stations st USING (station_id) WHERE s.station_id = $1 "
              "AND (NOT $2::boolean OR s.available >= 1) AND (NOT $3::boolean OR g.active) "
              "AND (g.name, g.gift_id) > ($4, $5) ORDER BY g.name, g.gift_id LIMIT $6::int"),
          req->station_id(), available_only, rider, paging.after.empty() ? "" : paging.after[0],
          paging.after.empty() ? "" : paging.after[1], paging.size + 1);
      resp->set_next_page_token(FillPage(
          rows, paging, [&](const pqxx::row& row) { FillStock(row, resp->add_stock()); },
          [](const pqxx::row& row) {
            return std::vector<std::string>{row[2].as<std::string>(), row[1].as<std::string>()};
          }));
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
          pqxx::result gift =
              tx.exec_params("SELECT active FROM gifts WHERE gift_id = $1", req->gift_id());
          if (gift.empty()) {
            return absl::NotFoundError(absl::StrCat("gift ", req->gift_id(), " does not exist"));
          }
          if (!gift[0][0].as<bool>()) {
            return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_GIFT_INACTIVE,
                          absl::StrCat("gift ", req->gift_id(), " is inactive"));
          }
          tx.exec_params(
              "INSERT INTO station_stock (station_id, gift_id, available, reserved) "
              "VALUES ($1, $2, 0, 0) ON CONFLICT DO NOTHING",
              req->station_id(), req->gift_id());
          pqxx::result row = LockStock(tx, req->station_id(), req->gift_id());
          const int64_t on_hand = row[0][3].as<int64_t>() + row[0][4].as<int64_t>();
          if (on_hand + req->quantity() > kMaxOnHand) {
            return Refuse(
                absl::StatusCode::kResourceExhausted, v1::ERROR_REASON_STOCK_LIMIT,
                absl::StrCat("quantity: on hand would be ", on_hand + req->quantity(),
                             ", over 1,000,000"),
                {{"on_hand", std::to_string(on_hand)}, {"limit", std::to_string(kMaxOnHand)}});
          }
          tx.exec_params(
              "UPDATE station_stock SET available = available + $3::bigint, updated_at = now() "
              "WHERE station_id = $1 AND gift_id = $2",
              req->station_id(), req->gift_id(), req->quantity());
          WriteMovement(tx, req->station_id(), req->gift_id(), v1::STOCK_MOVEMENT_KIND_ADD,
                        req->quantity(), 0, req->reason(), caller.who().subject, "",
                        resp->mutable_movement());
          FillStock(LockStock(tx, req->station_id(), req->gift_id())[0], resp->mutable_stock());
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
          pqxx::result row = LockStock(tx, req->station_id(), req->gift_id());
          if (row.empty()) {
            return absl::NotFoundError(absl::StrCat("station ", req->station_id(),
                                                    " holds no stock of gift ", req->gift_id()));
          }
          const int64_t available = row[0][3].as<int64_t>(), reserved = row[0][4].as<int64_t>();
          if (req->has_expected_on_hand_quantity() &&
              req->expected_on_hand_quantity() != available + reserved) {
            return Refuse(
                absl::StatusCode::kAborted, v1::ERROR_REASON_CONCURRENT_CHANGE,
                absl::StrCat("expected_on_hand_quantity: on hand is now ", available + reserved,
                             ", not ", req->expected_on_hand_quantity()));
          }
          if (req->counted_quantity() < reserved) {
            return Refuse(
                absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_STOCK_BELOW_RESERVED,
                absl::StrCat("counted_quantity: ", req->counted_quantity(), " is below the ",
                             reserved, " items reserved for READY orders"),
                {{"reserved_quantity", std::to_string(reserved)}});
          }
          const int64_t delta = req->counted_quantity() - reserved - available;
          tx.exec_params(
              "UPDATE station_stock SET available = $3::bigint, updated_at = now() "
              "WHERE station_id = $1 AND gift_id = $2",
              req->station_id(), req->gift_id(), req->counted_quantity() - reserved);
          WriteMovement(tx, req->station_id(), req->gift_id(), v1::STOCK_MOVEMENT_KIND_CORRECTION,
                        delta, 0, req->reason(), caller.who().subject, "",
                        resp->mutable_movement());
          FillStock(LockStock(tx, req->station_id(), req->gift_id())[0], resp->mutable_stock());
          return absl::OkStatus();
        });
  });
}

grpc::Status RewardsServiceImpl::ListStockMovements(grpc::ServerContext* ctx,
                                                    const v1::ListStockMovementsRequest* req,
                                                    v1::ListStockMovementsResponse* resp) {
  return Handle(ctx, "ListStockMovements", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->station_id(), "station_id"));
    std::vector<std::string> kinds;
    for (int k : req->kinds()) {
      if (k == v1::STOCK_MOVEMENT_KIND_UNSPECIFIED || !v1::StockMovementKind_IsValid(k)) {
        return absl::InvalidArgumentError("kinds: holds an unspecified or unknown kind");
      }
      kinds.push_back(std::to_string(k));
    }
    const auto& range = req->time_range();
    if (range.has_start_time() && range.has_end_time() &&
        TimeOf(range.end_time()) < TimeOf(range.start_time())) {
      return absl::InvalidArgumentError("time_range: end_time is before start_time");
    }
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 1));
    ASSIGN_OR_RETURN(StationInfo station, Station(req->station_id()));
    RETURN_IF_ERROR(CheckStationScope(caller.who(), station));
    return InReadTx("ListStockMovements", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kMovementColumns,
                       " FROM stock_movements WHERE station_id = $1 AND ($2 = '' OR gift_id = $2) "
                       "AND (cardinality($3::smallint[]) = 0 OR kind = ANY ($3::smallint[])) "
                       "AND ($4::bigint IS NULL OR created_at >= from_us($4::bigint)) "
                       "AND ($5::bigint IS NULL OR created_at < from_us($5::bigint)) "
                       "AND movement_id < $6::bigint ORDER BY movement_id DESC LIMIT $7::int"),
          req->station_id(), req->gift_id(), absl::StrCat("{", absl::StrJoin(kinds, ","), "}"),
          range.has_start_time() ? std::optional<int64_t>(Us(TimeOf(range.start_time())))
                                 : std::nullopt,
          range.has_end_time() ? std::optional<int64_t>(Us(TimeOf(range.end_time())))
                               : std::nullopt,
          paging.after.empty() ? "9223372036854775807" : paging.after[0], paging.size + 1);
      resp->set_next_page_token(FillPage(
          rows, paging, [&](const pqxx::row& row) { FillMovement(row, resp->add_movements()); },
          [](const pqxx::row& row) { return std::vector<std::string>{row[0].as<std::string>()}; }));
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::rewards
