// PgLedgerStore: idempotency keys, and what every area's file shares: how entries, accounts and
// ranking rows are read (pg_ledger_rows.h) and how a batch transaction's failure becomes a status.
// The areas live beside it: pg_postings.cc, pg_holds.cc, pg_statements.cc, pg_rankings.cc and
// pg_seasons.cc.
#include "services/ledger/pg_ledger_store.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "common/pg/pg_errors.h"
#include "services/ledger/pg_ledger_rows.h"

namespace civicpoints::ledger {
namespace pg_rows {
namespace {

// Marks a status as the database failing a statement of a batch transaction (dropped on the wire:
// grpc_status.h sends only google.rpc details).
constexpr char kDatabaseFailureType[] = "type.civicpoints.dev/ledger.DatabaseFailure";

// An optional org path of three columns: set only when the community is.
template <typename Proto>
void SetPath(Proto* out, const pqxx::field& district, const pqxx::field& street,
             const pqxx::field& community) {
  if (community.is_null() || std::string(community.c_str()).empty()) return;
  out->mutable_org_path()->set_district_id(district.c_str());
  out->mutable_org_path()->set_street_id(street.c_str());
  out->mutable_org_path()->set_community_id(community.c_str());
}

}  // namespace

v1::Entry RowToEntry(const pqxx::row& r) {
  v1::Entry e;
  e.set_sequence(r["sequence"].as<int64_t>());
  e.set_entry_id(r["sequence"].c_str());
  e.set_person_id(r["person_id"].c_str());
  e.set_account_sequence(r["account_sequence"].as<int64_t>());
  e.set_kind(static_cast<v1::EntryKind>(r["kind"].as<int>()));
  e.set_amount(r["amount"].as<int64_t>());
  e.set_available_delta(r["available_delta"].as<int64_t>());
  e.set_held_delta(r["held_delta"].as<int64_t>());
  e.set_earned_delta(r["earned_delta"].as<int64_t>());
  e.set_available_after(r["available_after"].as<int64_t>());
  e.set_held_after(r["held_after"].as<int64_t>());
  e.set_source_kind(static_cast<v1::SourceKind>(r["source_kind"].as<int>()));
  e.set_source_id(r["source_id"].c_str());
  e.set_points_rule_id(r["points_rule_id"].c_str());
  e.set_verified_by_person_id(r["verified_by"].c_str());
  SetPath(&e, r["district_id"], r["street_id"], r["community_id"]);
  e.set_reason(r["reason"].c_str());
  e.set_actor_id(r["actor_id"].c_str());
  e.set_order_id(r["order_id"].c_str());
  e.set_reversed_entry_id(r["reversed_entry_id"].c_str());
  e.set_bulk_award_id(r["bulk_award_id"].c_str());
  SetTime(e.mutable_occur_time(), r["occur_micros"].as<int64_t>());
  SetTime(e.mutable_create_time(), r["created_micros"].as<int64_t>());
  e.set_prev_hash(Bytes(r["prev_hash"]));
  e.set_hash(Bytes(r["hash"]));
  return e;
}

v1::Account RowToAccount(const pqxx::row& r) {
  v1::Account a;
  a.set_person_id(r["account_person_id"].c_str());
  a.set_available(r["account_available"].as<int64_t>());
  a.set_held(r["account_held"].as<int64_t>());
  a.set_lifetime_earned(r["account_gross_earned"].as<int64_t>());
  a.set_net_earned(r["account_earned"].as<int64_t>());
  a.set_lifetime_spent(r["account_spent"].as<int64_t>());
  SetPath(&a, r["account_district_id"], r["account_street_id"], r["account_community_id"]);
  a.set_ranking_excluded(r["account_ranking_excluded"].as<bool>());
  a.set_entry_count(r["account_entry_count"].as<int64_t>());
  a.set_head_hash(Bytes(r["account_head_hash"]));
  SetTime(a.mutable_create_time(), r["account_created_micros"].as<int64_t>());
  SetTime(a.mutable_update_time(), r["account_updated_micros"].as<int64_t>());
  return a;
}

std::string Bytes(const pqxx::field& f) { return pqxx::binarystring(f).str(); }

std::string HexArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += absl::BytesToHexString(items[i]);
  }
  out.push_back('}');
  return out;
}

