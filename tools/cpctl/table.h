// Aligned text tables for terminals: columns padded by display width (a Chinese character takes two
// cells), numbers right-aligned.
//
//   Table t({"RANK", "RIDER", "POINTS"}, {Align::kRight, Align::kLeft, Align::kRight});
//   t.AddRow({"1", "王师傅", "109"});
//   t.Print(std::cout);
#ifndef CIVICPOINTS_TOOLS_CPCTL_TABLE_H_
#define CIVICPOINTS_TOOLS_CPCTL_TABLE_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace civicpoints::cpctl {

enum class Align { kLeft, kRight };

class Table {
 public:
  // `align` may be shorter than `headers`; missing columns align left.
  explicit Table(std::vector<std::string> headers, std::vector<Align> align = {});

  // REQUIRES: row has as many cells as there are headers (extra cells are dropped, missing empty).
  void AddRow(std::vector<std::string> row);
  size_t size() const { return rows_.size(); }
  // Writes the header, a rule and the rows; "(none)" when there are no rows.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<Align> align_;
  std::vector<std::vector<std::string>> rows_;
};

// Terminal cells `text` (UTF-8) takes: 2 for East Asian wide characters, 1 for others.
size_t DisplayWidth(absl::string_view text);

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_TABLE_H_
