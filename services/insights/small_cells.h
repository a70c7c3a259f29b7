// The small-cell rule of the dashboard: a count from 1 to threshold - 1 could single out riders
// (the riders of one platform in one community), so a viewer sees it withheld, shown as "<5". Zero
// is shown (it singles nobody out). Within a group of sibling cells whose total is known (the
// children of a node, the days of a series), one withheld cell could be worked out by subtraction,
// so a group never has exactly one: the smallest other cell shown is withheld with it.
#ifndef CIVICPOINTS_SERVICES_INSIGHTS_SMALL_CELLS_H_
#define CIVICPOINTS_SERVICES_INSIGHTS_SMALL_CELLS_H_

#include <cstdint>
#include <vector>

#include "civicpoints/insights/v1/overview.pb.h"

namespace civicpoints::insights {

struct SmallCellRule {
  int threshold = 5;
  bool applied = false;  // the caller reads as a viewer
};

// `value` as a figure under `rule`.
v1::Figure MakeFigure(int64_t value, const SmallCellRule& rule);

// Withholds one more cell of `group` when exactly one is withheld: the smallest shown non-zero
// one, else the smallest shown one. Null entries are skipped. Does nothing unless rule.applied.
void ProtectGroup(const std::vector<v1::Figure*>& group, const SmallCellRule& rule);

}  // namespace civicpoints::insights

#endif  // CIVICPOINTS_SERVICES_INSIGHTS_SMALL_CELLS_H_
