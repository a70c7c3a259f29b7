// ResolveRider and BatchResolveRiders: a city system finds its riders by delivery-platform id or
// phone, learns only the person_id and home community, and only inside its scope; every call is
// audited without the keys; malformed keys are refused naming the field; the calls are throttled.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

class ResolveRiderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    district_ = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
    street_ = env_.MakeOrg(district_, ORG_LEVEL_STREET, "qingyuan", "清远街道");
    west_ = env_.MakeOrg(street_, ORG_LEVEL_COMMUNITY, "qyxj", "清远西街社区");
    gongnong_ = env_.MakeOrg(street_, ORG_LEVEL_COMMUNITY, "gnl", "工农路社区");
    west_staff_ = env_.Staff("13900000021", common::v1::ROLE_COMMUNITY_STAFF, west_);
    gongnong_staff_ = env_.Staff("13900000022", common::v1::ROLE_COMMUNITY_STAFF, gongnong_);
    west_rider_ = RegisterAt("13800138001", "小王", west_, west_staff_, "MT-10001");
    gongnong_rider_ = RegisterAt("13800138002", "小李", gongnong_, gongnong_staff_, "MT-10002");
  }

  // A rider with a Meituan account, checked in at `community` with its station's code.
  std::string RegisterAt(const std::string& phone, const std::string& name,
                         const std::string& community, const std::string& staff,
                         const std::string& meituan_id) {
    v1::GetCheckInCodeRequest code;
    code.set_org_id(community);
    v1::GetCheckInCodeResponse shown;
    EXPECT_TRUE(env_.stub().GetCheckInCode(env_.With(staff).get(), code, &shown).ok());
    const std::string person = env_.Register(phone, name, shown.code().code()).person().person_id();
    v1::UpdateMyRiderProfileRequest link;
    v1::PlatformAccount* a = link.add_platform_accounts();
    a->set_platform(v1::DELIVERY_PLATFORM_MEITUAN);
    a->set_platform_rider_id(meituan_id);
    link.mutable_update_mask()->add_paths("platform_accounts");
    v1::UpdateMyRiderProfileResponse linked;
    grpc::Status s = env_.stub().UpdateMyRiderProfile(
        env_.With(env_.Login(phone, testing::IdentityCalls::kRiderPassword)).get(), link, &linked);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return person;
  }

  std::string CitySystem(const std::string& org_id, const std::vector<std::string>& scopes) {
    return env_.CitySystem(org_id, scopes);
  }

  static v1::RiderKey Meituan(const std::string& id) {
    v1::RiderKey key;
    key.mutable_platform_account()->set_platform(v1::DELIVERY_PLATFORM_MEITUAN);
    key.mutable_platform_account()->set_platform_rider_id(id);
    return key;
  }
  static v1::RiderKey Phone(const std::string& phone) {
    v1::RiderKey key;
    key.set_phone(phone);
    return key;
  }

  grpc::Status Resolve(const std::string& token, const v1::RiderKey& key,
                       v1::ResolveRiderResponse* resp) {
    v1::ResolveRiderRequest req;
    *req.mutable_rider() = key;
    return env_.stub().ResolveRider(env_.With(token).get(), req, resp);
  }

  IdentityTestEnv env_;
  std::string district_, street_, west_, gongnong_, west_staff_, gongnong_staff_;
  std::string west_rider_, gongnong_rider_;
};

