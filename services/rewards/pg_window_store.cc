#include "services/rewards/pg_window_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_events.h"

namespace civicpoints::rewards {
namespace {

std::optional<int64_t> TtlSeconds(const v1::ExchangeWindow& w) {
  if (!w.has_pickup_ttl()) return std::nullopt;
  return w.pickup_ttl().seconds();
}

}  // namespace

std::optional<PgWindowStore::GiftFacts> PgWindowStore::Gift(pqxx::transaction_base& tx,
                                                            const std::string& gift_id) const {
  pqxx::result r =
      tx.exec_params("SELECT name, points_cost, active FROM gifts WHERE gift_id = $1", gift_id);
  if (r.empty()) return std::nullopt;
  return GiftFacts{r[0][0].as<std::string>(), r[0][1].as<int64_t>(), r[0][2].as<bool>()};
}

void PgWindowStore::Insert(pqxx::transaction_base& tx, const v1::ExchangeWindow& w,
                           const common::v1::OrgPath& owner_path,
                           const std::string& creator_id) const {
  tx.exec_params(
      "INSERT INTO exchange_windows (window_id, title, description, owner_org_id, "
      "owner_district_id, owner_street_id, owner_community_id, start_at, end_at, "
      "eligibility, has_ranking, max_items_per_rider, pickup_ttl_s, state, rule_text, "
      "creator_id) VALUES ($1, $2, $3, $4, $5, $6, $7, from_us($8::bigint), "
      "from_us($9::bigint), $10, $11::boolean, $12::int, $13::bigint, "
      "exchange_window_state('SCHEDULED'), $14, $15)",
      w.window_id(), w.title(), w.description(), w.owner_org_id(), owner_path.district_id(),
      owner_path.street_id(), owner_path.community_id(), Us(TimeOf(w.start_time())),
      Us(TimeOf(w.end_time())), pqxx::binarystring(w.eligibility().SerializeAsString()),
      w.eligibility().has_ranking(), w.max_items_per_rider(), TtlSeconds(w), w.rule_text(),
      creator_id);
  WriteParts(tx, w);
}

void PgWindowStore::Update(pqxx::transaction_base& tx, const v1::ExchangeWindow& w,
                           bool with_parts) const {
  tx.exec_params(
      "UPDATE exchange_windows SET title = $2, description = $3, start_at = "
      "from_us($4::bigint), end_at = from_us($5::bigint), eligibility = $6, has_ranking = "
      "$7::boolean, max_items_per_rider = $8::int, pickup_ttl_s = $9::bigint, rule_text = "
      "$10, version = version + 1, updated_at = now() WHERE window_id = $1",
      w.window_id(), w.title(), w.description(), Us(TimeOf(w.start_time())),
      Us(TimeOf(w.end_time())), pqxx::binarystring(w.eligibility().SerializeAsString()),
      w.eligibility().has_ranking(), w.max_items_per_rider(), TtlSeconds(w), w.rule_text());
  if (with_parts) WriteParts(tx, w);
}

void PgWindowStore::WriteParts(pqxx::transaction_base& tx, const v1::ExchangeWindow& w) const {
  tx.exec_params("DELETE FROM window_stations WHERE window_id = $1", w.window_id());
  tx.exec_params("DELETE FROM window_gifts WHERE window_id = $1", w.window_id());
  int pos = 0;
  for (const std::string& s : w.station_ids()) {
    tx.exec_params(
        "INSERT INTO window_stations (window_id, station_id, position) VALUES ($1, $2, $3::int)",
        w.window_id(), s, pos++);
  }
  pos = 0;
  for (const v1::WindowGift& g : w.gifts()) {
    tx.exec_params(
        "INSERT INTO window_gifts (window_id, gift_id, position, max_per_rider) "
        "VALUES ($1, $2, $3::int, $4::int)",
        w.window_id(), g.gift_id(), pos++, g.max_per_rider());
  }
}

std::vector<v1::ExchangeWindow> PgWindowStore::List(pqxx::transaction_base& tx,
                                                    const Filter& f) const {
  pqxx::result rows = tx.exec_params(
      absl::StrCat(
          "SELECT ", kWindowColumns,
          " FROM exchange_windows w WHERE (cardinality($1::smallint[]) = 0 OR w.state = ANY "
          "($1::smallint[])) AND ($2 = '' OR EXISTS (SELECT 1 FROM window_stations ws WHERE "
          "ws.window_id = w.window_id AND ws.station_id = $2)) AND ($3 = '' OR $3 IN "
          "(w.owner_org_id, w.owner_district_id, w.owner_street_id)) "
          "AND ($4::bigint IS NULL OR w.end_at > from_us($4::bigint)) "
          "AND ($5::bigint IS NULL OR w.start_at < from_us($5::bigint)) "
          "AND (us(w.start_at), w.window_id) > ($6::bigint, $7) "
          "ORDER BY w.start_at, w.window_id LIMIT $8::int"),
      absl::StrCat("{", absl::StrJoin(f.states, ","), "}"), f.station_id, f.owner_org_id, f.from_us,
      f.to_us, f.after_start_us.value_or(-9223372036854775807), f.after_id, f.limit);
  std::vector<v1::ExchangeWindow> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back(ReadWindow(row).window);
    LoadWindowParts(tx, &out.back());
  }
  return out;
}

void PgWindowStore::MarkOpen(pqxx::transaction_base& tx, const std::string& window_id,
                             absl::Time now, const EligibilityCut& cut,
                             const v1::EligibilitySnapshot& snapshot, bool has_ranking) const {
  for (const RankedRider& r : cut.riders) {
    tx.exec_params(
        "INSERT INTO window_eligible (window_id, rider_id, rank, points) "
        "VALUES ($1, $2, $3::int, $4::bigint) ON CONFLICT DO NOTHING",
        window_id, r.rider_id, r.rank, r.points);
  }
  pqxx::result opened = tx.exec_params(
      "UPDATE exchange_windows SET state = exchange_window_state('OPEN'), opened_at = "
      "from_us($2::bigint), start_at = least(start_at, from_us($2::bigint)), snapshot = CASE "
      "WHEN $4::boolean THEN $3::bytea END, version = version + 1, updated_at = now() "
      "WHERE window_id = $1 RETURNING " +
          std::string(kWindowEventColumns),
      window_id, Us(now), pqxx::binarystring(snapshot.SerializeAsString()), has_ranking);
  if (!opened.empty()) {
    RecordWindowChanged(tx, "exchange_window_opened", opened[0],
                        has_ranking ? cut.cutoff_points : 0,
                        has_ranking ? static_cast<int>(cut.riders.size()) : 0);
  }
}

void PgWindowStore::MarkClosed(pqxx::transaction_base& tx, const std::string& window_id,
                               absl::Time now, const std::string& reason) const {
  pqxx::result closed = tx.exec_params(
      "UPDATE exchange_windows SET state = exchange_window_state('CLOSED'), closed_at = "
      "from_us($2::bigint), end_at = CASE "
      "WHEN start_at < from_us($2::bigint) THEN least(end_at, from_us($2::bigint)) ELSE end_at "
      "END, close_reason = $3, version = version + 1, updated_at = now() WHERE window_id = $1 "
      "RETURNING " +
          std::string(kWindowEventColumns),
      window_id, Us(now), reason);
  if (!closed.empty()) RecordWindowChanged(tx, "exchange_window_closed", closed[0], 0, 0);
}

}  // namespace civicpoints::rewards
