// Internal to PgLedgerStore (pg_*.cc): the column list of each row type and how its rows are read
// (by column name), the statement runner, and how a statement of a caller's batch transaction
// becomes a status (the convention stated in pg_ledger_store.h). Not for the rules.
#ifndef CIVICPOINTS_SERVICES_LEDGER_PG_LEDGER_ROWS_H_
#define CIVICPOINTS_SERVICES_LEDGER_PG_LEDGER_ROWS_H_

#include <exception>
#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "civicpoints/ledger/v1/account.pb.h"
#include "civicpoints/ledger/v1/entry.pb.h"
#include "common/base/time_units.h"
#include "common/pg/prepared.h"
#include "common/pg/sql_values.h"
#include "google/protobuf/timestamp.pb.h"

namespace civicpoints::ledger::pg_rows {

// Columns of an entry (table alias `e`), read by RowToEntry by these names; times as epoch
// microseconds.
inline constexpr char kEntryColumns[] =
    "e.sequence, e.person_id, e.account_sequence, e.kind, e.amount, e.available_delta, "
    "e.held_delta, e.earned_delta, e.available_after, e.held_after, e.source_kind, e.source_id, "
    "e.points_rule_id, e.verified_by, e.district_id, e.street_id, e.community_id, e.reason, "
    "e.actor_id, e.order_id, e.reversed_entry_id, e.bulk_award_id, "
    "(extract(epoch FROM e.occur_time) * 1000000)::bigint AS occur_micros, "
    "(extract(epoch FROM e.created_at) * 1000000)::bigint AS created_micros, e.prev_hash, e.hash";
v1::Entry RowToEntry(const pqxx::row& r);

// Columns of an account (table alias `a`), named account_* so that they can share a row with an
// entry's.
inline constexpr char kAccountColumns[] =
    "a.person_id AS account_person_id, a.available AS account_available, "
    "a.held AS account_held, a.gross_earned AS account_gross_earned, "
    "a.earned AS account_earned, a.spent AS account_spent, a.district_id AS account_district_id, "
    "a.street_id AS account_street_id, a.community_id AS account_community_id, "
    "a.ranking_excluded AS account_ranking_excluded, a.entry_count AS account_entry_count, "
    "a.head_hash AS account_head_hash, "
    "(extract(epoch FROM a.created_at) * 1000000)::bigint AS account_created_micros, "
    "(extract(epoch FROM a.updated_at) * 1000000)::bigint AS account_updated_micros";
v1::Account RowToAccount(const pqxx::row& r);

// Times and array parameters as every service moves them.
using pg::IntArray;
using pg::TextArray;
using times::SetTime;

std::string Bytes(const pqxx::field& f);
// A PostgreSQL text[] literal of each item's bytes in hex, for decode(…, 'hex') into bytea.
std::string HexArray(const std::vector<std::string>& items);
// A timestamptz literal in UTC that PostgreSQL reads back to the exact microsecond.
std::string TimestampText(int64_t micros);

// Statements run prepared (common/pg/prepared.h).
using pg::Exec;

// Loads shared by the batch-transaction methods and the reads; these throw the database's errors
// (a read's connection handling needs them thrown).
std::optional<v1::Entry> QueryEntry(pqxx::transaction_base& tx, const std::string& entry_id);
std::optional<v1::Entry> QueryReversal(pqxx::transaction_base& tx, const std::string& entry_id);
std::optional<v1::Account> QueryAccount(pqxx::transaction_base& tx, const std::string& person_id);

// The status of the exception being handled, thrown by a statement of a batch transaction:
// pg::StatusFromException's, marked so PgLedgerStore::IsDatabaseFailure knows it.
absl::Status DatabaseFailure(std::exception_ptr error);
// A unique violation where another transaction committed the same row first: ABORTED, so the unit
// is run again and then sees that row (a replay, or a precise refusal).
absl::Status LostRace();

enum class OnUniqueViolation { kFail, kRace };

// Runs `fn` (statements on a caller's batch transaction; returns absl::Status or StatusOr) and
// returns its result, or the status of what it threw (see above).
template <typename F>
auto InBatch(F&& fn, OnUniqueViolation unique = OnUniqueViolation::kFail) -> decltype(fn()) {
  try {
    return fn();
  } catch (const pqxx::unique_violation&) {
    if (unique == OnUniqueViolation::kRace) return LostRace();
    return DatabaseFailure(std::current_exception());
  } catch (...) {
    return DatabaseFailure(std::current_exception());
  }
}

}  // namespace civicpoints::ledger::pg_rows

#endif  // CIVICPOINTS_SERVICES_LEDGER_PG_LEDGER_ROWS_H_
