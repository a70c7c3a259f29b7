#include "tools/cpctl/table.h"

#include <sstream>

#include "gtest/gtest.h"

namespace civicpoints::cpctl {
namespace {

TEST(TableTest, ChineseTakesTwoCellsAndNumbersAlignRight) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("王师傅"), 6u);
  EXPECT_EQ(DisplayWidth("A座"), 3u);
  Table t({"RANK", "RIDER", "POINTS"}, {Align::kRight, Align::kLeft, Align::kRight});
  t.AddRow({"1", "王师傅", "109"});
  t.AddRow({"10", "Li", "7"});
  std::ostringstream out;
  t.Print(out);
  EXPECT_EQ(out.str(),
            "RANK  RIDER   POINTS\n"
            "----  ------  ------\n"
            "   1  王师傅     109\n"
            "  10  Li           7\n");
}

TEST(TableTest, EmptyTableSaysNone) {
  std::ostringstream out;
  Table({"A"}).Print(out);
  EXPECT_EQ(out.str(), "A\n-\n(none)\n");
}

}  // namespace
}  // namespace civicpoints::cpctl
