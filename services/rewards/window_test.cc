// Exchange windows: the ranking cut frozen when a window opens (ties with the N-th place inside),
// what may change in which state, opening and closing on time, and bad input.
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "civicpoints/rewards/v1/events.pb.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_test_env.h"

namespace civicpoints::rewards {
namespace {

using common::v1::ROLE_COMMUNITY_STAFF;

v1::EligibilityRule TopOfStreet(int32_t n, int64_t min_balance = 0) {
  v1::EligibilityRule rule;
  rule.set_min_balance(min_balance);
  rule.mutable_ranking()->mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  rule.mutable_ranking()->mutable_scope()->set_org_id(RewardsTestEnv::kStreet);
  rule.mutable_ranking()->mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  rule.mutable_ranking()->set_top_n(n);
  return rule;
}

TEST(WindowTest, RankingCutIsFrozenAtOpeningWithTiesInside) {
  RewardsTestEnv env;
  ASSERT_TRUE(env.ok());
  for (auto [rider, points] : std::vector<std::pair<std::string, int64_t>>{
           {"r1", 50}, {"r2", 40}, {"r3", 30}, {"r4", 30}, {"r5", 10}}) {
    ASSERT_TRUE(env.Award(rider, points));
  }
  const std::string gift = env.MakeGift("洗衣液", 5);
  env.Stock(RewardsTestEnv::kStationA, gift, 20);
  v1::ExchangeWindow w = env.MakeWindow({gift}, /*open=*/false, TopOfStreet(3, 5));
  EXPECT_NE(w.rule_text().find("与第 3 名积分相同者同样入选"), std::string::npos) << w.rule_text();
  EXPECT_NE(w.rule_text().find("清远街道"), std::string::npos) << w.rule_text();

  // Before opening, the live ranking answers, marked provisional.
  v1::GetExchangeWindowEligibilityRequest ask;
  ask.set_window_id(w.window_id());
  v1::GetExchangeWindowEligibilityResponse standing;
  ASSERT_TRUE(env.stub().GetExchangeWindowEligibility(env.Rider("r4").get(), ask, &standing).ok());
  EXPECT_TRUE(standing.eligibility().ranking_provisional());
  EXPECT_FALSE(standing.eligibility().eligible());  // not open yet
  EXPECT_EQ(standing.eligibility().reasons(0), v1::ERROR_REASON_WINDOW_NOT_OPEN);

  v1::OpenExchangeWindowRequest open;
  open.set_window_id(w.window_id());
  v1::OpenExchangeWindowResponse opened;
  ASSERT_TRUE(env.stub().OpenExchangeWindow(env.StreetStaff().get(), open, &opened).ok());
  EXPECT_EQ(opened.window().state(), v1::EXCHANGE_WINDOW_STATE_OPEN);
  EXPECT_EQ(opened.window().snapshot().cutoff_points(), 30);
  EXPECT_EQ(opened.window().snapshot().eligible_count(), 4);  // r3 and r4 tie at the cut
  EXPECT_EQ(opened.window().snapshot().ranked_count(), 5);
  // Opening again is a no-op.
  ASSERT_TRUE(env.stub().OpenExchangeWindow(env.StreetStaff().get(), open, &opened).ok());
  // The opening is announced once on the feed, with the frozen cut, at the window's street.
  EXPECT_EQ(env.Sql("SELECT count(*) FROM outbox_events WHERE type = "
                    "'civicpoints.rewards.v1.exchange_window_opened'"),
            "1");
  EXPECT_EQ(env.Sql("SELECT street_id || ' ' || community_id || '.' || subject FROM outbox_events "
                    "WHERE type LIKE '%window_opened'"),
            std::string(RewardsTestEnv::kStreet) + " .exchange-windows/" + w.window_id());
  std::string data;
  ASSERT_TRUE(absl::Base64Unescape(
      env.Sql("SELECT translate(encode(data, 'base64'), E'\\n', '') FROM outbox_events WHERE "
              "type LIKE '%window_opened'"),
      &data));
  v1::ExchangeWindowChanged announced;
  ASSERT_TRUE(announced.ParseFromString(data));
  EXPECT_EQ(announced.window_id(), w.window_id());
  EXPECT_EQ(announced.cutoff_points(), 30);
  EXPECT_EQ(announced.eligible_riders(), 4);
  EXPECT_EQ(announced.end_time().seconds(), w.end_time().seconds());

  // r5 overtakes everyone after the opening: the cut does not move.
  ASSERT_TRUE(env.Award("r5", 100));
  v1::Redemption order;
  grpc::Status out = env.Redeem("r5", w.window_id(), gift, &order);
  EXPECT_EQ(out.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(out), "NOT_IN_RANKING_CUT");
  ASSERT_TRUE(env.Redeem("r4", w.window_id(), gift, &order).ok());
  EXPECT_EQ(order.state(), v1::REDEMPTION_STATE_READY);

  ASSERT_TRUE(env.stub().GetExchangeWindowEligibility(env.Rider("r5").get(), ask, &standing).ok());
  EXPECT_FALSE(standing.eligibility().eligible());
  EXPECT_EQ(standing.eligibility().reasons(0), v1::ERROR_REASON_NOT_IN_RANKING_CUT);
  EXPECT_FALSE(standing.eligibility().explanation().empty());
  // Keepers ask about a rider at their station; riders only about themselves.
  ask.set_rider_id("r3");
  ASSERT_TRUE(env.stub().GetExchangeWindowEligibility(env.KeeperA().get(), ask, &standing).ok());
  EXPECT_TRUE(standing.eligibility().eligible());
  EXPECT_EQ(standing.eligibility().rank(), 3);
  EXPECT_EQ(
      env.stub().GetExchangeWindowEligibility(env.Rider("r5").get(), ask, &standing).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);

  v1::ListExchangeWindowEligibleRidersRequest riders;
  riders.set_window_id(w.window_id());
  v1::ListExchangeWindowEligibleRidersResponse cut;
  ASSERT_TRUE(env.stub().ListExchangeWindowEligibleRiders(env.KeeperA().get(), riders, &cut).ok());
  ASSERT_EQ(cut.riders_size(), 4);
  EXPECT_EQ(cut.riders(0).rider_id(), "r1");
  EXPECT_EQ(cut.riders(2).rank(), 3);
  EXPECT_EQ(cut.riders(3).rank(), 3);
  EXPECT_EQ(cut.riders(3).rider_id(), "r4");
  EXPECT_EQ(cut.riders(3).items_redeemed(), 1);

  v1::ListMyEligibleExchangeWindowsRequest mine;
  v1::ListMyEligibleExchangeWindowsResponse listed;
  ASSERT_TRUE(env.stub().ListMyEligibleExchangeWindows(env.Rider("r1").get(), mine, &listed).ok());
  EXPECT_EQ(listed.windows_size(), 1);
  ASSERT_TRUE(env.stub().ListMyEligibleExchangeWindows(env.Rider("r5").get(), mine, &listed).ok());
  EXPECT_EQ(listed.windows_size(), 0);
}

TEST(WindowTest, BadWindowsAreRefusedByField) {
  RewardsTestEnv env;
  ASSERT_TRUE(env.ok());
  const std::string gift = env.MakeGift("充电宝", 50);
  const std::string inactive = env.MakeGift("雨衣", 10);
  v1::UpdateGiftRequest off;
  off.set_gift_id(inactive);
  off.mutable_update_mask()->add_paths("active");
  v1::UpdateGiftResponse offed;
  ASSERT_TRUE(env.stub().UpdateGift(env.StreetStaff().get(), off, &offed).ok());

  auto base = [&]() {
    v1::CreateExchangeWindowRequest r;
    v1::ExchangeWindow* w = r.mutable_window();
    w->set_title("兑换日");
    w->set_owner_org_id(RewardsTestEnv::kStreet);
    w->add_station_ids(RewardsTestEnv::kStationA);
    const absl::Time now = absl::Now();
    SetTime(w->mutable_start_time(), Us(now + absl::Hours(1)));
    SetTime(w->mutable_end_time(), Us(now + absl::Hours(5)));
    w->add_gifts()->set_gift_id(gift);
    r.set_idempotency_key("w");
    return r;
  };
  v1::CreateExchangeWindowResponse resp;
  auto refused = [&](const v1::CreateExchangeWindowRequest& r, grpc::StatusCode code,
                     const std::string& text) {
    grpc::Status s = env.stub().CreateExchangeWindow(env.StreetStaff().get(), r, &resp);
    EXPECT_EQ(s.error_code(), code) << text << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(text), std::string::npos) << s.error_message();
  };
  v1::CreateExchangeWindowRequest r = base();
  r.mutable_window()->set_title("");
  refused(r, grpc::StatusCode::INVALID_ARGUMENT, "title");
  r = base();
  *r.mutable_window()->mutable_end_time() = r.window().start_time();
  refused(r, grpc::StatusCode::INVALID_ARGUMENT, "end_time");
  r = base();
  SetTime(r.mutable_window()->mutable_end_time(), Us(absl::Now() + absl::Hours(24 * 40)));
  refused(r, grpc::StatusCode::INVALID_ARGUMENT, "31 days");
  r = base();
  r.mutable_window()->add_station_ids(RewardsTestEnv::kStationA);
  refused(r, grpc::StatusCode::INVALID_ARGUMENT, "twice");
  r = base();
  r.mutable_window()->add_station_ids(RewardsTestEnv::kLoveCorner);
  refused(r, grpc::StatusCode::FAILED_PRECONDITION, "not a rider station");
  r = base();
  r.mutable_window()->add_gifts()->set_gift_id(inactive);
  refused(r, grpc::StatusCode::FAILED_PRECONDITION, "inactive");
  r = base();
  r.mutable_window()->add_gifts()->set_gift_id("g_missing");
  refused(r, grpc::StatusCode::NOT_FOUND, "gifts");
  r = base();
  *r.mutable_window()->mutable_eligibility() = TopOfStreet(0);
  refused(r, grpc::StatusCode::INVALID_ARGUMENT, "top_n");
  r = base();
  *r.mutable_window()->mutable_eligibility() = TopOfStreet(15);
  r.mutable_window()->mutable_eligibility()->mutable_ranking()->mutable_period()->set_kind(
      common::v1::RANKING_PERIOD_KIND_MONTH);
  r.mutable_window()->mutable_eligibility()->mutable_ranking()->mutable_period()->set_key("2026-6");
  refused(r, grpc::StatusCode::INVALID_ARGUMENT, "period.key");
  r = base();
  r.mutable_window()->mutable_pickup_ttl()->set_seconds(60);
  refused(r, grpc::StatusCode::INVALID_ARGUMENT, "pickup_ttl");
  r = base();
  r.mutable_window()->set_owner_org_id(RewardsTestEnv::kCommunity2);  // station A is not inside
  grpc::Status s = env.stub().CreateExchangeWindow(
      env.As("cs2", ROLE_COMMUNITY_STAFF, RewardsTestEnv::kCommunity2).get(), r, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_EQ(ReasonOf(s), "STATION_OUTSIDE_OWNER");
  r = base();
  s = env.stub().CreateExchangeWindow(
      env.As("cs2", ROLE_COMMUNITY_STAFF, RewardsTestEnv::kCommunity2).get(), r, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(env.Sql("SELECT count(*) FROM exchange_windows"), "0");
}

TEST(WindowTest, OnlyTitleDescriptionAndEndChangeOnceOpenAndNothingOnceClosed) {
  RewardsTestEnv env;
  ASSERT_TRUE(env.ok());
  const std::string gift = env.MakeGift("充电宝", 50);
  const std::string other = env.MakeGift("耳机", 80);
  v1::ExchangeWindow w = env.MakeWindow({gift}, /*open=*/false);
  v1::UpdateExchangeWindowRequest u;
  u.set_window_id(w.window_id());
  u.mutable_window()->add_gifts()->set_gift_id(other);
  u.mutable_update_mask()->add_paths("gifts");
  u.set_etag(w.etag());
  v1::UpdateExchangeWindowResponse updated;
  ASSERT_TRUE(env.stub().UpdateExchangeWindow(env.StreetStaff().get(), u, &updated).ok());
  ASSERT_EQ(updated.window().gifts_size(), 1);
  EXPECT_EQ(updated.window().gifts(0).gift_name(), "耳机");
  EXPECT_EQ(env.stub().UpdateExchangeWindow(env.StreetStaff().get(), u, &updated).error_code(),
            grpc::StatusCode::ABORTED);  // stale etag

  v1::OpenExchangeWindowRequest open;
  open.set_window_id(w.window_id());
  v1::OpenExchangeWindowResponse opened;
  ASSERT_TRUE(env.stub().OpenExchangeWindow(env.StreetStaff().get(), open, &opened).ok());
  u.clear_etag();
  grpc::Status frozen = env.stub().UpdateExchangeWindow(env.StreetStaff().get(), u, &updated);
  EXPECT_EQ(frozen.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(frozen), "WINDOW_NOT_EDITABLE");
  v1::UpdateExchangeWindowRequest title;
  title.set_window_id(w.window_id());
  title.mutable_window()->set_title("首次积分兑换日（延长）");
  title.mutable_update_mask()->add_paths("title");
  ASSERT_TRUE(env.stub().UpdateExchangeWindow(env.StreetStaff().get(), title, &updated).ok());
  EXPECT_EQ(updated.window().title(), "首次积分兑换日（延长）");

  v1::CloseExchangeWindowRequest close;
  close.set_window_id(w.window_id());
  close.set_reason("下雨，提前结束");
  v1::CloseExchangeWindowResponse closed;
  ASSERT_TRUE(env.stub().CloseExchangeWindow(env.StreetStaff().get(), close, &closed).ok());
  EXPECT_EQ(closed.window().state(), v1::EXCHANGE_WINDOW_STATE_CLOSED);
  EXPECT_EQ(closed.window().close_reason(), "下雨，提前结束");
  ASSERT_TRUE(env.stub().CloseExchangeWindow(env.StreetStaff().get(), close, &closed).ok());
  EXPECT_EQ(ReasonOf(env.stub().UpdateExchangeWindow(env.StreetStaff().get(), title, &updated)),
            "WINDOW_NOT_EDITABLE");
  EXPECT_EQ(env.stub().OpenExchangeWindow(env.StreetStaff().get(), open, &opened).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::Redemption order;
  EXPECT_EQ(ReasonOf(env.Redeem("r1", w.window_id(), other, &order)), "WINDOW_CLOSED");
}

TEST(WindowTest, MaintenanceOpensAndClosesWindowsOnTime) {
  RewardsTestEnv env;
  ASSERT_TRUE(env.ok());
  const std::string gift = env.MakeGift("充电宝", 50);
  v1::ExchangeWindow w = env.MakeWindow({gift}, /*open=*/false);
  v1::Redemption order;
  EXPECT_EQ(ReasonOf(env.Redeem("r1", w.window_id(), gift, &order)), "WINDOW_NOT_OPEN");
  const absl::Time start = TimeOf(w.start_time());
  MaintenanceCounts n = env.service().RunMaintenance(start + absl::Minutes(1), absl::Hours(1));
  EXPECT_EQ(n.windows_opened, 1);
  v1::ListExchangeWindowsRequest list;
  list.add_states(v1::EXCHANGE_WINDOW_STATE_OPEN);
  list.set_station_id(RewardsTestEnv::kStationB);
  v1::ListExchangeWindowsResponse listed;
  ASSERT_TRUE(env.stub().ListExchangeWindows(env.Rider("r1").get(), list, &listed).ok());
  EXPECT_EQ(listed.windows_size(), 1);
  n = env.service().RunMaintenance(TimeOf(w.end_time()) + absl::Minutes(1), absl::Hours(1));
  EXPECT_EQ(n.windows_closed, 1);
  ASSERT_TRUE(env.stub().ListExchangeWindows(env.Rider("r1").get(), list, &listed).ok());
  EXPECT_EQ(listed.windows_size(), 0);
  // Opened and closed by the clock, announced as when staff do it.
  EXPECT_EQ(env.Sql("SELECT string_agg(type, ' ' ORDER BY seq) FROM outbox_events"),
            "civicpoints.rewards.v1.exchange_window_opened "
            "civicpoints.rewards.v1.exchange_window_closed");
}

}  // namespace
}  // namespace civicpoints::rewards
