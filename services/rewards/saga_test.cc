// The saga under contention, after crashes and through an identity outage: many riders racing for
// little stock; a rewards process that dies between the ledger hold and the stock step (or between
// capture and its record), after which a fresh process's recovery pass leaves no hold stranded; and
// identity gone for longer than rewards' service token lives, which holds up no call and loses or
// doubles no order.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/test_env.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_test_env.h"

namespace civicpoints::rewards {
namespace {

TEST(SagaTest, TwoHundredRidersRaceForTenItemsAndExactlyTenGetOne) {
  RewardsTestEnv env;
  ASSERT_TRUE(env.ok());
  constexpr int kRiders = 200;
  const std::string gift = env.MakeGift("蓝牙耳机", 10);
  env.Stock(RewardsTestEnv::kStationA, gift, 10);
  const std::string window = env.MakeWindow({gift}).window_id();
  for (int i = 0; i < kRiders; ++i) ASSERT_TRUE(env.Award(absl::StrCat("rider", i), 100));
  ASSERT_TRUE(env.Award("bystander", 100));

  std::vector<grpc::Status> results(kRiders);
  std::vector<v1::Redemption> orders(kRiders);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < kRiders; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      results[i] = env.Redeem(absl::StrCat("rider", i), window, gift, &orders[i]);
    });
  }
  go = true;
  for (std::thread& t : threads) t.join();

  int ready = 0, out_of_stock = 0;
  for (int i = 0; i < kRiders; ++i) {
    const ledger::v1::Account account = env.Account(absl::StrCat("rider", i));
    if (results[i].ok()) {
      ++ready;
      EXPECT_EQ(orders[i].state(), v1::REDEMPTION_STATE_READY);
      EXPECT_EQ(account.available(), 90);
      EXPECT_EQ(account.held(), 10);
    } else {
      EXPECT_EQ(ReasonOf(results[i]), "OUT_OF_STOCK") << results[i].error_message();
      out_of_stock += ReasonOf(results[i]) == "OUT_OF_STOCK";
      // What the station has left when the refusal is answered: none, or a few given back by an
      // order that was still being refused.
      EXPECT_TRUE(FiguresOf(results[i]).count("available_quantity"))
          << "the contract's metadata for OUT_OF_STOCK";
      EXPECT_EQ(account.available(), 100);  // untouched, or held and released
      EXPECT_EQ(account.held(), 0);
    }
  }
  EXPECT_EQ(ready, 10);
  EXPECT_EQ(out_of_stock, kRiders - 10);
  EXPECT_EQ(env.Sql("SELECT count(*) FROM redemptions WHERE state = 2"), "10");
  const v1::StationStock stock = env.StockOf(RewardsTestEnv::kStationA, gift);
  EXPECT_EQ(stock.available_quantity(), 0);
  EXPECT_EQ(stock.reserved_quantity(), 10);
  EXPECT_EQ(env.Account("bystander").available(), 100);
  // Every code is distinct.
  EXPECT_EQ(env.Sql("SELECT count(DISTINCT pickup_code) FROM redemptions WHERE state = 2"), "10");
}

