// Redemptions on the real ledger: the whole saga from order to hand-over, cancellation and expiry
// giving points and stock back, and every refusal leaving no points held and no stock taken.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

#include "services/rewards/records.h"
#include "services/rewards/rewards_test_env.h"

namespace civicpoints::rewards {
namespace {

using common::v1::ROLE_STREET_STAFF;

class RedemptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    gift_ = env_.MakeGift("蓝牙耳机", 30);
    env_.Stock(RewardsTestEnv::kStationA, gift_, 5);
    window_ = env_.MakeWindow({gift_}).window_id();
    ASSERT_TRUE(env_.Award("r1", 100));
  }

  RewardsTestEnv env_;
  std::string gift_;
  std::string window_;
};

TEST_F(RedemptionTest, OrderIsHeldReservedThenCapturedWhenTheKeeperEntersTheCode) {
  v1::Redemption order;
  ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &order).ok());
  EXPECT_EQ(order.state(), v1::REDEMPTION_STATE_READY);
  ASSERT_EQ(order.pickup_code().size(), 6u);
  EXPECT_EQ(order.points_cost(), 30);
  EXPECT_EQ(order.station_org().street_id(), RewardsTestEnv::kStreet);
  EXPECT_TRUE(order.has_expire_time());
  EXPECT_EQ(env_.Hold(order.redemption_id()).state(), ledger::v1::HOLD_STATE_HELD);
  EXPECT_EQ(env_.Account("r1").available(), 70);
  EXPECT_EQ(env_.Account("r1").held(), 30);
  v1::StationStock stock = env_.StockOf(RewardsTestEnv::kStationA, gift_);
  EXPECT_EQ(stock.available_quantity(), 4);
  EXPECT_EQ(stock.reserved_quantity(), 1);

  // The station tablet lists the order, without its code.
  v1::ListStationPickupsRequest pickups;
  pickups.set_station_id(RewardsTestEnv::kStationA);
  v1::ListStationPickupsResponse waiting;
  ASSERT_TRUE(env_.stub().ListStationPickups(env_.KeeperA().get(), pickups, &waiting).ok());
  EXPECT_EQ(waiting.total_waiting(), 1);
  ASSERT_EQ(waiting.redemptions_size(), 1);
  EXPECT_TRUE(waiting.redemptions(0).pickup_code().empty());

  // Only the owner sees the code; another rider sees nothing.
  v1::GetRedemptionRequest get;
  get.set_redemption_id(order.redemption_id());
  v1::GetRedemptionResponse got;
  ASSERT_TRUE(env_.stub().GetRedemption(env_.Rider("r1").get(), get, &got).ok());
  EXPECT_EQ(got.redemption().pickup_code(), order.pickup_code());
  grpc::Status other = env_.stub().GetRedemption(env_.Rider("r2").get(), get, &got);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(other), "NOT_ORDER_OWNER");
  ASSERT_TRUE(env_.stub().GetRedemption(env_.KeeperA().get(), get, &got).ok());
  EXPECT_TRUE(got.redemption().pickup_code().empty());

  const std::string code = order.pickup_code();
  const std::string spoken = code.substr(0, 3) + " " + code.substr(3);
  v1::Redemption done;
  // The keeper of station B, at station B: the order is for station A.
  grpc::Status s = env_.Fulfil(env_.KeeperB(), RewardsTestEnv::kStationB, code, &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "PICKUP_AT_OTHER_STATION");
  // The keeper of station B claiming to stand at station A.
  s = env_.Fulfil(env_.KeeperB(), RewardsTestEnv::kStationA, code, &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "NOT_STATION_KEEPER");
  const std::string wrong = code == "000000" ? "000001" : "000000";
  s = env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, wrong, &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ReasonOf(s), "PICKUP_CODE_UNKNOWN");
  EXPECT_EQ(env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, "12345", &done).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(env_.Hold(order.redemption_id()).state(), ledger::v1::HOLD_STATE_HELD);

  s = env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, spoken, &done, "tablet-1");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(done.state(), v1::REDEMPTION_STATE_FULFILLED);
  EXPECT_EQ(done.fulfilled_by(), "keeper_a");
  EXPECT_EQ(done.rider_id(), "r1");
  EXPECT_EQ(env_.Hold(order.redemption_id()).state(), ledger::v1::HOLD_STATE_CAPTURED);
  EXPECT_EQ(env_.Account("r1").lifetime_spent(), 30);
  EXPECT_EQ(env_.Account("r1").held(), 0);
  stock = env_.StockOf(RewardsTestEnv::kStationA, gift_);
  EXPECT_EQ(stock.reserved_quantity(), 0);
  EXPECT_EQ(stock.on_hand_quantity(), 4);
  // The tablet's retry gets the same answer, however the code was spaced (spaces are ignored, so
  // the code as typed now is the same request); the code under a new key is used.
  v1::Redemption again;
  ASSERT_TRUE(
      env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, spoken, &again, "tablet-1").ok());
  EXPECT_EQ(again.redemption_id(), done.redemption_id());
  s = env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, code, &again, "tablet-1");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.redemption_id(), done.redemption_id());
  s = env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, code, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "PICKUP_CODE_ALREADY_USED");
  EXPECT_EQ(env_.Account("r1").lifetime_spent(), 30);

  v1::ListMyRedemptionsRequest mine;
  v1::ListMyRedemptionsResponse listed;
  ASSERT_TRUE(env_.stub().ListMyRedemptions(env_.Rider("r1").get(), mine, &listed).ok());
  ASSERT_EQ(listed.redemptions_size(), 1);
  EXPECT_EQ(listed.redemptions(0).state(), v1::REDEMPTION_STATE_FULFILLED);

  // Announced once each, at the station's community: ready, then fulfilled (the retries, the
  // refused codes and the second tablet add nothing).
  EXPECT_EQ(
      env_.Sql("SELECT string_agg(type || ' ' || subject, ', ' ORDER BY seq) FROM "
               "outbox_events WHERE type LIKE '%redemption%'"),
      absl::StrCat("civicpoints.rewards.v1.redemption_ready redemptions/", order.redemption_id(),
                   ", civicpoints.rewards.v1.redemption_fulfilled redemptions/",
                   order.redemption_id()));
  EXPECT_EQ(env_.Sql("SELECT min(street_id) FROM outbox_events WHERE type LIKE '%redemption%'"),
            RewardsTestEnv::kStreet);
}