std::string TimestampText(int64_t micros) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", absl::FromUnixMicros(micros),
                          absl::UTCTimeZone());
}

std::optional<v1::Entry> QueryEntry(pqxx::transaction_base& tx, const std::string& entry_id) {
  int64_t sequence = 0;
  if (!absl::SimpleAtoi(entry_id, &sequence) || sequence <= 0) return std::nullopt;
  pqxx::result r =
      Exec(tx, absl::StrCat("SELECT ", kEntryColumns, " FROM entries e WHERE e.sequence = $1"),
           sequence);
  if (r.empty()) return std::nullopt;
  return RowToEntry(r[0]);
}

std::optional<v1::Entry> QueryReversal(pqxx::transaction_base& tx, const std::string& entry_id) {
  pqxx::result r = Exec(
      tx,
      absl::StrCat(
          "SELECT ", kEntryColumns,
          " FROM entries e WHERE e.kind = entry_kind('REVERSAL') AND e.reversed_entry_id = $1"),
      entry_id);
  if (r.empty()) return std::nullopt;
  return RowToEntry(r[0]);
}

std::optional<v1::Account> QueryAccount(pqxx::transaction_base& tx, const std::string& person_id) {
  pqxx::result r =
      Exec(tx, absl::StrCat("SELECT ", kAccountColumns, " FROM accounts a WHERE a.person_id = $1"),
           person_id);
  if (r.empty()) return std::nullopt;
  return RowToAccount(r[0]);
}

absl::Status DatabaseFailure(std::exception_ptr error) {
  // The words the GroupCommitter used when these exceptions still reached it.
  absl::Status s = pg::StatusFromException(error, "apply ledger change");
  s.SetPayload(kDatabaseFailureType, absl::Cord());
  return s;
}

absl::Status LostRace() {
  return absl::AbortedError("a concurrent request changed the same record; retrying");
}

}  // namespace pg_rows

using pg_rows::Bytes;
using pg_rows::Exec;
using pg_rows::InBatch;
using pg_rows::OnUniqueViolation;

bool PgLedgerStore::IsDatabaseFailure(const absl::Status& status) {
  return status.GetPayload(pg_rows::kDatabaseFailureType).has_value();
}

absl::StatusOr<std::optional<IdempotentResult>> PgLedgerStore::FindIdempotent(
    pqxx::dbtransaction& tx, const std::string& caller, const std::string& method,
    const std::string& key, bool legacy) {
  return InBatch([&]() -> absl::StatusOr<std::optional<IdempotentResult>> {
    // Rows from before migrations/0007 have an empty caller; the caller's own row sorts first.
    pqxx::result r = Exec(tx,
                          "SELECT request_hash, response FROM idempotency_keys "
                          "WHERE caller IN ($1, CASE WHEN $4 THEN '' ELSE $1 END) "
                          "AND method = $2 AND key = $3 ORDER BY caller DESC LIMIT 1",
                          caller, method, key, legacy);
    if (r.empty()) return std::nullopt;
    return IdempotentResult{Bytes(r[0]["request_hash"]), Bytes(r[0]["response"])};
  });
}

absl::Status PgLedgerStore::SaveIdempotent(pqxx::dbtransaction& tx, const std::string& caller,
                                           const std::string& method, const std::string& key,
                                           const std::string& request_hash,
                                           const std::string& response) {
  return InBatch(
      [&] {
        Exec(tx,
             "INSERT INTO idempotency_keys (caller, method, key, request_hash, response) "
             "VALUES ($1, $2, $3, $4, $5)",
             caller, method, key, pqxx::binarystring(request_hash), pqxx::binarystring(response));
        return absl::OkStatus();
      },
      OnUniqueViolation::kRace);
}

}  // namespace civicpoints::ledger
