// PgLedgerStore's postings: post_entry() and award_entry() (migrations/0002, 0005), and the loads
// of an entry, a reversal and an account inside a batch transaction.
#include <optional>
#include <pqxx/array>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "civicpoints/ledger/v1/errors.pb.h"
#include "common/base/time_units.h"
#include "common/status/refusal.h"
#include "services/ledger/pg_ledger_rows.h"
#include "services/ledger/pg_ledger_store.h"

namespace civicpoints::ledger {

using pg_rows::Exec;
using pg_rows::InBatch;
using pg_rows::kAccountColumns;
using pg_rows::kEntryColumns;
using pg_rows::OnUniqueViolation;
using pg_rows::RowToAccount;
using pg_rows::RowToEntry;

namespace {

// post_entry()'s refusals (its SQLSTATEs CPL01..03) as statuses; nullopt for any other error. The
// transaction stays in error until the GroupCommitter rolls back to the unit's savepoint.
std::optional<absl::Status> PostingRefusal(const pqxx::sql_error& e) {
  const std::string state = e.sqlstate();
  std::string message = e.what();
  if (size_t nl = message.find('\n'); nl != std::string::npos) message.resize(nl);
  if (size_t colon = message.find(": "); colon != std::string::npos) message.erase(0, colon + 2);
  if (state == "CPL01") return absl::NotFoundError(message);
  if (state == "CPL02")
    return Refuse(absl::StatusCode::kFailedPrecondition,
                  v1::LEDGER_ERROR_REASON_INSUFFICIENT_POINTS, message);
  if (state == "CPL03")
    return Refuse(absl::StatusCode::kResourceExhausted, v1::LEDGER_ERROR_REASON_ACCOUNT_LIMIT,
                  message);
  return std::nullopt;
}

}  // namespace

absl::StatusOr<v1::Entry> PgLedgerStore::Post(pqxx::dbtransaction& tx, const Posting& p) {
  return InBatch(
      [&]() -> absl::StatusOr<v1::Entry> {
        try {
          pqxx::result r = Exec(
              tx,
              absl::StrCat(
                  "SELECT ", kEntryColumns,
                  " FROM post_entry($1, $2, $3::smallint, $4, $5, $6, $7, $8::smallint, $9, $10, "
                  "$11, $12, $13, $14, $15, $16, $17, $18, $19, "
                  "CASE WHEN $20::bigint = 0 THEN NULL "
                  "ELSE to_timestamp($20::bigint / 1000000.0) END) e"),
              p.person_id, p.open_account, static_cast<int>(p.kind), p.amount, p.available_delta,
              p.held_delta, p.earned_delta, static_cast<int>(p.source_kind), p.source_id,
              p.points_rule_id, p.verified_by, p.org_path.district_id(), p.org_path.street_id(),
              p.org_path.community_id(), p.reason, p.actor_id, p.order_id, p.reversed_entry_id,
              p.bulk_award_id, p.occur_time.has_value() ? times::Us(*p.occur_time) : int64_t{0});
          return RowToEntry(r[0]);
        } catch (const pqxx::sql_error& e) {
          if (std::optional<absl::Status> refused = PostingRefusal(e)) return *refused;
          throw;
        }
      },
      // Only a reversal can meet one: entries_one_reversal_per_award (migrations/0002).
      OnUniqueViolation::kRace);
}

absl::StatusOr<PgLedgerStore::AwardResult> PgLedgerStore::PostAward(pqxx::dbtransaction& tx,
                                                                    const Posting& p) {
  static const std::string kSql = absl::StrCat(
      "SELECT ", kEntryColumns, ", ", kAccountColumns,
      ", x.duplicate_of "
      "FROM award_entry($1, $2, $3::smallint, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
      "CASE WHEN $13::bigint = 0 THEN NULL ELSE to_timestamp($13::bigint / 1000000.0) END) x, "
      "LATERAL (SELECT (x.entry).*) e, LATERAL (SELECT (x.account).*) a");
  return InBatch([&]() -> absl::StatusOr<AwardResult> {
    try {
      pqxx::result r =
          Exec(tx, kSql, p.person_id, p.amount, static_cast<int>(p.source_kind), p.source_id,
               p.points_rule_id, p.verified_by, p.org_path.district_id(), p.org_path.street_id(),
               p.org_path.community_id(), p.reason, p.actor_id, p.bulk_award_id,
               p.occur_time.has_value() ? times::Us(*p.occur_time) : int64_t{0});
      const pqxx::row row = r[0];
      AwardResult out;
      out.entry = RowToEntry(row);
      out.account = RowToAccount(row);
      out.duplicate_of = row["duplicate_of"].c_str();
      return out;
    } catch (const pqxx::sql_error& e) {
      if (std::optional<absl::Status> refused = PostingRefusal(e)) return *refused;
      throw;
    }
  });
}

absl::StatusOr<std::optional<v1::Entry>> PgLedgerStore::LoadEntry(pqxx::dbtransaction& tx,
                                                                  const std::string& entry_id) {
  return InBatch([&]() -> absl::StatusOr<std::optional<v1::Entry>> {
    return pg_rows::QueryEntry(tx, entry_id);
  });
}

absl::StatusOr<std::optional<v1::Entry>> PgLedgerStore::FindReversal(pqxx::dbtransaction& tx,
                                                                     const std::string& entry_id) {
  return InBatch([&]() -> absl::StatusOr<std::optional<v1::Entry>> {
    return pg_rows::QueryReversal(tx, entry_id);
  });
}

absl::StatusOr<std::optional<v1::Account>> PgLedgerStore::LoadAccountTx(
    pqxx::dbtransaction& tx, const std::string& person_id) {
  return InBatch([&]() -> absl::StatusOr<std::optional<v1::Account>> {
    return pg_rows::QueryAccount(tx, person_id);
  });
}

}  // namespace civicpoints::ledger