TEST_F(RedemptionTest, RefusalsHoldNoPointsAndTakeNoStock) {
  const std::string pricey = env_.MakeGift("充电宝", 500);
  const std::string scarce = env_.MakeGift("水杯", 10);
  const std::string outside = env_.MakeGift("湿巾", 5);
  env_.Stock(RewardsTestEnv::kStationA, pricey, 5);
  env_.Stock(RewardsTestEnv::kStationA, scarce, 1);
  env_.Stock(RewardsTestEnv::kStationA, outside, 5);
  v1::EligibilityRule rich;
  rich.set_min_balance(1000);
  const std::string limited = env_.MakeWindow({gift_, pricey, scarce}, true, std::nullopt,
                                              /*max_items=*/2, /*max_per_gift=*/1)
                                  .window_id();
  const std::string exclusive = env_.MakeWindow({gift_}, true, rich).window_id();
  v1::Redemption order;
  auto refused = [&](grpc::Status s, grpc::StatusCode code, const std::string& reason) {
    EXPECT_EQ(s.error_code(), code) << reason << ": " << s.error_message();
    EXPECT_EQ(ReasonOf(s), reason) << s.error_message();
  };
  using C = grpc::StatusCode;
  grpc::Status poor =
      env_.Redeem("r1", limited, pricey, &order, 1, RewardsTestEnv::kStationA, "too-dear");
  refused(poor, C::FAILED_PRECONDITION, "INSUFFICIENT_POINTS");
  EXPECT_EQ(FiguresOf(poor)["required_points"], "500");
  EXPECT_EQ(FiguresOf(poor)["available_balance"], "100");
  // The ledger's hold found too few points: the order it was placed for is taken back, and the
  // key answers with the refusal from now on.
  EXPECT_EQ(
      env_.Sql(absl::StrCat("SELECT count(*) FROM redemptions WHERE gift_id = '", pricey, "'")),
      "0");
  refused(env_.Redeem("r1", limited, pricey, &order, 1, RewardsTestEnv::kStationA, "too-dear"),
          C::FAILED_PRECONDITION, "INSUFFICIENT_POINTS");
  refused(env_.Redeem("r1", limited, scarce, &order, 2), C::RESOURCE_EXHAUSTED,
          "GIFT_LIMIT_REACHED");
  refused(env_.Redeem("r1", limited, outside, &order), C::FAILED_PRECONDITION,
          "GIFT_NOT_IN_WINDOW");
  refused(env_.Redeem("r1", exclusive, gift_, &order), C::FAILED_PRECONDITION,
          "BALANCE_BELOW_MINIMUM");
  // Station B has none of the gift.
  refused(env_.Redeem("r1", limited, gift_, &order, 1, RewardsTestEnv::kStationB),
          C::FAILED_PRECONDITION, "OUT_OF_STOCK");
  refused(env_.Redeem("r1", limited, gift_, &order, 1, RewardsTestEnv::kLoveCorner),
          C::FAILED_PRECONDITION, "STATION_NOT_IN_WINDOW");
  EXPECT_EQ(env_.Redeem("r1", limited, gift_, &order, 11).error_code(), C::INVALID_ARGUMENT);
  EXPECT_EQ(env_.Redeem("r1", "w_missing", gift_, &order).error_code(), C::NOT_FOUND);
  EXPECT_EQ(env_.Account("r1").held(), 0);
  EXPECT_EQ(env_.Account("r1").available(), 100);

  // Limits: one of each gift, two items in all.
  ASSERT_TRUE(env_.Redeem("r1", limited, scarce, &order).ok());
  refused(env_.Redeem("r1", limited, scarce, &order), C::RESOURCE_EXHAUSTED, "GIFT_LIMIT_REACHED");
  ASSERT_TRUE(env_.Redeem("r1", limited, gift_, &order).ok());
  ASSERT_TRUE(env_.Award("r1", 1000));
  refused(env_.Redeem("r1", limited, pricey, &order), C::RESOURCE_EXHAUSTED,
          "WINDOW_LIMIT_REACHED");
  // Another rider finds the scarce gift gone.
  ASSERT_TRUE(env_.Award("r2", 100));
  refused(env_.Redeem("r2", limited, scarce, &order, 1, RewardsTestEnv::kStationA, "r2-key"),
          C::FAILED_PRECONDITION, "OUT_OF_STOCK");
  // The same key replays the refusal even after a delivery.
  env_.Stock(RewardsTestEnv::kStationA, scarce, 3);
  refused(env_.Redeem("r2", limited, scarce, &order, 1, RewardsTestEnv::kStationA, "r2-key"),
          C::FAILED_PRECONDITION, "OUT_OF_STOCK");
  EXPECT_EQ(env_.Account("r2").held(), 0);
  EXPECT_EQ(env_.Account("r1").held(), 40);  // the two READY orders only
  EXPECT_EQ(env_.StockOf(RewardsTestEnv::kStationA, pricey).available_quantity(), 5);
  // Deactivating a gift stops new orders for it.
  v1::UpdateGiftRequest off;
  off.set_gift_id(scarce);
  off.mutable_update_mask()->add_paths("active");
  v1::UpdateGiftResponse offed;
  ASSERT_TRUE(env_.stub().UpdateGift(env_.StreetStaff().get(), off, &offed).ok());
  refused(env_.Redeem("r2", limited, scarce, &order), C::FAILED_PRECONDITION, "GIFT_INACTIVE");
}

