#include "common/pg/migrations.h"

#include <sodium.h>

#include <map>
#include <pqxx/pqxx>
#include <regex>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/pg/pg_errors.h"

namespace civicpoints::pg {
namespace {

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string FirstLine(std::string text) {
  if (size_t nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  return text;
}

// Releases the session-level advisory lock however the run ends.
class AdvisoryLock {
 public:
  AdvisoryLock(pqxx::connection_base& conn, std::string key) : conn_(conn), key_(std::move(key)) {
    pqxx::nontransaction tx(conn_);
    tx.exec_params("SELECT pg_advisory_lock(hashtext($1))", key_);
  }
  ~AdvisoryLock() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec_params("SELECT pg_advisory_unlock(hashtext($1))", key_);
    } catch (const std::exception&) {
      // The session is gone, and the lock with it.
    }
  }

 private:
  pqxx::connection_base& conn_;
  std::string key_;
};

// Lifts the pool's statement_timeout while migrations run (waiting for the lock that another
// replica holds, or building an index, may take longer) and restores it after.
class NoStatementTimeout {
 public:
  explicit NoStatementTimeout(pqxx::connection_base& conn) : conn_(conn) {
    pqxx::nontransaction tx(conn_);
    saved_ = tx.exec1("SHOW statement_timeout")[0].c_str();
    tx.exec("SET statement_timeout = 0");
  }
  ~NoStatementTimeout() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec("SET statement_timeout = " + tx.quote(saved_));
    } catch (const std::exception&) {
      // The session is gone; a new one starts with the pool's settings.
    }
  }

 private:
  pqxx::connection_base& conn_;
  std::string saved_;
};

}  // namespace

absl::StatusOr<std::vector<Migration>> MigrationsFromFiles(
    std::vector<std::pair<std::string, std::string>> files) {
  static const std::regex kName(R"(^(\d{4})_[a-z0-9_]+\.sql$)");
  std::map<int, Migration> by_version;
  for (auto& [name, sql] : files) {
    std::smatch m;
    if (!std::regex_match(name, m, kName)) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration file '", name, "' is not named NNNN_lower_words.sql"));
    }
    int version = 0;
    (void)absl::SimpleAtoi(m[1].str(), &version);
    if (version == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration '", name, "': versions start at 0001"));
    }
    auto [it, inserted] = by_version.emplace(version, Migration{version, name, std::move(sql)});
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("migrations '", it->second.name, "' and '",
                                                     name, "' share version ", version));
    }
  }
  std::vector<Migration> out;
  for (auto& [version, migration] : by_version) out.push_back(std::move(migration));
  return out;
}

absl::StatusOr<MigrationReport> ApplyMigrations(pqxx::connection_base& conn,
                                                const std::string& schema,
                                                const std::vector<Migration>& migrations,
                                                const SqlEnums& enums) {
  static const std::regex kSchema(R"(^[a-z][a-z0-9_]{0,62}$)");
  if (!std::regex_match(schema, kSchema)) {
    return absl::InvalidArgumentError(absl::StrCat("schema name '", schema, "' is not valid"));
  }
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  MigrationReport report;
  const Migration* current = nullptr;
  try {
    NoStatementTimeout no_timeout(conn);
    AdvisoryLock lock(conn, "civicpoints.migrations." + schema);
    {
      pqxx::work tx(conn);
      const std::string s = tx.quote_name(schema);
      tx.exec("CREATE SCHEMA IF NOT EXISTS " + s);
      tx.exec("CREATE TABLE IF NOT EXISTS " + s +
              ".schema_migrations ("
              " version integer PRIMARY KEY,"
              " name text NOT NULL,"
              " checksum text NOT NULL,"
              " applied_at timestamptz NOT NULL DEFAULT now())");
      // The enums' names, as this binary's protos spell them, before any file that uses them.
      if (!enums.empty()) tx.exec(SqlEnumFunctions(schema, enums));
      tx.commit();
    }
    std::map<int, std::pair<std::string, std::string>> recorded;  // version → name, checksum
    {
      pqxx::read_transaction tx(conn);
      for (const auto& row :
           tx.exec("SELECT version, name, checksum FROM " + tx.quote_name(schema) +
                   ".schema_migrations ORDER BY version")) {
        recorded[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
      }
    }
    std::set<int> known;
    for (const Migration& m : migrations) {
      known.insert(m.version);
      current = &m;
      const std::string checksum = Sha256Hex(m.sql);
      if (auto it = recorded.find(m.version); it != recorded.end()) {
        if (it->second.second != checksum) {
          return absl::FailedPreconditionError(
              absl::StrCat("migration ", m.name, " was changed after it was applied to schema ",
                           schema, "; add a new migration instead of editing an applied one"));
        }
        ++report.already_applied;
        continue;
      }
      pqxx::work tx(conn);
      tx.exec("SET LOCAL search_path TO " + tx.quote_name(schema) + ", public");
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO " + tx.quote_name(schema) +
                         ".schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                     m.version, m.name, checksum);
      tx.commit();
      ++report.applied;
      log::Info("migration applied", {{"schema", schema}, {"migration", m.name}});
    }
    for (const auto& [version, entry] : recorded) {
      if (known.count(version) == 0) {
        log::Warn("database has a migration this binary does not know",
                  {{"schema", schema}, {"migration", entry.first}});
      }
    }
  } catch (const pqxx::sql_error& e) {
    const std::string which = current != nullptr ? current->name : "(bookkeeping)";
    return absl::FailedPreconditionError(
        absl::StrCat("migration ", which, " of schema ", schema,
                     " failed and was rolled back: ", FirstLine(e.what())));
  } catch (...) {
    return StatusFromException(std::current_exception(), "apply migrations");
  }
  return report;
}

}  // namespace civicpoints::pg
