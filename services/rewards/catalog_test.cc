// The catalog and station stock: who may change them, what riders see, and every bad input
// refused by field with nothing written.
#include <gtest/gtest.h>

#include "services/rewards/rewards_test_env.h"

namespace civicpoints::rewards {
namespace {

using common::v1::ROLE_COMMUNITY_STAFF;
using common::v1::ROLE_STREET_STAFF;

v1::CreateGiftRequest GiftRequest(const std::string& name, const std::string& key) {
  v1::CreateGiftRequest r;
  r.set_name(name);
  r.set_description("白色，带充电盒");
  r.set_image_uri("gifts/earphones-01.jpg");
  r.set_category(v1::GIFT_CATEGORY_ELECTRONICS);
  r.set_points_cost(80);
  r.set_owner_org_id(RewardsTestEnv::kStreet);
  r.set_idempotency_key(key);
  return r;
}

TEST(CatalogTest, AnIdempotencyKeyBelongsToTheStaffMemberWhoChoseIt) {
  RewardsTestEnv env;
  ASSERT_TRUE(env.ok());
  v1::CreateGiftResponse first, theirs, same;
  ASSERT_TRUE(
      env.stub().CreateGift(env.StreetStaff().get(), GiftRequest("蓝牙耳机", "k1"), &first).ok());
  // Staff of another street under the same key get their own gift, not a refusal.
  v1::CreateGiftRequest other = GiftRequest("充电宝", "k1");
  other.set_owner_org_id(RewardsTestEnv::kOtherStreet);
  grpc::Status s = env.stub().CreateGift(
      env.As("staff_xinwang", ROLE_STREET_STAFF, RewardsTestEnv::kOtherStreet).get(), other,
      &theirs);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(theirs.gift().gift_id(), first.gift().gift_id());
  EXPECT_EQ(theirs.gift().owner_org_id(), RewardsTestEnv::kOtherStreet);
  // A district admin repeating the first request under its key is not handed the first caller's
  // gift: the request runs as its own, and the name is taken.
  s = env.stub().CreateGift(
      env.As("admin", common::v1::ROLE_DISTRICT_ADMIN, RewardsTestEnv::kDistrict).get(),
      GiftRequest("蓝牙耳机", "k1"), &same);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
  // The first caller's retry still replays its own gift.
  ASSERT_TRUE(
      env.stub().CreateGift(env.StreetStaff().get(), GiftRequest("蓝牙耳机", "k1"), &same).ok());
  EXPECT_EQ(same.gift().gift_id(), first.gift().gift_id());
}

TEST(CatalogTest, StaffCreateGiftsAndRidersSeeOnlyActiveOnes) {
  RewardsTestEnv env;
  ASSERT_TRUE(env.ok());
  v1::CreateGiftResponse earphones, again, detergent;
  ASSERT_TRUE(env.stub()
                  .CreateGift(env.StreetStaff().get(), GiftRequest("蓝牙耳机", "k1"), &earphones)
                  .ok());
  EXPECT_TRUE(earphones.gift().active());
  // The same key and request: the same gift.
  ASSERT_TRUE(
      env.stub().CreateGift(env.StreetStaff().get(), GiftRequest("蓝牙耳机", "k1"), &again).ok());
  EXPECT_EQ(again.gift().gift_id(), earphones.gift().gift_id());
  grpc::Status reused =
      env.stub().CreateGift(env.StreetStaff().get(), GiftRequest("充电宝", "k1"), &again);
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(reused), "IDEMPOTENCY_KEY_REUSED");

  v1::CreateGiftRequest hidden = GiftRequest("洗衣液", "k2");
  hidden.set_inactive(true);
  hidden.set_category(v1::GIFT_CATEGORY_DAILY_NECESSITIES);
  ASSERT_TRUE(env.stub().CreateGift(env.StreetStaff().get(), hidden, &detergent).ok());

