// cpctl's CSV reader on an import file (places, riders) a community worker exported from a
// spreadsheet. Properties: a refusal is INVALID_ARGUMENT; rows are numbered upwards from 2 as a
// spreadsheet shows them; a field of any row can be asked for by any column without harm; a
// table written back with CsvLine reads to the same header.
#include "absl/strings/ascii.h"
#include "tests/fuzz/fuzz_support.h"
#include "tools/cpctl/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace civicpoints;
  const absl::StatusOr<cpctl::CsvTable> table =
      cpctl::ParseCsv(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!table.ok()) {
    FUZZ_CHECK(table.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  int previous = 1;
  for (const cpctl::CsvRow& row : table->rows) {
    FUZZ_CHECK(row.number > previous);
    previous = row.number;
    for (const std::string& column : table->header) (void)table->Field(row, column);
    (void)table->Field(row, "no such column");
  }
  bool header_blank = true;
  for (const std::string& name : table->header) header_blank &= name.empty();
  if (header_blank) return 0;  // a blank line is skipped, so it would not read back as a header
  const std::string line = cpctl::CsvLine(table->header);
  // A header that starts with a second byte order mark would lose it as the file's own mark.
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) return 0;
  const absl::StatusOr<cpctl::CsvTable> again = cpctl::ParseCsv(line);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->header == table->header);
  return 0;
}