TEST_F(ResolveRiderTest, ACitySystemFindsItsRidersByPlatformIdOrPhoneAndLearnsOnlyTheIds) {
  const std::string city = CitySystem(west_, {"identity.riders.resolve"});
  v1::ResolveRiderResponse resp;
  grpc::Status s = Resolve(city, Meituan("MT-10001"), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.rider().person_id(), west_rider_);
  EXPECT_EQ(resp.rider().home_community_id(), west_);
  ASSERT_TRUE(Resolve(city, Phone("+86 138-0013-8001"), &resp).ok());
  EXPECT_EQ(resp.rider().person_id(), west_rider_);

  // Outside its node, unknown, or not a rider: all the same NOT_FOUND.
  EXPECT_EQ(Resolve(city, Meituan("MT-10002"), &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Resolve(city, Phone("13800138002"), &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Resolve(city, Meituan("MT-99999"), &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Resolve(city, Phone("13900000021"), &resp).error_code(), grpc::StatusCode::NOT_FOUND);

  // A street's system sees both communities; the batch answers per key, in order.
  const std::string street_system = CitySystem(street_, {"identity.riders.resolve"});
  v1::BatchResolveRidersRequest batch;
  *batch.add_riders() = Meituan("MT-10002");
  *batch.add_riders() = Meituan("MT-99999");
  *batch.add_riders() = Phone("13800138001");
  v1::BatchResolveRidersResponse results;
  s = env_.stub().BatchResolveRiders(env_.With(street_system).get(), batch, &results);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(results.results_size(), 3);
  EXPECT_TRUE(results.results(0).found());
  EXPECT_EQ(results.results(0).rider().person_id(), gongnong_rider_);
  EXPECT_EQ(results.results(0).rider().home_community_id(), gongnong_);
  EXPECT_FALSE(results.results(1).found());
  EXPECT_FALSE(results.results(1).has_rider());
  EXPECT_EQ(results.results(2).rider().person_id(), west_rider_);

  // Staff resolve in their own community too; every call is audited without the keys.
  ASSERT_TRUE(Resolve(gongnong_staff_, Meituan("MT-10002"), &resp).ok());
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM audit_events WHERE action = 'resolve_riders'"), "8");
  EXPECT_EQ(env_.Sql("SELECT detail FROM audit_events WHERE action = 'resolve_riders' AND "
                     "detail LIKE 'keys=3%'"),
            "keys=3 found=2");
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM audit_events WHERE detail LIKE '%MT-%' OR "
                     "detail LIKE '%138%'"),
            "0");
}

TEST_F(ResolveRiderTest, MalformedKeysAndCallersWithoutTheScopeAreRefused) {
  const std::string city = CitySystem(west_, {"identity.riders.resolve"});
  v1::ResolveRiderResponse resp;
  struct Case {
    std::string what;
    v1::RiderKey key;
  };
  v1::RiderKey other = Meituan("x");
  other.mutable_platform_account()->set_platform(v1::DELIVERY_PLATFORM_OTHER);
  v1::RiderKey unspecified = Meituan("x");
  unspecified.mutable_platform_account()->set_platform(v1::DELIVERY_PLATFORM_UNSPECIFIED);
  for (const Case& c : std::vector<Case>{{"no key", v1::RiderKey()},
                                         {"bad phone", Phone("12345")},
                                         {"empty id", Meituan("")},
                                         {"long id", Meituan(std::string(65, '7'))},
                                         {"OTHER without name", other},
                                         {"no platform", unspecified}}) {
    grpc::Status s = Resolve(city, c.key, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what;
    EXPECT_EQ(s.error_message().rfind("rider", 0), 0u) << c.what << ": " << s.error_message();
  }
  v1::BatchResolveRidersRequest batch;
  v1::BatchResolveRidersResponse results;
  EXPECT_EQ(env_.stub().BatchResolveRiders(env_.With(city).get(), batch, &results).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  for (int i = 0; i < 501; ++i) *batch.add_riders() = Meituan(absl::StrCat("MT-", i));
  EXPECT_EQ(env_.stub().BatchResolveRiders(env_.With(city).get(), batch, &results).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  batch.mutable_riders()->DeleteSubrange(400, 101);
  *batch.mutable_riders(7) = Phone("555");
  grpc::Status s = env_.stub().BatchResolveRiders(env_.With(city).get(), batch, &results);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("riders[7].phone"), std::string::npos) << s.error_message();
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM audit_events WHERE action = 'resolve_riders'"), "0");

  // A key without the scope, a rider, and no token at all.
  const std::string reader = CitySystem(gongnong_, {"identity.stats.read"});
  EXPECT_EQ(Resolve(reader, Meituan("MT-10002"), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const std::string rider = env_.Login("13800138001", testing::IdentityCalls::kRiderPassword);
  EXPECT_EQ(Resolve(rider, Meituan("MT-10001"), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Resolve("", Meituan("MT-10001"), &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ResolveRiderTest, LookupsAreThrottledPerCaller) {
  const std::string city = CitySystem(west_, {"identity.riders.resolve"});
  v1::ResolveRiderResponse resp;
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(Resolve(city, Meituan("MT-10001"), &resp).ok()) << i;
  }
  EXPECT_EQ(Resolve(city, Meituan("MT-10001"), &resp).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Another caller is not held back.
  EXPECT_TRUE(Resolve(west_staff_, Meituan("MT-10001"), &resp).ok());
}

}  // namespace
}  // namespace civicpoints::identity