// A rider closing their account: identity has the orders end first. The READY one is cancelled
// with its points released and its stock returned, a repeat cancels nothing more, the rider's new
// orders are refused, and only the suite's services may ask.
TEST_F(RedemptionTest, ARiderClosingTheirAccountHasTheirOrdersEnded) {
  v1::Redemption order;
  ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &order).ok());
  ASSERT_EQ(env_.Account("r1").held(), 30);
  v1::CloseRiderOrdersRequest req;
  req.set_rider_id("r1");
  v1::CloseRiderOrdersResponse resp;
  EXPECT_EQ(env_.stub().CloseRiderOrders(env_.Rider("r1").get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const auto internal = [&] { return env_.As("svc:identity", common::v1::ROLE_INTERNAL_SERVICE); };
  grpc::Status s = env_.stub().CloseRiderOrders(internal().get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.cancelled_size(), 1);
  EXPECT_EQ(resp.cancelled(0).redemption_id(), order.redemption_id());
  EXPECT_EQ(resp.cancelled(0).state(), v1::REDEMPTION_STATE_CANCELLED);
  EXPECT_EQ(env_.Account("r1").held(), 0);
  EXPECT_EQ(env_.Account("r1").available(), 100);
  EXPECT_EQ(env_.StockOf(RewardsTestEnv::kStationA, gift_).available_quantity(), 5);

  ASSERT_TRUE(env_.stub().CloseRiderOrders(internal().get(), req, &resp).ok());
  EXPECT_EQ(resp.cancelled_size(), 0) << "a repeat cancels nothing more";
  s = env_.Redeem("r1", window_, gift_, &order);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "ACCOUNT_CLOSED");
  req.clear_rider_id();
  EXPECT_EQ(env_.stub().CloseRiderOrders(internal().get(), req, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(RedemptionTest, SameKeyReturnsTheSameOrder) {
  v1::Redemption first, second;
  ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &first, 1, RewardsTestEnv::kStationA, "tap").ok());
  ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &second, 1, RewardsTestEnv::kStationA, "tap").ok());
  EXPECT_EQ(first.redemption_id(), second.redemption_id());
  EXPECT_EQ(first.pickup_code(), second.pickup_code());
  grpc::Status s = env_.Redeem("r1", window_, gift_, &second, 2, RewardsTestEnv::kStationA, "tap");
  EXPECT_EQ(ReasonOf(s), "IDEMPOTENCY_KEY_REUSED");
  EXPECT_EQ(env_.Account("r1").held(), 30);
}

