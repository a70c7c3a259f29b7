// The redemption's rules as pure functions: no database, no ledger.
#include "services/rewards/redemption_rules.h"

#include <gtest/gtest.h>

#include "common/status/refusal.h"

namespace civicpoints::rewards {
namespace {

v1::ErrorReason Reason(const absl::Status& s) { return ReasonOf<v1::ErrorReason>(s); }

// An open window at station s1 offering gift g1 (at most 2 per rider, 3 items in all), a rider
// who may order, 5 in stock and 100 points.
OrderFacts OpenWindowFacts() {
  OrderFacts f;
  f.window.set_window_id("w1");
  f.window.add_station_ids("s1");
  f.window.set_max_items_per_rider(3);
  v1::WindowGift* g = f.window.add_gifts();
  g->set_gift_id("g1");
  g->set_max_per_rider(2);
  f.gift = GiftFacts{.name = "雨衣", .points_cost = 30, .active = true};
  f.stock_available = 5;
  f.balance = 100;
  f.station_known = true;
  return f;
}

const OrderRequest kOne{.window_id = "w1", .station_id = "s1", .gift_id = "g1", .quantity = 1};

TEST(DecideOrderTest, AnOrderThatPassesEveryRuleIsPricedPerItem) {
  OrderRequest two = kOne;
  two.quantity = 2;
  absl::StatusOr<OrderTerms> terms = DecideOrder(two, OpenWindowFacts());
  ASSERT_TRUE(terms.ok()) << terms.status();
  EXPECT_EQ(terms->unit_points, 30);
  EXPECT_EQ(terms->points, 60);
}

TEST(DecideOrderTest, EachRuleRefusesWithItsReasonAndFigures) {
  struct Case {
    const char* what;
    std::function<void(OrderFacts&, OrderRequest&)> change;
    absl::StatusCode code;
    v1::ErrorReason reason;
  };
  const std::vector<Case> cases = {
      {"station outside the window", [](OrderFacts&, OrderRequest& r) { r.station_id = "s2"; },
       absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_STATION_NOT_IN_WINDOW},
      {"gift outside the window",
       [](OrderFacts& f, OrderRequest&) { f.window.mutable_gifts(0)->set_gift_id("g9"); },
       absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_GIFT_NOT_IN_WINDOW},
      {"gift deactivated", [](OrderFacts& f, OrderRequest&) { f.gift->active = false; },
       absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_GIFT_INACTIVE},
      {"outside the ranking cut",
       [](OrderFacts& f, OrderRequest&) {
         f.eligibility.add_reasons(v1::ERROR_REASON_NOT_IN_RANKING_CUT);
       },
       absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_NOT_IN_RANKING_CUT},
      {"per-gift limit", [](OrderFacts& f, OrderRequest&) { f.redeemed_of_gift = 2; },
       absl::StatusCode::kResourceExhausted, v1::ERROR_REASON_GIFT_LIMIT_REACHED},
      {"window limit", [](OrderFacts& f, OrderRequest&) { f.redeemed_total = 3; },
       absl::StatusCode::kResourceExhausted, v1::ERROR_REASON_WINDOW_LIMIT_REACHED},
      {"out of stock", [](OrderFacts& f, OrderRequest&) { f.stock_available = 0; },
       absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_OUT_OF_STOCK},
      {"too few points", [](OrderFacts& f, OrderRequest&) { f.balance = 29; },
       absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_INSUFFICIENT_POINTS},
      {"station unknown", [](OrderFacts& f, OrderRequest&) { f.station_known = false; },
       absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_NOT_A_STATION},
  };
  for (const Case& c : cases) {
    OrderFacts f = OpenWindowFacts();
    OrderRequest r = kOne;
    c.change(f, r);
    absl::StatusOr<OrderTerms> terms = DecideOrder(r, f);
    EXPECT_EQ(terms.status().code(), c.code) << c.what;
    EXPECT_EQ(Reason(terms.status()), c.reason) << c.what << ": " << terms.status();
  }
  OrderFacts f = OpenWindowFacts();
  f.stock_available = 1;
  absl::Status out =
      DecideOrder({.window_id = "w1", .station_id = "s1", .gift_id = "g1", .quantity = 2}, f)
          .status();
  EXPECT_EQ(ErrorFigureOf(out, "available_quantity"), "1") << out;
  f = OpenWindowFacts();
  f.balance = 10;
  absl::Status poor = DecideOrder(kOne, f).status();
  EXPECT_EQ(ErrorFigureOf(poor, "required_points"), "30") << poor;
  EXPECT_EQ(ErrorFigureOf(poor, "available_balance"), "10") << poor;
}

TEST(DecideOrderTest, ABalanceNotReadIsLeftToTheLedgersHold) {
  OrderFacts f = OpenWindowFacts();
  f.balance.reset();
  absl::StatusOr<OrderTerms> terms = DecideOrder(kOne, f);
  ASSERT_TRUE(terms.ok()) << terms.status();
  EXPECT_EQ(terms->points, 30);
}

TEST(DecideOrderTest, TheWindowsStateIsToldBeforeWhereAndWhatAndWhoAfter) {
  OrderFacts f = OpenWindowFacts();
  f.eligibility.add_reasons(v1::ERROR_REASON_WINDOW_CLOSED);
  OrderRequest elsewhere = kOne;
  elsewhere.station_id = "s2";
  EXPECT_EQ(Reason(DecideOrder(elsewhere, f).status()), v1::ERROR_REASON_WINDOW_CLOSED);

  f = OpenWindowFacts();
  f.eligibility.add_reasons(v1::ERROR_REASON_BALANCE_BELOW_MINIMUM);
  EXPECT_EQ(Reason(DecideOrder(elsewhere, f).status()), v1::ERROR_REASON_STATION_NOT_IN_WINDOW);
  EXPECT_EQ(Reason(DecideOrder(kOne, f).status()), v1::ERROR_REASON_BALANCE_BELOW_MINIMUM);

  f = OpenWindowFacts();
  f.gift.reset();
  EXPECT_EQ(DecideOrder(kOne, f).status().code(), absl::StatusCode::kNotFound);
}

TEST(SagaTest, TheNextStepFollowsStateAndIntent) {
  EXPECT_EQ(NextSagaStep(v1::REDEMPTION_STATE_PENDING, 0), SagaStep::kHold);
  EXPECT_EQ(NextSagaStep(v1::REDEMPTION_STATE_READY, 0), SagaStep::kDone);
  EXPECT_EQ(NextSagaStep(v1::REDEMPTION_STATE_FULFILLED, 0), SagaStep::kDone);
  EXPECT_EQ(NextSagaStep(v1::REDEMPTION_STATE_READY, v1::REDEMPTION_STATE_FULFILLED),
            SagaStep::kCapture);
  for (int intent : {v1::REDEMPTION_STATE_CANCELLED, v1::REDEMPTION_STATE_EXPIRED,
                     v1::REDEMPTION_STATE_FAILED}) {
    EXPECT_EQ(NextSagaStep(v1::REDEMPTION_STATE_READY, intent), SagaStep::kRelease) << intent;
  }
  EXPECT_EQ(NextSagaStep(v1::REDEMPTION_STATE_PENDING, v1::REDEMPTION_STATE_FAILED),
            SagaStep::kRelease);
}

TEST(SagaTest, AHoldRefusalFailsTheOrderOnlyWhenNoRetryCouldChangeIt) {
  EXPECT_EQ(OnHoldRefused(absl::StatusCode::kUnavailable, 30).action,
            HoldRefusal::Action::kRetryLater);
  EXPECT_EQ(OnHoldRefused(absl::StatusCode::kDeadlineExceeded, 30).action,
            HoldRefusal::Action::kRetryLater);
  const HoldRefusal poor = OnHoldRefused(absl::StatusCode::kFailedPrecondition, 30);
  EXPECT_EQ(poor.action, HoldRefusal::Action::kFail);
  EXPECT_EQ(poor.reason, v1::ERROR_REASON_INSUFFICIENT_POINTS);
  EXPECT_NE(poor.message.find("30 points"), std::string::npos) << poor.message;
  const HoldRefusal denied = OnHoldRefused(absl::StatusCode::kPermissionDenied, 30);
  EXPECT_EQ(denied.action, HoldRefusal::Action::kFailIfNoneHeld);
  EXPECT_EQ(denied.reason, v1::ERROR_REASON_UNSPECIFIED);
  EXPECT_TRUE(CaptureMeansExpired(absl::StatusCode::kFailedPrecondition));
  EXPECT_FALSE(CaptureMeansExpired(absl::StatusCode::kUnavailable));
}

TEST(SagaTest, AFailedOrderAnswersWithItsReason) {
  v1::Redemption order;
  order.set_redemption_id("r1");
  order.set_failure_reason(v1::ERROR_REASON_WINDOW_LIMIT_REACHED);
  EXPECT_EQ(FailureStatus(order, "").code(), absl::StatusCode::kResourceExhausted);
  order.set_failure_reason(v1::ERROR_REASON_OUT_OF_STOCK);
  absl::Status out = FailureStatus(order, "gone", {{"available_quantity", "0"}});
  EXPECT_EQ(out.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(out.message(), "gone");
  EXPECT_EQ(ErrorFigureOf(out, "available_quantity"), "0");
}

TEST(CancelTest, OnlyAReadyOrderWithNothingUnderWayIsCancelled) {
  bool mark = false;
  EXPECT_TRUE(DecideCancel("r1", v1::REDEMPTION_STATE_READY, 0, &mark).ok());
  EXPECT_TRUE(mark);
  EXPECT_TRUE(
      DecideCancel("r1", v1::REDEMPTION_STATE_READY, v1::REDEMPTION_STATE_CANCELLED, &mark).ok());
  EXPECT_FALSE(mark);
  EXPECT_TRUE(DecideCancel("r1", v1::REDEMPTION_STATE_CANCELLED, 0, &mark).ok());
  EXPECT_FALSE(mark);
  absl::Status taken =
      DecideCancel("r1", v1::REDEMPTION_STATE_READY, v1::REDEMPTION_STATE_FULFILLED, &mark);
  EXPECT_EQ(Reason(taken), v1::ERROR_REASON_ORDER_NOT_CANCELLABLE);
  EXPECT_NE(taken.message().find("REDEMPTION_STATE_FULFILLED"), std::string::npos) << taken;
  EXPECT_EQ(Reason(DecideCancel("r1", v1::REDEMPTION_STATE_PENDING, 0, &mark)),
            v1::ERROR_REASON_ORDER_NOT_CANCELLABLE);
}

TEST(PickupTest, CodesAreSixDigitsTypedAnyWay) {
  EXPECT_EQ(*NormalizePickupCode("123 456"), "123456");
  EXPECT_EQ(*NormalizePickupCode("12-34-56"), "123456");
  EXPECT_EQ(NormalizePickupCode("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizePickupCode("12345").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizePickupCode("12345a").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PickupTest, AnEntryHandsOverOnlyAtTheOrdersStationAndOnlyOnce) {
  const WaitingPickup waiting{.redemption_id = "r1", .station_id = "s1"};
  PickupDecision d = DecidePickup("s1", waiting, std::nullopt);
  EXPECT_TRUE(d.refusal.ok());
  EXPECT_EQ(d.mark, v1::REDEMPTION_STATE_FULFILLED);
  EXPECT_TRUE(d.save_key);

  d = DecidePickup("s2", waiting, std::nullopt);
  EXPECT_EQ(Reason(d.refusal), v1::ERROR_REASON_PICKUP_AT_OTHER_STATION);
  EXPECT_EQ(d.mark, v1::REDEMPTION_STATE_UNSPECIFIED);

  WaitingPickup busy = waiting;
  busy.intent = v1::REDEMPTION_STATE_FULFILLED;
  EXPECT_EQ(Reason(DecidePickup("s1", busy, std::nullopt).refusal),
            v1::ERROR_REASON_PICKUP_CODE_ALREADY_USED);
  busy.intent = v1::REDEMPTION_STATE_CANCELLED;
  EXPECT_EQ(Reason(DecidePickup("s1", busy, std::nullopt).refusal),
            v1::ERROR_REASON_PICKUP_CODE_EXPIRED);

  WaitingPickup late = waiting;
  late.expired = true;
  d = DecidePickup("s1", late, std::nullopt);
  EXPECT_TRUE(d.refusal.ok());
  EXPECT_EQ(d.mark, v1::REDEMPTION_STATE_EXPIRED);
  EXPECT_FALSE(d.save_key);
}

TEST(PickupTest, AnEndedOrderIsExplainedOnlyAtItsOwnStation) {
  const EndedPickup handed{.state = v1::REDEMPTION_STATE_FULFILLED,
                           .station_id = "s1",
                           .ended = absl::FromUnixSeconds(1700000000)};
  PickupDecision d = DecidePickup("s1", std::nullopt, handed);
  EXPECT_EQ(Reason(d.refusal), v1::ERROR_REASON_PICKUP_CODE_ALREADY_USED);
  EXPECT_EQ(ErrorFigureOf(d.refusal, "station_id"), "s1");
  EXPECT_EQ(Reason(DecidePickup("s2", std::nullopt, handed).refusal),
            v1::ERROR_REASON_PICKUP_CODE_UNKNOWN);
  EXPECT_EQ(DecidePickup("s1", std::nullopt, std::nullopt).refusal.code(),
            absl::StatusCode::kNotFound);
  const EndedPickup cancelled{.state = v1::REDEMPTION_STATE_CANCELLED, .station_id = "s1"};
  d = DecidePickup("s1", std::nullopt, cancelled);
  EXPECT_EQ(Reason(d.refusal), v1::ERROR_REASON_PICKUP_CODE_EXPIRED);
  EXPECT_EQ(ErrorFigureOf(d.refusal, "state"), "REDEMPTION_STATE_CANCELLED");
}

TEST(PickupTest, TheOutcomeFollowsTheSettledOrder) {
  v1::Redemption order;
  order.set_state(v1::REDEMPTION_STATE_FULFILLED);
  EXPECT_TRUE(PickupOutcome(order).ok());
  order.set_state(v1::REDEMPTION_STATE_EXPIRED);
  EXPECT_EQ(Reason(PickupOutcome(order)), v1::ERROR_REASON_PICKUP_CODE_EXPIRED);
  order.set_state(v1::REDEMPTION_STATE_READY);
  EXPECT_EQ(PickupOutcome(order).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace civicpoints::rewards
