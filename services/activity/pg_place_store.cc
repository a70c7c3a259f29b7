#include "services/activity/pg_place_store.h"

#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/time_units.h"
#include "common/pg/prepared.h"
#include "common/pg/sql_values.h"

namespace civicpoints::activity {
namespace {

using times::SetTime;
using times::TimeOf;
using times::Us;

constexpr char kPlaceColumns[] =
    "place_id, kind, name, description, address, latitude, longitude, community_id, street_id, "
    "district_id, array_to_string(services, ','), opening_hours, temporarily_closed, "
    "us(closed_until), check_in_radius_meters, keeper_person_id, retired_at IS NOT NULL, "
    "us(created_at), us(updated_at), version";
constexpr int kPlaceColumnCount = 20;

v1::Place ReadPlace(const pqxx::row& row) {
  v1::Place p;
  p.set_place_id(row[0].as<std::string>());
  p.set_kind(static_cast<v1::PlaceKind>(row[1].as<int>()));
  p.set_name(row[2].as<std::string>());
  p.set_description(row[3].as<std::string>());
  p.set_address(row[4].as<std::string>());
  p.mutable_location()->set_latitude(row[5].as<double>());
  p.mutable_location()->set_longitude(row[6].as<double>());
  p.set_community_id(row[7].as<std::string>());
  p.mutable_org_path()->set_district_id(row[9].as<std::string>());
  p.mutable_org_path()->set_street_id(row[8].as<std::string>());
  p.mutable_org_path()->set_community_id(row[7].as<std::string>());
  for (absl::string_view s : absl::StrSplit(row[10].as<std::string>(), ',', absl::SkipEmpty())) {
    int v = 0;
    if (absl::SimpleAtoi(s, &v)) p.add_services(static_cast<v1::PlaceServiceType>(v));
  }
  const std::string hours = pqxx::binarystring(row[11]).str();
  if (!hours.empty()) p.mutable_opening_hours()->ParseFromString(hours);
  p.set_temporarily_closed(row[12].as<bool>());
  if (!row[13].is_null()) SetTime(p.mutable_closed_until(), row[13].as<int64_t>());
  p.set_check_in_radius_meters(row[14].as<int>());
  p.set_keeper_person_id(row[15].as<std::string>());
  p.set_status(row[16].as<bool>() ? v1::PLACE_STATUS_RETIRED : v1::PLACE_STATUS_ACTIVE);
  SetTime(p.mutable_create_time(), row[17].as<int64_t>());
  SetTime(p.mutable_update_time(), row[18].as<int64_t>());
  p.set_etag(absl::StrCat("v", row[19].as<int64_t>()));
  return p;
}

std::string HoursBytes(const v1::Place& p) {
  return p.has_opening_hours() ? p.opening_hours().SerializeAsString() : std::string();
}

std::optional<int64_t> ClosedUntilUs(const v1::Place& p) {
  if (!p.temporarily_closed() || !p.has_closed_until()) return std::nullopt;
  return Us(TimeOf(p.closed_until()));
}

}  // namespace

absl::StatusOr<v1::Place> PgPlaceStore::Load(pqxx::transaction_base& tx, const std::string& id,
                                             bool lock) const {
  pqxx::result r =
      tx.exec_params(absl::StrCat("SELECT ", kPlaceColumns, " FROM places WHERE place_id = $1",
                                  lock ? " FOR UPDATE" : ""),
                     id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("place '", id, "' does not exist"));
  return ReadPlace(r[0]);
}

void PgPlaceStore::Insert(pqxx::transaction_base& tx, const v1::Place& p,
                          const common::v1::OrgPath& path, const std::string& creator_id) const {
  tx.exec_params(
      "INSERT INTO places (place_id, kind, name, description, address, latitude, "
      "longitude, community_id, street_id, district_id, services, opening_hours, "
      "temporarily_closed, closed_until, check_in_radius_meters, keeper_person_id, "
      "created_by) VALUES ($1, $2, $3, $4, $5, $6::double precision, "
      "$7::double precision, $8, $9, $10, $11::smallint[], $12, $13, "
      "from_us($14::bigint), $15, $16, $17)",
      p.place_id(), static_cast<int>(p.kind()), p.name(), p.description(), p.address(),
      p.location().latitude(), p.location().longitude(), path.community_id(), path.street_id(),
      path.district_id(), pg::IntArray(p.services()), pqxx::binarystring(HoursBytes(p)),
      p.temporarily_closed(), ClosedUntilUs(p), p.check_in_radius_meters(), p.keeper_person_id(),
      creator_id);
}

void PgPlaceStore::Update(pqxx::transaction_base& tx, const v1::Place& p,
                          const common::v1::OrgPath& path) const {
  tx.exec_params(
      "UPDATE places SET name = $2, description = $3, address = $4, "
      "latitude = $5::double precision, longitude = $6::double precision, "
      "community_id = $7, street_id = $8, district_id = $9, services = $10::smallint[], "
      "opening_hours = $11, temporarily_closed = $12, closed_until = from_us($13::bigint), "
      "check_in_radius_meters = $14, keeper_person_id = $15, version = version + 1, "
      "updated_at = now() WHERE place_id = $1",
      p.place_id(), p.name(), p.description(), p.address(), p.location().latitude(),
      p.location().longitude(), path.community_id(), path.street_id(), path.district_id(),
      pg::IntArray(p.services()), pqxx::binarystring(HoursBytes(p)), p.temporarily_closed(),
      ClosedUntilUs(p), p.check_in_radius_meters(), p.keeper_person_id());
}

std::optional<std::pair<std::string, std::string>> PgPlaceStore::ComingActivity(
    pqxx::transaction_base& tx, const std::string& place_id, absl::Time now) const {
  pqxx::result r = tx.exec_params(
      "SELECT activity_id, title FROM activities WHERE place_id = $1 AND cancelled_at IS "
      "NULL AND end_at > from_us($2::bigint) ORDER BY start_at LIMIT 1",
      place_id, Us(now));
  if (r.empty()) return std::nullopt;
  return std::pair{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
}

void PgPlaceStore::Retire(pqxx::transaction_base& tx, const std::string& place_id,
                          const std::string& reason) const {
  tx.exec_params(
      "UPDATE places SET retired_at = now(), retire_reason = $2, version = version + 1, "
      "updated_at = now() WHERE place_id = $1",
      place_id, reason);
}

std::vector<v1::Place> PgPlaceStore::List(pqxx::transaction_base& tx, const Filter& f) const {
  const bool after = f.after.size() == 3;
  pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT ", kPlaceColumns, " FROM places WHERE ",
                   f.org_column ? f.org_column : "$1::text", " = $1::text",
                   " AND (cardinality($2::smallint[]) = 0 OR kind = ANY($2::smallint[]))"
                   " AND services @> $3::smallint[] AND ($4::boolean OR retired_at IS NULL)"
                   " AND ($5::text = '' OR keeper_person_id = $5::text)"
                   " AND ($6::text = '' OR (community_id, name, place_id) > "
                   "($6::text, $7::text, $8::text))"
                   " ORDER BY community_id, name, place_id LIMIT $9"),
      f.org_id, pg::IntArray(f.kinds), pg::IntArray(f.services), f.include_retired,
      f.keeper_person_id, after ? f.after[0] : "", after ? f.after[1] : "", after ? f.after[2] : "",
      f.limit);
  std::vector<v1::Place> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(ReadPlace(row));
  return out;
}

std::vector<PgPlaceStore::NumberedPlace> PgPlaceStore::ChangedAfter(pqxx::transaction_base& tx,
                                                                    int64_t after,
                                                                    int limit) const {
  std::vector<NumberedPlace> out;
  for (const auto& row :
       pg::Exec(tx,
                absl::StrCat("SELECT ", kPlaceColumns,
                             ", change_no FROM places WHERE change_no > $1 ORDER BY change_no "
                             "LIMIT $2"),
                after, limit)) {
    out.push_back({.place = ReadPlace(row), .change_no = row[kPlaceColumnCount].as<int64_t>()});
  }
  return out;
}

std::optional<PgPlaceStore::NumberedPlace> PgPlaceStore::LoadNumbered(
    pqxx::transaction_base& tx, const std::string& place_id) const {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kPlaceColumns, ", change_no FROM places WHERE place_id = $1"),
      place_id);
  if (r.empty()) return std::nullopt;
  return NumberedPlace{.place = ReadPlace(r[0]),
                       .change_no = r[0][kPlaceColumnCount].as<int64_t>()};
}

}  // namespace civicpoints::activity