TEST_F(RedemptionTest, TheSameCodeEnteredOnTwoTabletsAtOnceHandsTheGiftOverOnce) {
  for (int round = 0; round < 3; ++round) {
    const std::string rider = absl::StrCat("tablet-rider-", round);
    ASSERT_TRUE(env_.Award(rider, 100));
    v1::Redemption order;
    ASSERT_TRUE(env_.Redeem(rider, window_, gift_, &order).ok());
    std::atomic<int> handed{0}, refused{0};
    std::vector<std::thread> tablets;
    for (int t = 0; t < 4; ++t) {
      tablets.emplace_back([&, t] {
        v1::Redemption done;
        grpc::Status s = env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, order.pickup_code(),
                                     &done, absl::StrCat("tablet-", round, "-", t));
        if (s.ok()) ++handed;
        if (ReasonOf(s) == "PICKUP_CODE_ALREADY_USED") ++refused;
      });
    }
    for (std::thread& t : tablets) t.join();
    EXPECT_EQ(handed.load(), 1) << "round " << round;
    EXPECT_EQ(refused.load(), 3) << "round " << round;
    EXPECT_EQ(env_.Hold(order.redemption_id()).state(), ledger::v1::HOLD_STATE_CAPTURED);
  }
}

TEST_F(RedemptionTest, CancelReleasesPointsAndReturnsStock) {
  v1::Redemption order;
  ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &order).ok());
  v1::CancelRedemptionRequest cancel;
  cancel.set_redemption_id(order.redemption_id());
  cancel.set_reason("今天去不了驿站");
  v1::CancelRedemptionResponse cancelled;
  grpc::Status s = env_.stub().CancelRedemption(env_.Rider("r2").get(), cancel, &cancelled);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "NOT_ORDER_OWNER");
  EXPECT_EQ(env_.Hold(order.redemption_id()).state(), ledger::v1::HOLD_STATE_HELD);
  ASSERT_TRUE(env_.stub().CancelRedemption(env_.Rider("r1").get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.redemption().state(), v1::REDEMPTION_STATE_CANCELLED);
  EXPECT_EQ(cancelled.redemption().cancel_reason(), "今天去不了驿站");
  EXPECT_EQ(env_.Hold(order.redemption_id()).state(), ledger::v1::HOLD_STATE_RELEASED);
  EXPECT_EQ(env_.Account("r1").available(), 100);
  EXPECT_EQ(env_.StockOf(RewardsTestEnv::kStationA, gift_).available_quantity(), 5);
  ASSERT_TRUE(env_.stub().CancelRedemption(env_.Rider("r1").get(), cancel, &cancelled).ok());
  EXPECT_EQ(env_.StockOf(RewardsTestEnv::kStationA, gift_).available_quantity(), 5);
  v1::Redemption done;
  s = env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, order.pickup_code(), &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "PICKUP_CODE_EXPIRED");
  EXPECT_EQ(env_.Sql("SELECT string_agg(type, ' ' ORDER BY seq) FROM outbox_events WHERE type "
                     "LIKE '%redemption%'"),
            "civicpoints.rewards.v1.redemption_ready civicpoints.rewards.v1.redemption_cancelled");
}

