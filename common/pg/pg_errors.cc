#include "common/pg/pg_errors.h"

#include <pqxx/except>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log/log.h"

namespace civicpoints::pg {

absl::StatusCode CodeForSqlState(absl::string_view sqlstate) {
  if (sqlstate == "23505") return absl::StatusCode::kAlreadyExists;
  if (sqlstate == "23514" || sqlstate == "23503" || sqlstate == "23502") {
    return absl::StatusCode::kFailedPrecondition;
  }
  if (sqlstate == "40001" || sqlstate == "40P01") return absl::StatusCode::kAborted;
  if (sqlstate == "57014") return absl::StatusCode::kDeadlineExceeded;
  // Class 08: connection exception; 57P01..03: admin shutdown, crash shutdown, cannot connect now.
  if (absl::StartsWith(sqlstate, "08") || absl::StartsWith(sqlstate, "57P")) {
    return absl::StatusCode::kUnavailable;
  }
  if (sqlstate == "53300") return absl::StatusCode::kUnavailable;  // too many connections
  return absl::StatusCode::kInternal;
}

absl::Status StatusFromException(std::exception_ptr error, absl::string_view what) {
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::broken_connection& e) {
    log::Warn("database connection lost", {{"op", what}, {"error", e.what()}});
    return absl::UnavailableError(absl::StrCat(what, ": database connection lost"));
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    const absl::StatusCode code = CodeForSqlState(state);
    log::Warn("database error", {{"op", what}, {"sqlstate", state}, {"error", e.what()}});
    return absl::Status(code,
                        absl::StrCat(what, ": database refused the change (SQLSTATE ", state, ")"));
  } catch (const pqxx::transaction_rollback& e) {
    // Deadlock or serialization failure: the server rolled the statement back; a retry may pass.
    log::Info("transaction rolled back by the server", {{"op", what}, {"error", e.what()}});
    return absl::AbortedError(absl::StrCat(what, ": concurrent change, retry"));
  } catch (const pqxx::in_doubt_error& e) {
    log::Error("commit outcome unknown", {{"op", what}, {"error", e.what()}});
    return absl::UnavailableError(
        absl::StrCat(what, ": database connection lost during commit; outcome unknown, retry"));
  } catch (const std::exception& e) {
    log::Error("database operation failed", {{"op", what}, {"error", e.what()}});
    return absl::InternalError(absl::StrCat(what, ": database operation failed"));
  } catch (...) {
    log::Error("database operation failed with a non-standard exception", {{"op", what}});
    return absl::InternalError(absl::StrCat(what, ": database operation failed"));
  }
  return absl::InternalError(absl::StrCat(what, ": unknown error"));
}

}  // namespace civicpoints::pg
