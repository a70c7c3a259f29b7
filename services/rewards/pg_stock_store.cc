#include "services/rewards/pg_stock_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/rewards/records.h"

namespace civicpoints::rewards {

void WriteStockMovement(pqxx::transaction_base& tx, const std::string& station_id,
                        const std::string& gift_id, v1::StockMovementKind kind,
                        int64_t available_delta, int64_t reserved_delta, const std::string& reason,
                        const std::string& actor, const std::string& redemption_id,
                        v1::StockMovement* out) {
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

bool PgStockStore::StationKnown(pqxx::transaction_base& tx, const std::string& station_id) const {
  return !tx.exec_params("SELECT 1 FROM stations WHERE station_id = $1", station_id).empty();
}

std::optional<bool> PgStockStore::GiftActive(pqxx::transaction_base& tx,
                                             const std::string& gift_id) const {
  pqxx::result r = tx.exec_params("SELECT active FROM gifts WHERE gift_id = $1", gift_id);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<bool>();
}

std::optional<v1::StationStock> PgStockStore::Lock(pqxx::transaction_base& tx,
                                                   const std::string& station_id,
                                                   const std::string& gift_id) const {
  pqxx::result r =
      tx.exec_params(absl::StrCat("SELECT ", kStockColumns,
                                  " FROM station_stock s JOIN gifts g USING (gift_id) "
                                  "JOIN stations st USING (station_id) "
                                  "WHERE s.station_id = $1 AND s.gift_id = $2 FOR UPDATE OF s"),
                     station_id, gift_id);
  if (r.empty()) return std::nullopt;
  v1::StationStock stock;
  FillStock(r[0], &stock);
  return stock;
}

void PgStockStore::Ensure(pqxx::transaction_base& tx, const std::string& station_id,
                          const std::string& gift_id) const {
  tx.exec_params(
      "INSERT INTO station_stock (station_id, gift_id, available, reserved) "
      "VALUES ($1, $2, 0, 0) ON CONFLICT DO NOTHING",
      station_id, gift_id);
}

void PgStockStore::AddAvailable(pqxx::transaction_base& tx, const std::string& station_id,
                                const std::string& gift_id, int64_t quantity) const {
  tx.exec_params(
      "UPDATE station_stock SET available = available + $3::bigint, updated_at = now() "
      "WHERE station_id = $1 AND gift_id = $2",
      station_id, gift_id, quantity);
}

void PgStockStore::SetAvailable(pqxx::transaction_base& tx, const std::string& station_id,
                                const std::string& gift_id, int64_t available) const {
  tx.exec_params(
      "UPDATE station_stock SET available = $3::bigint, updated_at = now() "
      "WHERE station_id = $1 AND gift_id = $2",
      station_id, gift_id, available);
}

std::vector<v1::StationStock> PgStockStore::List(pqxx::transaction_base& tx,
                                                 const std::string& station_id,
                                                 const StockPage& page) const {
  pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT ", kStockColumns,
                   " FROM station_stock s JOIN gifts g USING (gift_id) "
                   "JOIN stations st USING (station_id) WHERE s.station_id = $1 "
                   "AND (NOT $2::boolean OR s.available >= 1) AND (NOT $3::boolean OR g.active) "
                   "AND (g.name, g.gift_id) > ($4, $5) ORDER BY g.name, g.gift_id LIMIT $6::int"),
      station_id, page.available_only, page.active_only, page.after_name, page.after_id,
      page.limit);
  std::vector<v1::StationStock> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) FillStock(rows[i], &out[i]);
  return out;
}

std::vector<v1::StockMovement> PgStockStore::Movements(pqxx::transaction_base& tx,
                                                       const MovementFilter& f) const {
  pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT ", kMovementColumns,
                   " FROM stock_movements WHERE station_id = $1 AND ($2 = '' OR gift_id = $2) "
                   "AND (cardinality($3::smallint[]) = 0 OR kind = ANY ($3::smallint[])) "
                   "AND ($4::bigint IS NULL OR created_at >= from_us($4::bigint)) "
                   "AND ($5::bigint IS NULL OR created_at < from_us($5::bigint)) "
                   "AND movement_id < $6::bigint ORDER BY movement_id DESC LIMIT $7::int"),
      f.station_id, f.gift_id, absl::StrCat("{", absl::StrJoin(f.kinds, ","), "}"), f.from_us,
      f.to_us, f.before_id.empty() ? "9223372036854775807" : f.before_id, f.limit);
  std::vector<v1::StockMovement> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) FillMovement(rows[i], &out[i]);
  return out;
}

}  // namespace civicpoints::rewards
