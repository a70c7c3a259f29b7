#include "tools/cpctl/importer.h"

#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status/grpc_status.h"
#include "tools/cpctl/progress.h"

namespace civicpoints::cpctl {
namespace {

bool Retryable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kResourceExhausted ||
         s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

// A failure that no later row can escape: stop instead of reporting every row.
bool Fatal(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnauthenticated ||
         s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

absl::Status CheckHeader(const CsvTable& table, const RowImporter& importer) {
  const std::vector<std::string> required = importer.RequiredColumns();
  std::vector<std::string> known = required;
  for (const std::string& c : importer.OptionalColumns()) known.push_back(c);
  for (const std::string& c : required) {
    if (table.Column(c) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the header has no column '", c, "' (required: ", absl::StrJoin(required, ","), ")"));
    }
  }
  std::map<std::string, int> seen;
  for (const std::string& h : table.header) {
    if (std::find(known.begin(), known.end(), h) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("the header has an unknown column '", h,
                                                     "' (known: ", absl::StrJoin(known, ","), ")"));
    }
    if (++seen[h] > 1) {
      return absl::InvalidArgumentError(absl::StrCat("the header names column '", h, "' twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string RowKey(const std::string& prefix, const CsvTable& table, const CsvRow& row) {
  std::map<std::string, std::string> pairs;
  for (const std::string& column : table.header) pairs[column] = table.Field(row, column);
  std::string canonical;
  for (const auto& [column, value] : pairs) {
    absl::StrAppend(&canonical, column.size(), ":", column, value.size(), ":", value, ";");
  }
  unsigned char digest[16];
  crypto_generichash(digest, sizeof digest,
                     reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(),
                     nullptr, 0);
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return absl::StrCat(prefix, "-", hex);
}

absl::StatusOr<ImportResult> RunImport(const CsvTable& table, RowImporter& importer,
                                       const ImportOptions& options) {
  if (absl::Status s = CheckHeader(table, importer); !s.ok()) return s;
  ImportResult result;
  result.rows = table.rows.size();

  std::vector<const CsvRow*> good;
  for (const CsvRow& row : table.rows) {
    std::string field;
    if (absl::Status s = importer.Check(table, row, &field); !s.ok()) {
      result.errors.push_back({row.number, field, "INVALID_ROW", std::string(s.message())});
    } else {
      good.push_back(&row);
    }
  }
  if (options.dry_run) return result;

  const absl::Time run_start = absl::Now();
  Progress progress(options.label, table.rows.size());
  size_t done = result.errors.size();
  progress.Update(done, result.errors.size());
  for (const CsvRow* row : good) {
    const std::string key = RowKey(options.key_prefix, table, *row);
    const absl::Time give_up = absl::Now() + options.max_wait;
    absl::Duration backoff = absl::Milliseconds(250);
    absl::Status s;
    bool created = true;
    std::string field;
    while (true) {
      field.clear();
      s = importer.Send(table, *row, key, run_start, &created, &field);
      if (!Retryable(s)) break;
      absl::Duration wait = RetryDelayOf(s).value_or(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
      if (absl::Now() + wait > give_up) break;
      absl::SleepFor(wait);
    }
    ++done;
    if (s.ok()) {
      ++(created ? result.created : result.existing);
    } else {
      result.errors.push_back(
          {row->number, field, absl::StatusCodeToString(s.code()), std::string(s.message())});
      if (Fatal(s)) {
        progress.Finish(done, result.errors.size());
        return absl::Status(s.code(),
                            absl::StrCat("stopped at row ", row->number, ": ", s.message(),
                                         " (rows before it are imported; "
                                         "run the same file again)"));
      }
    }
    progress.Update(done, result.errors.size());
  }
  progress.Finish(done, result.errors.size());
  std::sort(result.errors.begin(), result.errors.end(),
            [](const RowError& a, const RowError& b) { return a.row < b.row; });
  return result;
}

absl::Status WriteErrorReport(const std::string& path, const std::vector<RowError>& errors) {
  std::ofstream out(path, std::ios::trunc);
  if (!out)
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot write the error report"));
  out << CsvLine({"row", "field", "code", "message"});
  for (const RowError& e : errors) {
    out << CsvLine({absl::StrCat(e.row), e.field, e.code, e.message});
  }
  out.flush();
  if (!out) return absl::InternalError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

}  // namespace civicpoints::cpctl
