// CSV in and out (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes), read with
// libcsv. Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row 2.
//
//   absl::StatusOr<CsvTable> t = ReadCsvFile("places.csv");
//   for (const CsvRow& row : t->rows) ... t->Field(row, "name") ...
//   std::cout << CsvLine({"day", "points"});
#ifndef CIVICPOINTS_TOOLS_CPCTL_CSV_H_
#define CIVICPOINTS_TOOLS_CPCTL_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace civicpoints::cpctl {

struct CsvRow {
  int number = 0;  // 2 for the first row after the header
  std::vector<std::string> fields;
};

struct CsvTable {
  std::vector<std::string> header;  // trimmed, lower case
  std::vector<CsvRow> rows;

  // Index of `column` in the header, or -1.
  int Column(absl::string_view column) const;
  // The row's value of `column`, trimmed; "" when the column is absent or the row is short.
  std::string Field(const CsvRow& row, absl::string_view column) const;
};

// Parses CSV text (a UTF-8 byte order mark is skipped; blank lines are ignored). INVALID_ARGUMENT
// naming the row when the text is malformed (an unterminated quote) or has no header.
absl::StatusOr<CsvTable> ParseCsv(absl::string_view text);
// ParseCsv of a file's contents; NOT_FOUND when it cannot be opened.
absl::StatusOr<CsvTable> ReadCsvFile(const std::string& path);

// One CSV record ending in "\n", fields quoted where needed.
std::string CsvLine(const std::vector<std::string>& fields);

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_CSV_H_
