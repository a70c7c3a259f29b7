#include "tools/cpctl/csv.h"

#include <csv.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace civicpoints::cpctl {
namespace {

struct Builder {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> current;
};

void OnField(void* data, size_t len, void* out) {
  static_cast<Builder*>(out)->current.emplace_back(static_cast<const char*>(data), len);
}

void OnRecord(int, void* out) {
  auto* b = static_cast<Builder*>(out);
  b->records.push_back(std::move(b->current));
  b->current.clear();
}

}  // namespace

int CsvTable::Column(absl::string_view column) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == column) return static_cast<int>(i);
  }
  return -1;
}

std::string CsvTable::Field(const CsvRow& row, absl::string_view column) const {
  const int i = Column(column);
  if (i < 0 || static_cast<size_t>(i) >= row.fields.size()) return "";
  return std::string(absl::StripAsciiWhitespace(row.fields[i]));
}

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  struct csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
    return absl::InternalError("cannot start the CSV parser");
  }
  Builder b;
  const size_t parsed = csv_parse(&parser, text.data(), text.size(), OnField, OnRecord, &b);
  const bool ok = parsed == text.size() && csv_fini(&parser, OnField, OnRecord, &b) == 0;
  const int error = csv_error(&parser);
  csv_free(&parser);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CSV is malformed near row ", b.records.size() + 1, ": ", csv_strerror(error)));
  }
  if (b.records.empty()) return absl::InvalidArgumentError("CSV has no header row");
  CsvTable table;
  for (std::string& h : b.records[0]) {
    table.header.push_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(h)));
  }
  for (size_t i = 1; i < b.records.size(); ++i) {
    table.rows.push_back({.number = static_cast<int>(i + 1), .fields = std::move(b.records[i])});
  }
  return table;
}

absl::StatusOr<CsvTable> ReadCsvFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the file"));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<CsvTable> t = ParseCsv(text.str());
  if (!t.ok())
    return absl::Status(t.status().code(), absl::StrCat(path, ": ", t.status().message()));
  return t;
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  out += "\n";
  return out;
}

}  // namespace civicpoints::cpctl
