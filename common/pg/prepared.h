// Runs a statement as a prepared statement of its connection, so PostgreSQL parses and plans it
// once per connection instead of on every call. Named after a hash of its text: the first call on a
// connection registers it (libpqxx prepares it with the server on first use, and again after a
// reconnect), later calls with the same text are a map lookup. For the statements of hot paths;
// a statement whose best plan depends on its parameters (optional filters written
// `($2 = '' OR col = $2)`) is better left to exec_params, since after five runs PostgreSQL may
// keep one generic plan for every parameter.
//
//   pqxx::result r = pg::Exec(tx, "SELECT available FROM station_stock WHERE station_id = $1", id);
#ifndef CIVICPOINTS_COMMON_PG_PREPARED_H_
#define CIVICPOINTS_COMMON_PG_PREPARED_H_

#include <functional>
#include <pqxx/pqxx>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace civicpoints::pg {

template <typename... Args>
pqxx::result Exec(pqxx::transaction_base& tx, const std::string& sql, Args&&... args) {
  const std::string name = absl::StrCat("cp_", absl::Hex(std::hash<std::string>{}(sql)));
  tx.conn().prepare(name, sql);  // registers once; the same text again is a lookup
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

}  // namespace civicpoints::pg

#endif  // CIVICPOINTS_COMMON_PG_PREPARED_H_