  v1::GetGiftRequest get;
  get.set_gift_id(detergent.gift().gift_id());
  v1::GetGiftResponse got;
  EXPECT_EQ(env.stub().GetGift(env.Rider("r1").get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(env.stub().GetGift(env.StreetStaff().get(), get, &got).ok());

  v1::ListGiftsRequest list;
  list.set_include_inactive(true);
  v1::ListGiftsResponse rider_list, staff_list;
  ASSERT_TRUE(env.stub().ListGifts(env.Rider("r1").get(), list, &rider_list).ok());
  ASSERT_TRUE(env.stub().ListGifts(env.StreetStaff().get(), list, &staff_list).ok());
  EXPECT_EQ(rider_list.gifts_size(), 1);
  EXPECT_EQ(staff_list.gifts_size(), 2);
  // Paging one at a time walks the same two gifts, by category then name.
  list.set_page_size(1);
  v1::ListGiftsResponse page;
  ASSERT_TRUE(env.stub().ListGifts(env.StreetStaff().get(), list, &page).ok());
  ASSERT_EQ(page.gifts_size(), 1);
  EXPECT_EQ(page.gifts(0).name(), "洗衣液");
  list.set_page_token(page.next_page_token());
  ASSERT_TRUE(env.stub().ListGifts(env.StreetStaff().get(), list, &page).ok());
  ASSERT_EQ(page.gifts_size(), 1);
  EXPECT_EQ(page.gifts(0).name(), "蓝牙耳机");
  list.set_name_contains("耳");  // other filters: the token is refused
  EXPECT_EQ(env.stub().ListGifts(env.StreetStaff().get(), list, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Riders browsing a community's catalog see the gifts of its street.
  v1::ListGiftsRequest by_owner;
  by_owner.set_owner_org_id(RewardsTestEnv::kCommunity);
  ASSERT_TRUE(env.stub().ListGifts(env.Rider("r1").get(), by_owner, &page).ok());
  EXPECT_EQ(page.gifts_size(), 1);
}

TEST(CatalogTest, BadGiftInputIsRefusedByField) {
  RewardsTestEnv env;
  ASSERT_TRUE(env.ok());
  v1::CreateGiftResponse resp;
  auto refused = [&](v1::CreateGiftRequest r, grpc::StatusCode code, const std::string& text) {
    grpc::Status s = env.stub().CreateGift(env.StreetStaff().get(), r, &resp);
    EXPECT_EQ(s.error_code(), code) << text << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(text), std::string::npos) << s.error_message();
  };
  refused(GiftRequest("", "a"), grpc::StatusCode::INVALID_ARGUMENT, "name");
  refused(GiftRequest(std::string(61 * 3, 'x').substr(0, 61), "a"),
          grpc::StatusCode::INVALID_ARGUMENT, "name");
  v1::CreateGiftRequest r = GiftRequest("耳机", "a");
  r.set_points_cost(0);
  refused(r, grpc::StatusCode::INVALID_ARGUMENT, "points_cost");
  r = GiftRequest("耳机", "a");
  r.set_category(v1::GIFT_CATEGORY_UNSPECIFIED);
  refused(r, grpc::StatusCode::INVALID_ARGUMENT, "category");
  r = GiftRequest("耳机", "");
  refused(r, grpc::StatusCode::INVALID_ARGUMENT, "idempotency_key");
  r = GiftRequest("耳机", "a");
  r.set_owner_org_id("nowhere");
  refused(r, grpc::StatusCode::NOT_FOUND, "owner_org_id");
  r.set_owner_org_id(RewardsTestEnv::kCommunity);
  refused(r, grpc::StatusCode::FAILED_PRECONDITION, "street or district");
  EXPECT_EQ(ReasonOf(env.stub().CreateGift(env.StreetStaff().get(), r, &resp)), "WRONG_ORG_LEVEL");
  ASSERT_TRUE(env.stub().CreateGift(env.StreetStaff().get(), GiftRequest("耳机", "b"), &resp).ok());
  refused(GiftRequest("耳机", "c"), grpc::StatusCode::ALREADY_EXISTS, "name");
  // Staff of another street and community staff may not manage this street's catalog.
  EXPECT_EQ(env.stub()
                .CreateGift(env.As("other", ROLE_STREET_STAFF, RewardsTestEnv::kOtherStreet).get(),
                            GiftRequest("水杯", "d"), &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(env.stub()
                .CreateGift(env.As("cs", ROLE_COMMUNITY_STAFF, RewardsTestEnv::kCommunity).get(),
                            GiftRequest("水杯", "e"), &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      env.stub().CreateGift(env.Rider("r1").get(), GiftRequest("水杯", "f"), &resp).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(env.Sql("SELECT count(*) FROM gifts"), "1");
}

TEST(CatalogTest, UpdateGiftChecksMaskEtagAndScope) {
  RewardsTestEnv env;
  ASSERT_TRUE(env.ok());
  v1::CreateGiftResponse created;
  ASSERT_TRUE(
      env.stub().CreateGift(env.StreetStaff().get(), GiftRequest("充电宝", "k"), &created).ok());
  v1::UpdateGiftRequest u;
  u.set_gift_id(created.gift().gift_id());
  u.mutable_gift()->set_points_cost(120);
  u.mutable_update_mask()->add_paths("points_cost");
  u.set_etag(created.gift().etag());
  v1::UpdateGiftResponse updated;
  ASSERT_TRUE(env.stub().UpdateGift(env.StreetStaff().get(), u, &updated).ok());
  EXPECT_EQ(updated.gift().points_cost(), 120);
  EXPECT_NE(updated.gift().etag(), created.gift().etag());
  grpc::Status stale = env.stub().UpdateGift(env.StreetStaff().get(), u, &updated);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(ReasonOf(stale), "CONCURRENT_CHANGE");
  u.clear_etag();
  u.mutable_update_mask()->add_paths("gift_id");
  EXPECT_EQ(env.stub().UpdateGift(env.StreetStaff().get(), u, &updated).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  u.mutable_update_mask()->clear_paths();
  u.mutable_update_mask()->add_paths("active");
  EXPECT_EQ(env.stub()
                .UpdateGift(env.As("other", ROLE_STREET_STAFF, RewardsTestEnv::kOtherStreet).get(),
                            u, &updated)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(env.stub().UpdateGift(env.StreetStaff().get(), u, &updated).ok());
  EXPECT_FALSE(updated.gift().active());
}

TEST(StockTest, StaffAndKeepersChangeStockOfTheirStationsWithAuditedMovements) {
  RewardsTestEnv env;
  ASSERT_TRUE(env.ok());
  const std::string gift = env.MakeGift("旅行水杯", 20);
  v1::AddStationStockRequest add;
  add.set_station_id(RewardsTestEnv::kStationA);
  add.set_gift_id(gift);
  add.set_quantity(10);
  add.set_reason("街道办配送 10 个");
  add.set_idempotency_key("add-1");
  v1::AddStationStockResponse added;
  ASSERT_TRUE(env.stub().AddStationStock(env.KeeperA().get(), add, &added).ok());
  EXPECT_EQ(added.stock().available_quantity(), 10);
  EXPECT_EQ(added.stock().station_org().community_id(), RewardsTestEnv::kCommunity);
  EXPECT_EQ(added.movement().kind(), v1::STOCK_MOVEMENT_KIND_ADD);
  // A retry adds nothing more.
  ASSERT_TRUE(env.stub().AddStationStock(env.KeeperA().get(), add, &added).ok());
  EXPECT_EQ(added.stock().on_hand_quantity(), 10);

  // The keeper of station B cannot touch station A; a love corner is no station.
  add.set_idempotency_key("add-2");
  grpc::Status other = env.stub().AddStationStock(env.KeeperB().get(), add, &added);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(other), "NOT_STATION_KEEPER");
  add.set_station_id(RewardsTestEnv::kLoveCorner);
  grpc::Status corner = env.stub().AddStationStock(env.StreetStaff().get(), add, &added);
  EXPECT_EQ(corner.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(corner), "NOT_A_STATION");
  add.set_station_id("pl_unknown");
  EXPECT_EQ(ReasonOf(env.stub().AddStationStock(env.StreetStaff().get(), add, &added)),
            "NOT_A_STATION");
  add.set_station_id(RewardsTestEnv::kStationA);
  add.set_quantity(10001);
  EXPECT_EQ(env.stub().AddStationStock(env.StreetStaff().get(), add, &added).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::CorrectStationStockRequest correct;
  correct.set_station_id(RewardsTestEnv::kStationA);
  correct.set_gift_id(gift);
  correct.set_counted_quantity(8);
  correct.set_reason("盘点发现 2 个破损");
  correct.set_expected_on_hand_quantity(9);
  correct.set_idempotency_key("fix-1");
  v1::CorrectStationStockResponse fixed;
  grpc::Status moved = env.stub().CorrectStationStock(env.KeeperA().get(), correct, &fixed);
  EXPECT_EQ(moved.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(ReasonOf(moved), "CONCURRENT_CHANGE");
  correct.set_expected_on_hand_quantity(10);
  correct.set_idempotency_key("fix-2");
  ASSERT_TRUE(env.stub().CorrectStationStock(env.KeeperA().get(), correct, &fixed).ok());
  EXPECT_EQ(fixed.stock().on_hand_quantity(), 8);
  EXPECT_EQ(fixed.movement().available_delta(), -2);

  v1::ListStockMovementsRequest movements;
  movements.set_station_id(RewardsTestEnv::kStationA);
  v1::ListStockMovementsResponse listed;
  ASSERT_TRUE(env.stub().ListStockMovements(env.KeeperA().get(), movements, &listed).ok());
  ASSERT_EQ(listed.movements_size(), 2);
  EXPECT_EQ(listed.movements(0).kind(), v1::STOCK_MOVEMENT_KIND_CORRECTION);
  EXPECT_EQ(listed.movements(1).kind(), v1::STOCK_MOVEMENT_KIND_ADD);
  EXPECT_EQ(env.stub().ListStockMovements(env.KeeperB().get(), movements, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Riders find where the gift is.
  v1::ListGiftAvailabilityRequest where;
  where.set_gift_id(gift);
  v1::ListGiftAvailabilityResponse found;
  ASSERT_TRUE(env.stub().ListGiftAvailability(env.Rider("r1").get(), where, &found).ok());
  ASSERT_EQ(found.availability_size(), 1);
  EXPECT_EQ(found.availability(0).station_id(), RewardsTestEnv::kStationA);
  EXPECT_EQ(found.availability(0).available_quantity(), 8);
  v1::ListStationStockRequest at;
  at.set_station_id(RewardsTestEnv::kStationB);
  v1::ListStationStockResponse none;
  ASSERT_TRUE(env.stub().ListStationStock(env.Rider("r1").get(), at, &none).ok());
  EXPECT_EQ(none.stock_size(), 0);
  at.set_station_id(RewardsTestEnv::kLoveCorner);
  EXPECT_EQ(env.stub().ListStationStock(env.Rider("r1").get(), at, &none).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace civicpoints::rewards