TEST(SagaTest, CrashBetweenHoldAndStockStepIsFinishedByRecovery) {
  RewardsOptions crashing;
  crashing.after_hold = [](const std::string&) { return false; };  // the process "dies" here
  RewardsTestEnv env(crashing);
  ASSERT_TRUE(env.ok());
  const std::string gift = env.MakeGift("充电宝", 40);
  env.Stock(RewardsTestEnv::kStationA, gift, 3);
  const std::string window = env.MakeWindow({gift}).window_id();
  ASSERT_TRUE(env.Award("r1", 100));
  ASSERT_TRUE(env.Award("r2", 100));
  ASSERT_TRUE(env.Award("r3", 100));

  v1::Redemption o1, o2, o3;
  EXPECT_EQ(env.Redeem("r1", window, gift, &o1, 1, RewardsTestEnv::kStationA, "k1").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(env.Redeem("r2", window, gift, &o2, 1, RewardsTestEnv::kStationA, "k2").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(env.Redeem("r3", window, gift, &o3, 1, RewardsTestEnv::kStationA, "k3").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  const std::string id1 = env.Sql("SELECT redemption_id FROM redemptions WHERE rider_id = 'r1'");
  const std::string id2 = env.Sql("SELECT redemption_id FROM redemptions WHERE rider_id = 'r2'");
  const std::string id3 = env.Sql("SELECT redemption_id FROM redemptions WHERE rider_id = 'r3'");
  EXPECT_EQ(env.Hold(id1).state(), ledger::v1::HOLD_STATE_HELD);
  EXPECT_EQ(env.Sql("SELECT count(*) FROM redemptions WHERE state = 1"), "3");
  EXPECT_EQ(env.StockOf(RewardsTestEnv::kStationA, gift).reserved_quantity(), 0);

  // While the process was down, staff found only one item left.
  env.Restart({});
  v1::CorrectStationStockRequest count;
  count.set_station_id(RewardsTestEnv::kStationA);
  count.set_gift_id(gift);
  count.set_counted_quantity(1);
  count.set_reason("盘点");
  count.set_idempotency_key("count");
  v1::CorrectStationStockResponse counted;
  ASSERT_TRUE(env.stub().CorrectStationStock(env.StreetStaff().get(), count, &counted).ok());

  // r3's app retries with its key and resumes its own order.
  ASSERT_TRUE(env.Redeem("r3", window, gift, &o3, 1, RewardsTestEnv::kStationA, "k3").ok());
  EXPECT_EQ(o3.redemption_id(), id3);
  EXPECT_EQ(o3.state(), v1::REDEMPTION_STATE_READY);

  // The fresh process's recovery pass takes the other two: no stock is left for them.
  MaintenanceCounts n = env.service().RunMaintenance(absl::Now(), absl::ZeroDuration());
  EXPECT_EQ(n.orders_recovered, 2);
  for (const auto& [rider, id] : {std::pair<std::string, std::string>{"r1", id1}, {"r2", id2}}) {
    EXPECT_EQ(
        env.Sql(absl::StrCat("SELECT state FROM redemptions WHERE redemption_id = '", id, "'")),
        "6");
    EXPECT_EQ(env.Hold(id).state(), ledger::v1::HOLD_STATE_RELEASED);
    EXPECT_EQ(env.Account(rider).available(), 100);
    EXPECT_EQ(env.Account(rider).held(), 0);
  }
  EXPECT_EQ(env.Sql(absl::StrCat("SELECT failure_reason FROM redemptions WHERE redemption_id = '",
                                 id1, "'")),
            std::to_string(v1::ERROR_REASON_OUT_OF_STOCK));
  EXPECT_EQ(env.Hold(id3).state(), ledger::v1::HOLD_STATE_HELD);
  EXPECT_EQ(env.Account("r3").held(), 40);
  EXPECT_EQ(env.StockOf(RewardsTestEnv::kStationA, gift).reserved_quantity(), 1);
  // Held points in the ledger are exactly those of READY orders.
  EXPECT_EQ(env.Sql("SELECT coalesce(sum(points), 0) FROM redemptions WHERE state = 2"), "40");
  EXPECT_EQ(env.service().RunMaintenance(absl::Now(), absl::ZeroDuration()).orders_recovered, 0);
}

TEST(SagaTest, RecoveredOrderWithStockBecomesReady) {
  RewardsOptions crashing;
  crashing.after_hold = [](const std::string&) { return false; };
  RewardsTestEnv env(crashing);
  ASSERT_TRUE(env.ok());
  const std::string gift = env.MakeGift("水杯", 20);
  env.Stock(RewardsTestEnv::kStationA, gift, 2);
  const std::string window = env.MakeWindow({gift}).window_id();
  ASSERT_TRUE(env.Award("r1", 50));
  v1::Redemption order;
  EXPECT_FALSE(env.Redeem("r1", window, gift, &order).ok());
  env.Restart({});
  EXPECT_EQ(env.service().RunMaintenance(absl::Now(), absl::ZeroDuration()).orders_recovered, 1);
  const std::string id = env.Sql("SELECT redemption_id FROM redemptions");
  EXPECT_EQ(env.Sql("SELECT state FROM redemptions"), "2");
  EXPECT_EQ(env.Sql("SELECT length(pickup_code) FROM redemptions"), "6");
  EXPECT_EQ(env.Hold(id).state(), ledger::v1::HOLD_STATE_HELD);
  EXPECT_EQ(env.Account("r1").held(), 20);
  EXPECT_EQ(env.StockOf(RewardsTestEnv::kStationA, gift).reserved_quantity(), 1);
}

// An order whose hold was taken long before it could be made READY (PENDING while the ledger was
// away) has less time left on the hold than a whole pickup: its pickup ends when the hold would,
// never after, so no keeper hands over a gift whose points the ledger has let go. (A hold shorter
// than the pickup stands in for the hold taken long ago.)
TEST(SagaTest, APickupEndsNoLaterThanItsHold) {
  RewardsOptions short_hold;
  short_hold.hold_margin = -absl::Hours(20);  // the default pickup is 24 h: the hold lives 4 h
  RewardsTestEnv env(short_hold);
  ASSERT_TRUE(env.ok());
  const std::string gift = env.MakeGift("毛巾", 10);
  env.Stock(RewardsTestEnv::kStationA, gift, 2);
  const std::string window = env.MakeWindow({gift}).window_id();
  ASSERT_TRUE(env.Award("r1", 50));
  v1::Redemption order;
  ASSERT_TRUE(env.Redeem("r1", window, gift, &order).ok());
  ASSERT_EQ(order.state(), v1::REDEMPTION_STATE_READY);
  const ledger::v1::Hold hold = env.Hold(order.redemption_id());
  ASSERT_TRUE(hold.has_expire_time());
  EXPECT_EQ(order.expire_time().seconds(), hold.expire_time().seconds());
  EXPECT_LT(order.expire_time().seconds(), absl::ToUnixSeconds(absl::Now() + absl::Hours(5)));
}

// An order the recovery pass cannot settle waits its turn, longer after each failure, and the
// pass takes orders by their turn: an order stuck for good cannot keep others waiting.
TEST(SagaTest, AnOrderRecoveryCannotSettleWaitsLongerEachTimeAndOthersGoFirst) {
  RewardsOptions crashing;
  crashing.after_hold = [](const std::string&) { return false; };
  RewardsTestEnv env(crashing);
  ASSERT_TRUE(env.ok());
  const std::string gift = env.MakeGift("雨衣", 10);
  env.Stock(RewardsTestEnv::kStationA, gift, 5);
  const std::string window = env.MakeWindow({gift}).window_id();
  for (const char* rider : {"r1", "r2", "r3"}) ASSERT_TRUE(env.Award(rider, 50));
  v1::Redemption order;
  EXPECT_FALSE(env.Redeem("r1", window, gift, &order).ok());
  EXPECT_FALSE(env.Redeem("r2", window, gift, &order).ok());
  const std::string stuck = env.Sql("SELECT redemption_id FROM redemptions WHERE rider_id = 'r1'");
  // After the restart r1's order still cannot get past its hold (a stand-in for an order stuck
  // for good); r2's can.
  auto hold_new_orders = std::make_shared<std::atomic<bool>>(false);
  RewardsOptions stuck_one;
  stuck_one.after_hold = [stuck, hold_new_orders](const std::string& id) {
    return id != stuck && !*hold_new_orders;
  };
  env.Restart(stuck_one);
  const auto state_of = [&](const std::string& rider) {
    return env.Sql(absl::StrCat("SELECT state FROM redemptions WHERE rider_id = '", rider, "'"));
  };
  const auto attempts = [&] {
    return env.Sql(absl::StrCat("SELECT recovery_attempts FROM redemptions WHERE redemption_id = '",
                                stuck, "'"));
  };
  const absl::Time t0 = absl::Now();
  EXPECT_EQ(env.service().RunMaintenance(t0, absl::ZeroDuration()).orders_recovered, 1);
  EXPECT_EQ(state_of("r2"), "2");
  EXPECT_EQ(state_of("r1"), "1");
  EXPECT_EQ(attempts(), "1");
  // Its turn is 5 s away: a pass before then leaves it be, and a newer order goes first.
  *hold_new_orders = true;  // r3's order is left PENDING too
  EXPECT_FALSE(env.Redeem("r3", window, gift, &order).ok());
  *hold_new_orders = false;
  EXPECT_EQ(
      env.service().RunMaintenance(t0 + absl::Seconds(4), absl::ZeroDuration()).orders_recovered,
      1);
  EXPECT_EQ(state_of("r3"), "2");
  EXPECT_EQ(attempts(), "1");
  // Then it is tried again and, failing, waits 10 s; then 20 s.
  env.service().RunMaintenance(t0 + absl::Seconds(6), absl::ZeroDuration());
  EXPECT_EQ(attempts(), "2");
  env.service().RunMaintenance(t0 + absl::Seconds(15), absl::ZeroDuration());
  EXPECT_EQ(attempts(), "2");
  env.service().RunMaintenance(t0 + absl::Seconds(17), absl::ZeroDuration());
  EXPECT_EQ(attempts(), "3");
  EXPECT_EQ(state_of("r1"), "1");
}

TEST(SagaTest, CrashAfterCaptureIsRecordedByRecovery) {
  RewardsTestEnv env;
  ASSERT_TRUE(env.ok());
  const std::string gift = env.MakeGift("洗衣液", 25);
  env.Stock(RewardsTestEnv::kStationA, gift, 2);
  const std::string window = env.MakeWindow({gift}).window_id();
  ASSERT_TRUE(env.Award("r1", 50));
  v1::Redemption order;
  ASSERT_TRUE(env.Redeem("r1", window, gift, &order).ok());
  // The keeper's call got as far as recording its intent; the process died before the capture.
  env.Exec(
      absl::StrCat("UPDATE redemptions SET intent = 3, fulfilled_by = 'keeper_a' "
                   "WHERE redemption_id = '",
                   order.redemption_id(), "'"));
  env.Restart({});
  EXPECT_EQ(env.service().RunMaintenance(absl::Now(), absl::ZeroDuration()).orders_recovered, 1);
  EXPECT_EQ(env.Sql("SELECT state FROM redemptions"), "3");
  EXPECT_EQ(env.Hold(order.redemption_id()).state(), ledger::v1::HOLD_STATE_CAPTURED);
  EXPECT_EQ(env.StockOf(RewardsTestEnv::kStationA, gift).on_hand_quantity(), 1);
  EXPECT_EQ(env.Account("r1").lifetime_spent(), 25);
}

// A refusal no retry can change used to leave the order PENDING, retried by every recovery pass
// for ever while it counted against the rider's limits.
TEST(SagaTest, AHoldTheLedgerRefusesForGoodFailsTheOrderWithNothingTaken) {
  // A pickup time past the ledger's 30-day limit on holds (the setting itself stops at 7 days; a
  // stand-in for any refusal no retry can change): the ledger refuses every such hold.
  RewardsOptions options;
  options.default_pickup_ttl = absl::Hours(24 * 31);
  RewardsTestEnv env(options);
  ASSERT_TRUE(env.ok());
  const std::string gift = env.MakeGift("洗衣液", 30);
  env.Stock(RewardsTestEnv::kStationA, gift, 2);
  const std::string window = env.MakeWindow({gift}).window_id();
  ASSERT_TRUE(env.Award("r1", 100));
  v1::Redemption order;
  env.Redeem("r1", window, gift, &order);
  const std::string id = env.Sql("SELECT redemption_id FROM redemptions WHERE rider_id = 'r1'");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(env.Sql("SELECT state FROM redemptions WHERE redemption_id = '" + id + "'"), "6");
  EXPECT_EQ(env.Hold(id).state(), ledger::v1::HOLD_STATE_UNSPECIFIED);
  EXPECT_EQ(env.Account("r1").available(), 100);
  EXPECT_EQ(env.Account("r1").held(), 0);
  EXPECT_EQ(env.StockOf(RewardsTestEnv::kStationA, gift).reserved_quantity(), 0);
  EXPECT_EQ(env.service().RunMaintenance(absl::Now(), absl::ZeroDuration()).orders_recovered, 0);
}

// Rewards trades its API key with identity for a token that lives 4 s, renewed at half its life
// and, while identity fails, retried every 100–400 ms.
class RewardsIdentityOutageTest : public ::testing::Test {
 protected:
  static constexpr absl::Duration kTokenLifetime = absl::Seconds(4);

  RewardsIdentityOutageTest()
      : env_(RewardsOptions{}, {.exchange_api_key = true,
                                .token = {.call_timeout = absl::Milliseconds(500),
                                          .min_backoff = absl::Milliseconds(100),
                                          .max_backoff = absl::Milliseconds(400)},
                                .token_lifetime = kTokenLifetime}) {}

  grpc::Status Cancel(const v1::Redemption& order, v1::Redemption* out = nullptr) {
    v1::CancelRedemptionRequest r;
    r.set_redemption_id(order.redemption_id());
    r.set_reason("今天来不了");
    v1::CancelRedemptionResponse resp;
    grpc::Status s = env_.stub().CancelRedemption(env_.Rider(order.rider_id()).get(), r, &resp);
    if (out != nullptr) *out = resp.redemption();
    return s;
  }
  std::string OrderSql(const std::string& column, const v1::Redemption& order) {
    return env_.Sql(absl::StrCat("SELECT ", column, " FROM redemptions WHERE redemption_id = '",
                                 order.redemption_id(), "'"));
  }

  RewardsTestEnv env_;
};

TEST_F(RewardsIdentityOutageTest,
       RedemptionsWaitOutAnOutageLongerThanATokenWithoutAnyCallWaitingOnIdentity) {
  ASSERT_TRUE(env_.ok());
  using S = RewardsTestEnv;
  constexpr int kRiders = 10;
  auto rider = [](int i) { return absl::StrCat("r", i); };
  const std::string gift = env_.MakeGift("保温杯", 10);
  env_.Stock(S::kStationA, gift, 20);
  const std::string window = env_.MakeWindow({gift}).window_id();
  for (int i = 0; i < kRiders; ++i) ASSERT_TRUE(env_.Award(rider(i), 100));

  // Before: r0–r4 hold their points for a READY order; r0 has picked up (captured).
  std::vector<v1::Redemption> orders(kRiders);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(env_.Redeem(rider(i), window, gift, &orders[i]).ok());
    ASSERT_EQ(orders[i].state(), v1::REDEMPTION_STATE_READY);
  }
  v1::Redemption done;
  ASSERT_TRUE(env_.Fulfil(env_.KeeperA(), S::kStationA, orders[0].pickup_code(), &done).ok());
  ASSERT_EQ(done.state(), v1::REDEMPTION_STATE_FULFILLED);

  // Identity goes away for rewards right after a renewal, so its token has most of its life left.
  absl::StatusOr<std::string> first = env_.service_token().Get();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        absl::StatusOr<std::string> t = env_.service_token().Get();
        return t.ok() && *t != *first;
      },
      kTokenLifetime));
  env_.identity_link().Cut();
  const absl::Time cut_at = absl::Now();
  const int exchanges_at_cut = env_.identity_exchanges();

  absl::Duration slowest;
  auto timed = [&](const auto& call) {
    const absl::Time t0 = absl::Now();
    auto result = call();
    slowest = std::max(slowest, absl::Now() - t0);
    return result;
  };
  // While the token lasts, what needs only the ledger goes on: r5's order is held and READY.
  ASSERT_TRUE(timed([&] { return env_.Redeem(rider(5), window, gift, &orders[5]); }).ok());
  EXPECT_EQ(orders[5].state(), v1::REDEMPTION_STATE_READY);
  // What must ask identity itself (is a gift's owner a street?) is refused at once.
  v1::CreateGiftRequest new_gift;
  new_gift.set_name("雨衣");
  new_gift.set_category(v1::GIFT_CATEGORY_ELECTRONICS);
  new_gift.set_points_cost(20);
  new_gift.set_owner_org_id(S::kStreet);
  new_gift.set_idempotency_key("gift-during-outage");
  v1::CreateGiftResponse created;
  EXPECT_EQ(timed([&] {
              return env_.stub().CreateGift(env_.StreetStaff().get(), new_gift, &created);
            }).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  // The token runs out and no fresh one can be had: Get fails at once from then on.
  ASSERT_TRUE(testing::WaitFor([&] { return !env_.service_token().Get().ok(); }, kTokenLifetime));
  EXPECT_LT(absl::Now() - cut_at, kTokenLifetime);

  // Until identity has been away for longer than a token lives, riders and keepers keep at it.
  // r6–r9 order (each app retrying with its key); the keeper hands r1's gift over (retrying with
  // its key) and r2's once (that tablet then goes quiet); r3 cancels (retrying). Riders and the
  // keeper read; the recovery pass runs. Every call answers at once, UNAVAILABLE or OK.
  int rounds = 0;
  while (absl::Now() < cut_at + kTokenLifetime + absl::Seconds(2)) {
    for (int i = 6; i < kRiders; ++i) {
      const grpc::Status s = timed([&] {
        return env_.Redeem(rider(i), window, gift, nullptr, 1, S::kStationA,
                           absl::StrCat("outage-", i));
      });
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    }
    grpc::Status s = timed([&] {
      return env_.Fulfil(env_.KeeperA(), S::kStationA, orders[1].pickup_code(), nullptr,
                         "hand-over-r1");
    });
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    if (rounds == 0) {
      s = timed([&] {
        return env_.Fulfil(env_.KeeperA(), S::kStationA, orders[2].pickup_code(), nullptr,
                           "hand-over-r2");
      });
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    }
    s = timed([&] { return Cancel(orders[3]); });
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    v1::GetRedemptionRequest get;
    get.set_redemption_id(orders[4].redemption_id());
    v1::GetRedemptionResponse got;
    s = timed([&] { return env_.stub().GetRedemption(env_.Rider(rider(4)).get(), get, &got); });
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(got.redemption().state(), v1::REDEMPTION_STATE_READY);
    v1::ListStationPickupsRequest pickups;
    pickups.set_station_id(S::kStationA);
    v1::ListStationPickupsResponse waiting;
    s = timed(
        [&] { return env_.stub().ListStationPickups(env_.KeeperA().get(), pickups, &waiting); });
    EXPECT_TRUE(s.ok()) << s.error_message();
    const MaintenanceCounts pass =
        timed([&] { return env_.service().RunMaintenance(absl::Now(), absl::ZeroDuration()); });
    EXPECT_EQ(pass.orders_recovered, 0);
    ++rounds;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_GE(rounds, 5);
  EXPECT_LT(slowest, absl::Milliseconds(500)) << "a call waited on identity";
  EXPECT_EQ(env_.identity_exchanges(), exchanges_at_cut);  // nothing got through
  // Nothing was done that needs a token: no order for r6–r9 (nor a record of their keys), and
  // the ledger still holds r1's, r2's and r3's points, their orders marked to be settled.
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM redemptions"), "6");
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM redemption_requests WHERE key LIKE 'outage-%'"), "0");
  EXPECT_EQ(env_.LedgerSql("SELECT count(*) FROM ledger.holds"), 6);
  EXPECT_EQ(env_.LedgerSql("SELECT count(*) FROM ledger.entries WHERE kind = 4"), 1);
  EXPECT_EQ(env_.LedgerSql("SELECT count(*) FROM ledger.entries WHERE kind = 5"), 0);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(env_.Hold(orders[i].redemption_id()).state(), ledger::v1::HOLD_STATE_HELD) << i;
    EXPECT_EQ(OrderSql("state", orders[i]), "2") << i;
  }
  EXPECT_EQ(OrderSql("intent", orders[1]), "3");
  EXPECT_EQ(OrderSql("intent", orders[2]), "3");
  EXPECT_EQ(OrderSql("intent", orders[3]), "4");

  // Identity returns: a token is had again within the token's backoff (its channel reconnects on
  // that backoff too, not on gRPC's 1 s growing to 120 s), and everything resumes.
  env_.identity_link().Restore();
  const absl::Time restored_at = absl::Now();
  ASSERT_TRUE(testing::WaitFor([&] { return env_.service_token().Get().ok(); }, absl::Seconds(10)));
  const absl::Duration token_back = absl::Now() - restored_at;
  EXPECT_LT(token_back, absl::Seconds(2));
  // Each app's retry with its key finishes its action, once.
  for (int i = 6; i < kRiders; ++i) {
    const grpc::Status s = env_.Redeem(rider(i), window, gift, &orders[i], 1, S::kStationA,
                                       absl::StrCat("outage-", i));
    ASSERT_TRUE(s.ok()) << i << ": " << s.error_message();
    EXPECT_EQ(orders[i].state(), v1::REDEMPTION_STATE_READY);
  }
  v1::Redemption again;
  ASSERT_TRUE(env_.Redeem(rider(6), window, gift, &again, 1, S::kStationA, "outage-6").ok());
  EXPECT_EQ(again.redemption_id(), orders[6].redemption_id());
  grpc::Status s =
      env_.Fulfil(env_.KeeperA(), S::kStationA, orders[1].pickup_code(), &done, "hand-over-r1");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(done.state(), v1::REDEMPTION_STATE_FULFILLED);
  v1::Redemption cancelled;
  s = Cancel(orders[3], &cancelled);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(cancelled.state(), v1::REDEMPTION_STATE_CANCELLED);
  // The hand-over nobody retried is finished by the recovery pass, for the keeper who entered it,
  // when its turn comes (the passes during the outage failed it, each time waiting longer, at most
  // 10 minutes).
  const absl::Time turn = absl::Now() + absl::Minutes(10);
  EXPECT_EQ(env_.service().RunMaintenance(turn, absl::ZeroDuration()).orders_recovered, 1);
  EXPECT_EQ(OrderSql("state", orders[2]), "3");
  EXPECT_EQ(OrderSql("fulfilled_by", orders[2]), "keeper_a");
  EXPECT_EQ(env_.service().RunMaintenance(turn, absl::ZeroDuration()).orders_recovered, 0);
  // Org lookups answer again too (the same request, under its key), once their channel has
  // reconnected.
  EXPECT_TRUE(testing::WaitFor(
      [&] { return env_.stub().CreateGift(env_.StreetStaff().get(), new_gift, &created).ok(); },
      absl::Seconds(10)));
  std::cout << "identity away " << restored_at - cut_at << "; the token back " << token_back
            << " and org lookups " << absl::Now() - restored_at
            << " after it returned; slowest call during the outage " << slowest << " in " << rounds
            << " rounds\n";

  // Every order in its final state exactly once, in rewards and in the ledger.
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM redemptions"), std::to_string(kRiders));
  EXPECT_EQ(env_.Sql("SELECT count(DISTINCT rider_id) FROM redemptions"), std::to_string(kRiders));
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM redemptions WHERE intent <> 0 OR state = 1"), "0");
  EXPECT_EQ(env_.LedgerSql("SELECT count(*) FROM ledger.holds"), kRiders);
  EXPECT_EQ(env_.LedgerSql("SELECT count(*) FROM ledger.entries WHERE kind = 3"), kRiders);
  EXPECT_EQ(env_.LedgerSql("SELECT count(*) FROM ledger.entries WHERE kind = 4"), 3);
  EXPECT_EQ(env_.LedgerSql("SELECT count(*) FROM ledger.entries WHERE kind = 5"), 1);
  for (int i = 0; i < kRiders; ++i) {
    const v1::RedemptionState want = i <= 2   ? v1::REDEMPTION_STATE_FULFILLED
                                     : i == 3 ? v1::REDEMPTION_STATE_CANCELLED
                                              : v1::REDEMPTION_STATE_READY;
    const ledger::v1::HoldState hold = i <= 2   ? ledger::v1::HOLD_STATE_CAPTURED
                                       : i == 3 ? ledger::v1::HOLD_STATE_RELEASED
                                                : ledger::v1::HOLD_STATE_HELD;
    EXPECT_EQ(OrderSql("state", orders[i]), std::to_string(want)) << rider(i);
    EXPECT_EQ(env_.Hold(orders[i].redemption_id()).state(), hold) << rider(i);
    const ledger::v1::Account a = env_.Account(rider(i));
    EXPECT_EQ(a.available(), i == 3 ? 100 : 90) << rider(i);
    EXPECT_EQ(a.held(), i >= 4 ? 10 : 0) << rider(i);
    EXPECT_EQ(a.lifetime_spent(), i <= 2 ? 10 : 0) << rider(i);
  }
  const v1::StationStock stock = env_.StockOf(S::kStationA, gift);
  EXPECT_EQ(stock.reserved_quantity(), 6);  // r4–r9
  EXPECT_EQ(stock.on_hand_quantity(), 17);  // r0–r2 took theirs
  EXPECT_EQ(stock.available_quantity(), 11);
  auto movements = [&](v1::StockMovementKind kind) {
    return env_.Sql(absl::StrCat("SELECT count(*) FROM stock_movements WHERE kind = ", kind,
                                 " AND redemption_id IS NOT NULL"));
  };
  EXPECT_EQ(movements(v1::STOCK_MOVEMENT_KIND_RESERVE), std::to_string(kRiders));
  EXPECT_EQ(movements(v1::STOCK_MOVEMENT_KIND_FULFIL), "3");
  EXPECT_EQ(movements(v1::STOCK_MOVEMENT_KIND_RETURN), "1");
  EXPECT_GT(env_.identity_exchanges(), exchanges_at_cut);
}

}  // namespace
}  // namespace civicpoints::rewards
