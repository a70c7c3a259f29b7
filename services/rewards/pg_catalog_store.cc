#include "services/rewards/pg_catalog_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/pg/sql_values.h"
#include "services/rewards/records.h"

namespace civicpoints::rewards {

std::optional<PgCatalogStore::GiftRow> PgCatalogStore::Load(pqxx::transaction_base& tx,
                                                            const std::string& gift_id,
                                                            bool lock) const {
  pqxx::result r =
      tx.exec_params(absl::StrCat("SELECT ", kGiftColumns, " FROM gifts g WHERE g.gift_id = $1",
                                  lock ? " FOR UPDATE" : ""),
                     gift_id);
  if (r.empty()) return std::nullopt;
  GiftRow row;
  FillGift(r[0], &row.gift);
  row.owner_path = GiftOwnerPath(r[0]);
  return row;
}

std::optional<std::string> PgCatalogStore::NameTaken(pqxx::transaction_base& tx,
                                                     const std::string& owner,
                                                     const std::string& name,
                                                     const std::string& except_id) const {
  pqxx::result r = tx.exec_params(
      "SELECT gift_id FROM gifts WHERE owner_org_id = $1 AND lower(name) = lower($2) "
      "AND gift_id <> $3",
      owner, name, except_id);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::string>();
}

v1::Gift PgCatalogStore::Insert(pqxx::transaction_base& tx, const v1::Gift& g,
                                const common::v1::OrgPath& owner_path,
                                const std::string& creator_id) const {
  pqxx::result r = tx.exec_params(
      absl::StrCat("INSERT INTO gifts AS g (gift_id, name, description, image_uri, category, "
                   "points_cost, active, owner_org_id, owner_district_id, owner_street_id, "
                   "creator_id) VALUES ($1, $2, $3, $4, $5::smallint, $6::bigint, $7::boolean, $8, "
                   "$9, $10, $11) RETURNING ",
                   kGiftColumns),
      g.gift_id(), g.name(), g.description(), g.image_uri(), static_cast<int>(g.category()),
      g.points_cost(), g.active(), g.owner_org_id(), owner_path.district_id(),
      owner_path.street_id(), creator_id);
  v1::Gift out;
  FillGift(r[0], &out);
  return out;
}

v1::Gift PgCatalogStore::Update(pqxx::transaction_base& tx, const v1::Gift& g) const {
  pqxx::result r = tx.exec_params(
      absl::StrCat("UPDATE gifts AS g SET name = $2, description = $3, image_uri = $4, "
                   "category = $5::smallint, points_cost = $6::bigint, active = $7::boolean, "
                   "version = version + 1, updated_at = now() WHERE gift_id = $1 RETURNING ",
                   kGiftColumns),
      g.gift_id(), g.name(), g.description(), g.image_uri(), static_cast<int>(g.category()),
      g.points_cost(), g.active());
  v1::Gift out;
  FillGift(r[0], &out);
  return out;
}

std::vector<v1::Gift> PgCatalogStore::List(pqxx::transaction_base& tx, const Filter& f) const {
  pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT ", kGiftColumns,
                   " FROM gifts g WHERE ($1::smallint = 0 OR g.category = $1::smallint) "
                   "AND ($2::boolean OR g.active) "
                   "AND ($3 = '' OR strpos(lower(g.name), lower($3)) > 0) "
                   "AND (cardinality($4::text[]) = 0 OR g.owner_org_id = ANY ($4::text[])) "
                   "AND (g.category, g.name, g.gift_id) > ($5::smallint, $6, $7) "
                   "ORDER BY g.category, g.name, g.gift_id LIMIT $8::int"),
      f.category, f.include_inactive, f.name_contains, pg::TextArray(f.owners), f.after_category,
      f.after_name, f.after_id, f.limit);
  std::vector<v1::Gift> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) FillGift(rows[i], &out[i]);
  return out;
}

std::vector<v1::GiftAvailability> PgCatalogStore::Availability(
    pqxx::transaction_base& tx, const std::string& gift_id, const std::string& window_id,
    std::optional<int64_t> after_quantity, const std::string& after_station, int limit) const {
  pqxx::result rows = tx.exec_params(
      "SELECT s.station_id, s.available, ARRAY(SELECT w.window_id FROM exchange_windows w "
      "  JOIN window_stations ws ON ws.window_id = w.window_id AND ws.station_id = "
      "  s.station_id JOIN window_gifts wg ON wg.window_id = w.window_id AND wg.gift_id = "
      "  s.gift_id WHERE w.state IN (exchange_window_state('SCHEDULED'), "
      "exchange_window_state('OPEN')) ORDER BY w.start_at, w.window_id LIMIT 5) "
      "FROM station_stock s WHERE s.gift_id = $1 AND s.available >= 1 "
      "AND ($2 = '' OR EXISTS (SELECT 1 FROM window_stations ws WHERE ws.window_id = $2 "
      "  AND ws.station_id = s.station_id)) "
      "AND (s.available < $3::bigint OR (s.available = $3::bigint AND s.station_id > $4)) "
      "ORDER BY s.available DESC, s.station_id LIMIT $5::int",
      gift_id, window_id, after_quantity.value_or(INT64_MAX), after_station, limit);
  std::vector<v1::GiftAvailability> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    v1::GiftAvailability& a = out[i];
    a.set_station_id(rows[i][0].as<std::string>());
    a.set_gift_id(gift_id);
    a.set_available_quantity(rows[i][1].as<int64_t>());
    pqxx::array_parser ids = rows[i][2].as_array();
    for (auto item = ids.get_next(); item.first != pqxx::array_parser::done;
         item = ids.get_next()) {
      if (item.first == pqxx::array_parser::string_value) a.add_window_ids(item.second);
    }
  }
  return out;
}

}  // namespace civicpoints::rewards