TEST_F(RedemptionTest, UncollectedOrdersExpireAndGiveEverythingBack) {
  v1::Redemption order;
  ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &order).ok());
  MaintenanceCounts n =
      env_.service().RunMaintenance(TimeOf(order.expire_time()) + absl::Seconds(1), absl::Hours(1));
  EXPECT_EQ(n.orders_expired, 1);
  EXPECT_EQ(env_.Hold(order.redemption_id()).state(), ledger::v1::HOLD_STATE_RELEASED);
  EXPECT_EQ(env_.Account("r1").available(), 100);
  EXPECT_EQ(env_.StockOf(RewardsTestEnv::kStationA, gift_).available_quantity(), 5);
  v1::CancelRedemptionRequest cancel;
  cancel.set_redemption_id(order.redemption_id());
  v1::CancelRedemptionResponse cancelled;
  grpc::Status s = env_.stub().CancelRedemption(env_.Rider("r1").get(), cancel, &cancelled);
  EXPECT_EQ(ReasonOf(s), "ORDER_NOT_CANCELLABLE");
  EXPECT_EQ(env_.Sql("SELECT string_agg(type, ' ' ORDER BY seq) FROM outbox_events WHERE type "
                     "LIKE '%redemption%'"),
            "civicpoints.rewards.v1.redemption_ready civicpoints.rewards.v1.redemption_expired");
}

TEST_F(RedemptionTest, AnOrderThatTakesAGiftToItsLowMarkAnnouncesItOnce) {
  // The fixture's station holds 5, the mark (5) already: its orders announce nothing.
  v1::Redemption order;
  ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &order).ok());
  const std::string low = "SELECT count(*) FROM outbox_events WHERE type LIKE '%stock_low'";
  EXPECT_EQ(env_.Sql(low), "0");
  // Another gift with 6: the order that leaves 5 announces it; the next one does not.
  const std::string cups = env_.MakeGift("保温杯", 10);
  env_.Stock(RewardsTestEnv::kStationA, cups, 6);
  const std::string window = env_.MakeWindow({cups}).window_id();
  ASSERT_TRUE(env_.Redeem("r1", window, cups, &order).ok());
  EXPECT_EQ(env_.Sql(low), "1");
  EXPECT_EQ(env_.Sql("SELECT subject || ' ' || street_id FROM outbox_events WHERE type LIKE "
                     "'%stock_low'"),
            absl::StrCat("stations/", RewardsTestEnv::kStationA, "/gifts/", cups, " ",
                         RewardsTestEnv::kStreet));
  ASSERT_TRUE(env_.Redeem("r1", window, cups, &order).ok());
  EXPECT_EQ(env_.Sql(low), "1");
}

