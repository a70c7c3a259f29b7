#include "services/insights/small_cells.h"

namespace civicpoints::insights {

v1::Figure MakeFigure(int64_t value, const SmallCellRule& rule) {
  v1::Figure f;
  if (rule.applied && value > 0 && value < rule.threshold) {
    f.set_withheld(true);
  } else {
    f.set_value(value);
  }
  return f;
}

void ProtectGroup(const std::vector<v1::Figure*>& group, const SmallCellRule& rule) {
  if (!rule.applied) return;
  int withheld = 0;
  v1::Figure* smallest_nonzero = nullptr;
  v1::Figure* smallest = nullptr;
  for (v1::Figure* f : group) {
    if (f == nullptr) continue;
    if (f->withheld()) {
      ++withheld;
      continue;
    }
    if (smallest == nullptr || f->value() < smallest->value()) smallest = f;
    if (f->value() > 0 && (smallest_nonzero == nullptr || f->value() < smallest_nonzero->value())) {
      smallest_nonzero = f;
    }
  }
  if (withheld != 1) return;
  v1::Figure* also = smallest_nonzero != nullptr ? smallest_nonzero : smallest;
  if (also == nullptr) return;
  also->set_value(0);
  also->set_withheld(true);
}

}  // namespace civicpoints::insights
