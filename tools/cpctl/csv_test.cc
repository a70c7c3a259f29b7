#include "tools/cpctl/csv.h"

#include "gtest/gtest.h"

namespace civicpoints::cpctl {
namespace {

TEST(CsvTest, ReadsQuotedFieldsAndNumbersRowsLikeASpreadsheet) {
  absl::StatusOr<CsvTable> t = ParseCsv(
      "\xEF\xBB\xBF Name ,Address\n"
      "\"驿站, 一号\",\"清远西街\"\"12\"\"号\"\n"
      "\n"
      "b,\"two\nlines\"\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->header, (std::vector<std::string>{"name", "address"}));
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0].number, 2);
  EXPECT_EQ(t->Field(t->rows[0], "name"), "驿站, 一号");
  EXPECT_EQ(t->Field(t->rows[0], "address"), "清远西街\"12\"号");
  EXPECT_EQ(t->Field(t->rows[1], "address"), "two\nlines");
  EXPECT_EQ(t->Field(t->rows[1], "missing"), "");
}

TEST(CsvTest, UnterminatedQuoteIsRefused) {
  absl::StatusOr<CsvTable> t = ParseCsv("a,b\n\"open,2\n");
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCsv("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CsvTest, LineQuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvLine({"a", "b,c", "say \"hi\"", "x\ny"}), "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\"\n");
}

}  // namespace
}  // namespace civicpoints::cpctl