TEST_F(RedemptionTest, WrongCodesAreLimitedPerKeeper) {
  v1::Redemption order, done;
  ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &order).ok());
  const std::string wrong = order.pickup_code() == "000000" ? "000001" : "000000";
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(ReasonOf(env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, wrong, &done)),
              "PICKUP_CODE_UNKNOWN");
  }
  grpc::Status s = env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, wrong, &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ReasonOf(s), "TOO_MANY_CODE_ATTEMPTS");
  // Locked out for now, even with the right code; nothing was captured.
  s = env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, order.pickup_code(), &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(env_.Hold(order.redemption_id()).state(), ledger::v1::HOLD_STATE_HELD);
  // Another keeper's tablet is not affected: staff of the street hand the gift over.
  ASSERT_TRUE(
      env_.Fulfil(env_.StreetStaff(), RewardsTestEnv::kStationA, order.pickup_code(), &done).ok());
  EXPECT_EQ(done.fulfilled_by(), "staff_street");
}

TEST_F(RedemptionTest, ListsPageThroughEveryOrderOnce) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    v1::Redemption order;
    ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &order).ok());
    ids.push_back(order.redemption_id());
  }
  v1::ListMyRedemptionsRequest mine;
  mine.set_page_size(2);
  mine.add_states(v1::REDEMPTION_STATE_READY);
  v1::ListMyRedemptionsResponse page;
  ASSERT_TRUE(env_.stub().ListMyRedemptions(env_.Rider("r1").get(), mine, &page).ok());
  ASSERT_EQ(page.redemptions_size(), 2);
  EXPECT_EQ(page.redemptions(0).redemption_id(), ids[2]);  // newest first
  ASSERT_FALSE(page.next_page_token().empty());
  mine.set_page_token(page.next_page_token());
  ASSERT_TRUE(env_.stub().ListMyRedemptions(env_.Rider("r1").get(), mine, &page).ok());
  ASSERT_EQ(page.redemptions_size(), 1);
  EXPECT_EQ(page.redemptions(0).redemption_id(), ids[0]);
  EXPECT_TRUE(page.next_page_token().empty());
  // Another rider's list is empty; a bad token is refused.
  v1::ListMyRedemptionsRequest theirs;
  ASSERT_TRUE(env_.stub().ListMyRedemptions(env_.Rider("r2").get(), theirs, &page).ok());
  EXPECT_EQ(page.redemptions_size(), 0);
  theirs.set_page_token("not-a-token");
  EXPECT_EQ(env_.stub().ListMyRedemptions(env_.Rider("r2").get(), theirs, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::ListStationPickupsRequest pickups;
  pickups.set_station_id(RewardsTestEnv::kStationA);
  pickups.set_page_size(1);
  v1::ListStationPickupsResponse waiting;
  std::vector<std::string> seen;
  do {
    ASSERT_TRUE(env_.stub().ListStationPickups(env_.KeeperA().get(), pickups, &waiting).ok());
    EXPECT_EQ(waiting.total_waiting(), 3);
    for (const v1::Redemption& r : waiting.redemptions()) seen.push_back(r.redemption_id());
    pickups.set_page_token(waiting.next_page_token());
  } while (!waiting.next_page_token().empty());
  EXPECT_EQ(seen, ids);  // soonest expiry first
  EXPECT_EQ(env_.stub().ListStationPickups(env_.KeeperB().get(), pickups, &waiting).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  v1::GetRedemptionStatsRequest stats;
  stats.mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
  stats.mutable_scope()->set_org_id(RewardsTestEnv::kCommunity);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600));
  stats.set_start_day(absl::FormatCivilTime(today));
  stats.set_end_day(absl::FormatCivilTime(today));
  stats.add_group_by(v1::STATS_DIMENSION_STATION);
  v1::GetRedemptionStatsResponse figures;
  ASSERT_TRUE(env_.stub().GetRedemptionStats(env_.StreetStaff().get(), stats, &figures).ok());
  ASSERT_EQ(figures.rows_size(), 1);
  EXPECT_EQ(figures.rows(0).station_id(), RewardsTestEnv::kStationA);
  EXPECT_EQ(figures.rows(0).figures().ready_now(), 3);
}

