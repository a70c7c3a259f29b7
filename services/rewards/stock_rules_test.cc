// A station's stock as pure rules: no database.
#include "services/rewards/stock_rules.h"

#include <gtest/gtest.h>

#include "civicpoints/rewards/v1/errors.pb.h"
#include "common/status/grpc_status.h"
#include "common/status/refusal.h"

namespace civicpoints::rewards {
namespace {

v1::ErrorReason Reason(const absl::Status& s) { return ReasonOf<v1::ErrorReason>(s); }

TEST(StockRulesTest, ADeliveryFitsUpToAMillionOnHand) {
  EXPECT_TRUE(CheckRestock(999990, 10).ok());
  const absl::Status over = CheckRestock(999990, 11);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Reason(over), v1::ERROR_REASON_STOCK_LIMIT);
  EXPECT_EQ(ErrorFigureOf(over, "on_hand"), "999990");
  EXPECT_EQ(ErrorFigureOf(over, "limit"), "1000000");
}

TEST(StockRulesTest, ACountKeepsTheReservedItemsAsideAndSetsWhatIsLeftAvailable) {
  // 7 available and 3 reserved; 8 counted: 5 available, the 3 stay reserved.
  EXPECT_EQ(*AvailableAfterCount(7, 3, 8, std::nullopt), 5);
  EXPECT_EQ(*AvailableAfterCount(7, 3, 3, 10), 0);
  const absl::StatusOr<int64_t> below = AvailableAfterCount(7, 3, 2, std::nullopt);
  EXPECT_EQ(below.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reason(below.status()), v1::ERROR_REASON_STOCK_BELOW_RESERVED);
  EXPECT_EQ(ErrorFigureOf(below.status(), "reserved_quantity"), "3");
}

TEST(StockRulesTest, ACountAgainstAFigureThatChangedMeanwhileIsRefused) {
  // The counter saw 10 on hand; an order was fulfilled since (9 now).
  const absl::StatusOr<int64_t> stale = AvailableAfterCount(6, 3, 9, 10);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Reason(stale.status()), v1::ERROR_REASON_CONCURRENT_CHANGE);
  // Checked before the reserved items: the count itself may be stale.
  EXPECT_EQ(Reason(AvailableAfterCount(6, 3, 1, 10).status()), v1::ERROR_REASON_CONCURRENT_CHANGE);
}

}  // namespace
}  // namespace civicpoints::rewards
