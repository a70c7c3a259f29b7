// Exchange windows as pure rules: no database, no ledger.
#include "services/rewards/window_rules.h"

#include <gtest/gtest.h>

#include "civicpoints/rewards/v1/errors.pb.h"
#include "common/status/refusal.h"

namespace civicpoints::rewards {
namespace {

v1::ErrorReason Reason(const absl::Status& s) { return ReasonOf<v1::ErrorReason>(s); }

TEST(WindowRulesTest, EverythingChangesWhileScheduledThreeFieldsWhileOpenNothingOnceClosed) {
  for (const char* field : {"title", "gifts", "station_ids", "eligibility", "start_time"}) {
    EXPECT_TRUE(CheckEditable(v1::EXCHANGE_WINDOW_STATE_SCHEDULED, field).ok()) << field;
  }
  for (const char* field : {"title", "description", "end_time"}) {
    EXPECT_TRUE(CheckEditable(v1::EXCHANGE_WINDOW_STATE_OPEN, field).ok()) << field;
    EXPECT_EQ(Reason(CheckEditable(v1::EXCHANGE_WINDOW_STATE_CLOSED, field)),
              v1::ERROR_REASON_WINDOW_NOT_EDITABLE)
        << field;
  }
  const absl::Status gifts = CheckEditable(v1::EXCHANGE_WINDOW_STATE_OPEN, "gifts");
  EXPECT_EQ(gifts.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reason(gifts), v1::ERROR_REASON_WINDOW_NOT_EDITABLE);
  EXPECT_NE(gifts.message().find("gifts: cannot change while the window is "
                                 "EXCHANGE_WINDOW_STATE_OPEN"),
            std::string::npos)
      << gifts;
}

TEST(WindowRulesTest, AScheduledWindowOpensOnceAndNotAfterItEndedOrClosed) {
  const absl::Time now = absl::FromUnixSeconds(1796572800);
  EXPECT_EQ(*DecideOpen("w", v1::EXCHANGE_WINDOW_STATE_SCHEDULED, now + absl::Hours(1), now),
            OpenStep::kOpen);
  EXPECT_EQ(*DecideOpen("w", v1::EXCHANGE_WINDOW_STATE_OPEN, now - absl::Hours(1), now),
            OpenStep::kAlreadyOpen);
  EXPECT_EQ(Reason(DecideOpen("w", v1::EXCHANGE_WINDOW_STATE_SCHEDULED, now, now).status()),
            v1::ERROR_REASON_WINDOW_CLOSED);
  EXPECT_EQ(
      Reason(DecideOpen("w", v1::EXCHANGE_WINDOW_STATE_CLOSED, now + absl::Hours(1), now).status()),
      v1::ERROR_REASON_WINDOW_CLOSED);
}

TEST(WindowRulesTest, TheCutTakesTheTopNAndEveryoneTiedWithTheLastPlace) {
  // Top 3 of: 50, 40, 30, 30, 30, 20 and a rider with no points.
  const EligibilityCut cut =
      CutAtTopN({{"f", 20}, {"d", 30}, {"a", 50}, {"z", 0}, {"c", 30}, {"b", 40}, {"e", 30}}, 3);
  EXPECT_EQ(cut.cutoff_points, 30);
  ASSERT_EQ(cut.riders.size(), 5u);
  const std::vector<std::pair<std::string, int>> expected = {
      {"a", 1}, {"b", 2}, {"c", 3}, {"d", 3}, {"e", 3}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(cut.riders[i].rider_id, expected[i].first) << i;
    EXPECT_EQ(cut.riders[i].rank, expected[i].second) << i;
  }
}

TEST(WindowRulesTest, FewerRidersWithPointsThanPlacesAreAllIn) {
  const EligibilityCut cut = CutAtTopN({{"a", 10}, {"b", 10}, {"c", 0}}, 15);
  EXPECT_EQ(cut.cutoff_points, 0);
  ASSERT_EQ(cut.riders.size(), 2u);
  EXPECT_EQ(cut.riders[0].rank, 1);
  EXPECT_EQ(cut.riders[1].rank, 1);
  EXPECT_TRUE(CutAtTopN({}, 15).riders.empty());
}

}  // namespace
}  // namespace civicpoints::rewards