TEST_F(RedemptionTest, DashboardCountsPerGiftStationAndDay) {
  v1::Redemption a, b;
  ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &a).ok());
  ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &b).ok());
  v1::Redemption done;
  ASSERT_TRUE(env_.Fulfil(env_.KeeperA(), RewardsTestEnv::kStationA, a.pickup_code(), &done).ok());
  v1::GetRedemptionStatsRequest r;
  r.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  r.mutable_scope()->set_org_id(RewardsTestEnv::kStreet);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600));
  r.set_start_day(absl::FormatCivilTime(today - 1));
  r.set_end_day(absl::FormatCivilTime(today));
  r.add_group_by(v1::STATS_DIMENSION_GIFT);
  r.add_group_by(v1::STATS_DIMENSION_DAY);
  v1::GetRedemptionStatsResponse stats;
  ASSERT_TRUE(env_.stub().GetRedemptionStats(env_.StreetStaff().get(), r, &stats).ok());
  EXPECT_EQ(stats.totals().fulfilled_orders(), 1);
  EXPECT_EQ(stats.totals().points_spent(), 30);
  EXPECT_EQ(stats.totals().ready_now(), 1);
  ASSERT_EQ(stats.rows_size(), 1);
  EXPECT_EQ(stats.rows(0).gift_name(), "蓝牙耳机");
  EXPECT_EQ(stats.rows(0).day(), absl::FormatCivilTime(today));
  EXPECT_EQ(stats.rows(0).figures().items_handed_out(), 1);

  EXPECT_EQ(
      env_.stub()
          .GetRedemptionStats(
              env_.As("other", ROLE_STREET_STAFF, RewardsTestEnv::kOtherStreet).get(), r, &stats)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  r.set_start_day("2026-13-01");
  EXPECT_EQ(env_.stub().GetRedemptionStats(env_.StreetStaff().get(), r, &stats).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  r.set_start_day(absl::FormatCivilTime(today));
  r.add_group_by(v1::STATS_DIMENSION_GIFT);
  EXPECT_EQ(env_.stub().GetRedemptionStats(env_.StreetStaff().get(), r, &stats).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(RedemptionTest, ACitySystemReadsTheDashboardOfItsOwnNodeOnly) {
  v1::Redemption a;
  ASSERT_TRUE(env_.Redeem("r1", window_, gift_, &a).ok());
  auto grid = [&](const std::string& org) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization",
                     "Bearer " + env_.Token("sa_grid_" + org, common::v1::ROLE_CITY_SYSTEM, org,
                                            {"rewards.read"}));
    return ctx;
  };
  v1::GetRedemptionStatsRequest r;
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600));
  r.set_start_day(absl::FormatCivilTime(today));
  r.set_end_day(absl::FormatCivilTime(today));
  v1::GetRedemptionStatsResponse stats;
  // A key issued at another street reaches neither this street, its district nor the city.
  for (const auto& [level, id] : std::vector<std::pair<common::v1::OrgLevel, std::string>>{
           {common::v1::ORG_LEVEL_STREET, RewardsTestEnv::kStreet},
           {common::v1::ORG_LEVEL_COMMUNITY, RewardsTestEnv::kCommunity},
           {common::v1::ORG_LEVEL_DISTRICT, RewardsTestEnv::kDistrict},
           {common::v1::ORG_LEVEL_CITY, ""}}) {
    SCOPED_TRACE(id);
    r.mutable_scope()->set_level(level);
    r.mutable_scope()->set_org_id(id);
    EXPECT_EQ(env_.stub()
                  .GetRedemptionStats(grid(RewardsTestEnv::kOtherStreet).get(), r, &stats)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // Its own street's key reads it.
  r.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  r.mutable_scope()->set_org_id(RewardsTestEnv::kStreet);
  grpc::Status s = env_.stub().GetRedemptionStats(grid(RewardsTestEnv::kStreet).get(), r, &stats);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(stats.totals().ready_now(), 1);
}

}  // namespace
}  // namespace civicpoints::rewards
