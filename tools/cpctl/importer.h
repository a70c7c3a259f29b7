// The import loop shared by `cpctl import riders|places`: check the header, check every row
// locally, then send each good row as exactly one idempotent call whose key is derived from the
// row's content (so running the same file again creates nothing twice), retrying throttled or
// unavailable calls under the same key, with a progress bar and a per-row error report.
//
//   PlaceRowImporter rows(client);
//   absl::StatusOr<ImportResult> r = RunImport(table, rows, {.label = "import places"});
#ifndef CIVICPOINTS_TOOLS_CPCTL_IMPORTER_H_
#define CIVICPOINTS_TOOLS_CPCTL_IMPORTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/cpctl/csv.h"

namespace civicpoints::cpctl {

// A bad row: the row number, the column at fault ("" when no single column is) and why.
struct RowError {
  int row = 0;
  std::string field;
  std::string code;  // "INVALID_ROW" for local checks, else the gRPC code name
  std::string message;
};

// What one kind of row becomes. Implementations hold the client and any lookups they cache.
class RowImporter {
 public:
  virtual ~RowImporter() = default;
  // The columns a file must have, and the ones it may have.
  virtual std::vector<std::string> RequiredColumns() const = 0;
  virtual std::vector<std::string> OptionalColumns() const = 0;
  // Checks `row` without calling the server; the error names the column in *field.
  virtual absl::Status Check(const CsvTable& table, const CsvRow& row, std::string* field) = 0;
  // Sends `row` as one call under `key`. Sets *created to false when the server already had it
  // (made by an earlier run) and *field to the column a refusal is about, when known.
  virtual absl::Status Send(const CsvTable& table, const CsvRow& row, const std::string& key,
                            absl::Time run_start, bool* created, std::string* field) = 0;
};

struct ImportOptions {
  std::string label = "import";
  std::string key_prefix = "cpctl-import";
  // How long one row may wait in total for a throttled or unavailable server before it is reported.
  absl::Duration max_wait = absl::Seconds(60);
  bool dry_run = false;  // check rows locally only
};

struct ImportResult {
  size_t rows = 0;
  size_t created = 0;
  size_t existing = 0;  // rows an earlier run had already imported
  std::vector<RowError> errors;
};

// INVALID_ARGUMENT when the header lacks a required column or has an unknown one (nothing is sent);
// UNAUTHENTICATED when the session is refused mid-way, UNAVAILABLE when the gateway stays down
// (the rows sent so far stay imported; running the file again completes it). Otherwise the result,
// with the bad rows in `errors`.
absl::StatusOr<ImportResult> RunImport(const CsvTable& table, RowImporter& importer,
                                       const ImportOptions& options);

// The row's idempotency key: prefix + a BLAKE2b digest of its (column, value) pairs in column order
// of name, so the same row content gives the same key whatever the column order.
std::string RowKey(const std::string& prefix, const CsvTable& table, const CsvRow& row);

// Writes the errors as CSV (row,field,code,message) to `path`.
absl::Status WriteErrorReport(const std::string& path, const std::vector<RowError>& errors);

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_IMPORTER_H_
