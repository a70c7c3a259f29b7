// The saga under contention and after crashes: many riders racing for little stock, and a rewards
// process that dies between the ledger hold and the stock step (or between capture and its
// record), after which a fresh process's recovery pass leaves no hold stranded.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
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

}  // namespace
}  // namespace civicpoints::rewards
