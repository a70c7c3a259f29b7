// PgLedgerStore's holds: an order's hold locked, inserted and settled inside a batch transaction,
// read, and the holds past their timeout.
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/base/time_units.h"
#include "common/pg/pg_pool.h"
#include "services/ledger/pg_ledger_rows.h"
#include "services/ledger/pg_ledger_store.h"

namespace civicpoints::ledger {

using pg_rows::Exec;
using pg_rows::InBatch;
using pg_rows::OnUniqueViolation;
using pg_rows::SetTime;

namespace {

// Columns of a hold (table alias `h`), read by RowToHold by these names.
constexpr char kHoldColumns[] =
    "h.order_id, h.person_id, h.amount, h.state, "
    "coalesce((extract(epoch FROM h.expire_time) * 1000000)::bigint, 0) AS expire_micros, "
    "h.expired, h.district_id, h.street_id, h.community_id, "
    "h.hold_sequence::text AS hold_entry_id, "
    "coalesce(h.settle_sequence::text, '') AS settle_entry_id, "
    "(extract(epoch FROM h.created_at) * 1000000)::bigint AS created_micros, "
    "coalesce((extract(epoch FROM h.settled_at) * 1000000)::bigint, 0) AS settled_micros";

v1::Hold RowToHold(const pqxx::row& r) {
  v1::Hold h;
  h.set_order_id(r["order_id"].c_str());
  h.set_person_id(r["person_id"].c_str());
  h.set_amount(r["amount"].as<int64_t>());
  h.set_state(static_cast<v1::HoldState>(r["state"].as<int>()));
  const int64_t expire = r["expire_micros"].as<int64_t>();
  if (expire != 0) SetTime(h.mutable_expire_time(), expire);
  h.set_expired(r["expired"].as<bool>());
  if (std::string(r["community_id"].c_str()).size() > 0) {
    h.mutable_org_path()->set_district_id(r["district_id"].c_str());
    h.mutable_org_path()->set_street_id(r["street_id"].c_str());
    h.mutable_org_path()->set_community_id(r["community_id"].c_str());
  }
  h.set_hold_entry_id(r["hold_entry_id"].c_str());
  h.set_settle_entry_id(r["settle_entry_id"].c_str());
  SetTime(h.mutable_create_time(), r["created_micros"].as<int64_t>());
  const int64_t settled = r["settled_micros"].as<int64_t>();
  if (settled != 0) SetTime(h.mutable_settle_time(), settled);
  return h;
}

}  // namespace

absl::StatusOr<std::optional<v1::Hold>> PgLedgerStore::LockHold(pqxx::dbtransaction& tx,
                                                                const std::string& order_id) {
  return InBatch([&]() -> absl::StatusOr<std::optional<v1::Hold>> {
    pqxx::result r = Exec(
        tx, absl::StrCat("SELECT ", kHoldColumns, " FROM holds h WHERE h.order_id = $1 FOR UPDATE"),
        order_id);
    if (r.empty()) return std::optional<v1::Hold>();
    return RowToHold(r[0]);
  });
}

absl::Status PgLedgerStore::InsertHold(pqxx::dbtransaction& tx, const v1::Hold& hold,
                                       const v1::Entry& entry, const common::v1::OrgPath& path) {
  const int64_t expire = hold.has_expire_time() ? times::UsOf(hold.expire_time()) : 0;
  return InBatch(
      [&] {
        Exec(tx,
             "INSERT INTO holds (order_id, person_id, amount, state, expire_time, hold_sequence, "
             "district_id, street_id, community_id, created_at) VALUES ($1, $2, $3, "
             "hold_state('HELD'), "
             "CASE WHEN $4::bigint = 0 THEN NULL ELSE to_timestamp($4::bigint / 1000000.0) END, "
             "$5, $6, $7, $8, to_timestamp($9::bigint / 1000000.0))",
             hold.order_id(), hold.person_id(), hold.amount(), expire, entry.sequence(),
             path.district_id(), path.street_id(), path.community_id(),
             times::UsOf(entry.create_time()));
        return absl::OkStatus();
      },
      OnUniqueViolation::kRace);
}

absl::Status PgLedgerStore::SettleHold(pqxx::dbtransaction& tx, const std::string& order_id,
                                       v1::HoldState state, const v1::Entry& entry, bool expired) {
  return InBatch([&] {
    Exec(tx,
         "UPDATE holds SET state = $2, settle_sequence = $3, expired = $4, "
         "settled_at = to_timestamp($5::bigint / 1000000.0) WHERE order_id = $1 AND state = "
         "hold_state('HELD')",
         order_id, static_cast<int>(state), entry.sequence(), expired,
         times::UsOf(entry.create_time()));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<v1::Hold>> PgLedgerStore::GetHold(const std::string& order_id) {
  std::optional<v1::Hold> hold;
  absl::Status s = pool_->WithReadConnection("read hold", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r = Exec(
        tx, absl::StrCat("SELECT ", kHoldColumns, " FROM holds h WHERE h.order_id = $1"), order_id);
    if (!r.empty()) hold = RowToHold(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return hold;
}

absl::StatusOr<std::vector<std::string>> PgLedgerStore::DueHolds(int limit) {
  std::vector<std::string> orders;
  absl::Status s = pool_->WithReadConnection("find due holds", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    for (const auto& row : Exec(
             tx,
             "SELECT order_id FROM holds WHERE state = hold_state('HELD') AND expire_time <= now() "
             "ORDER BY expire_time LIMIT $1",
             limit)) {
      orders.push_back(row["order_id"].c_str());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return orders;
}

}  // namespace civicpoints::ledger
