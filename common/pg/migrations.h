// Versioned schema migrations for one service's schema.
//
// A service ships numbered files `migrations/NNNN_what.sql`, embedded in its binary at build time
// (cmake/Migrations.cmake). At start ApplyMigrations() takes a PostgreSQL advisory lock for the
// schema (so replicas starting together apply each file once), creates the schema and its
// `schema_migrations` table, (re)creates the functions naming the service's enum values in SQL
// (sql_enums.h), and applies each file not yet recorded in its own transaction, with
// the record of it. A file that fails rolls back whole and is named in the error. A recorded file
// whose text changed since is refused: migrations are append-only.
#ifndef CIVICPOINTS_COMMON_PG_MIGRATIONS_H_
#define CIVICPOINTS_COMMON_PG_MIGRATIONS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/pg/sql_enums.h"

namespace pqxx {
class connection_base;
}

namespace civicpoints::pg {

struct Migration {
  int version = 0;
  std::string name;  // file name, e.g. "0001_create_journal.sql"
  std::string sql;
};

// Builds the ordered list from (file name, text) pairs. Errors: INVALID_ARGUMENT when a name is
// not `NNNN_lower_words.sql` or two files share a version.
absl::StatusOr<std::vector<Migration>> MigrationsFromFiles(
    std::vector<std::pair<std::string, std::string>> files);

struct MigrationReport {
  int applied = 0;          // files applied by this call
  int already_applied = 0;  // files found recorded
};

// Applies pending migrations to `schema` as described above. Errors: INVALID_ARGUMENT for a bad
// schema name; FAILED_PRECONDITION naming the file when one fails or was changed after it was
// applied; UNAVAILABLE when the connection is lost.
absl::StatusOr<MigrationReport> ApplyMigrations(pqxx::connection_base& conn,
                                                const std::string& schema,
                                                const std::vector<Migration>& migrations,
                                                const SqlEnums& enums = {});

}  // namespace civicpoints::pg

#endif  // CIVICPOINTS_COMMON_PG_MIGRATIONS_H_
