// A station's stock as pure rules: how much a delivery may add, and what a count found means.
// No storage: stock_methods.cc reads the stock row under its lock through PgStockStore, asks these,
// and writes the answer with its movement in the same transaction. stock_rules_test.cc holds them
// without a database.
#ifndef CIVICPOINTS_SERVICES_REWARDS_STOCK_RULES_H_
#define CIVICPOINTS_SERVICES_REWARDS_STOCK_RULES_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace civicpoints::rewards {

// Most items of one gift a station holds (available plus reserved).
inline constexpr int64_t kMaxOnHand = 1000000;

// OK when `quantity` more items fit beside the `on_hand` ones. Errors: RESOURCE_EXHAUSTED
// (STOCK_LIMIT, with on_hand and limit).
absl::Status CheckRestock(int64_t on_hand, int64_t quantity);

// A stock count that found `counted` items where the row holds `available` + `reserved`; the
// counter may say what on-hand figure they counted against (`expected`). Returns the new
// available quantity: the reserved items stay set aside for their READY orders. Errors: ABORTED
// (CONCURRENT_CHANGE) when on hand changed since `expected`; FAILED_PRECONDITION
// (STOCK_BELOW_RESERVED, with reserved_quantity) when fewer were counted than are reserved.
absl::StatusOr<int64_t> AvailableAfterCount(int64_t available, int64_t reserved, int64_t counted,
                                            std::optional<int64_t> expected);

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_STOCK_RULES_H_
