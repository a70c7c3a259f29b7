// Turns libpqxx exceptions into absl::Status, so no exception and no SQL text crosses a store's
// boundary. The full server message goes to the log; the caller gets a code and a short reason.
#ifndef CIVICPOINTS_COMMON_PG_PG_ERRORS_H_
#define CIVICPOINTS_COMMON_PG_PG_ERRORS_H_

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace civicpoints::pg {

// Maps the exception being handled (call inside a catch block) to a status:
// broken connection → UNAVAILABLE; unique violation → ALREADY_EXISTS; check, foreign-key and
// not-null violations → FAILED_PRECONDITION; serialization failure and deadlock → ABORTED; query
// cancelled by statement timeout → DEADLINE_EXCEEDED; anything else → INTERNAL. `what` names the
// operation for the message ("apply award").
absl::Status StatusFromException(std::exception_ptr error, absl::string_view what);

// Maps a PostgreSQL SQLSTATE to a status code, as above (exposed for tests).
absl::StatusCode CodeForSqlState(absl::string_view sqlstate);

}  // namespace civicpoints::pg

#endif  // CIVICPOINTS_COMMON_PG_PG_ERRORS_H_
