// People and role grants: staff accounts, who may grant what where, the last root admin,
// lookups by phone, suspension and closing, the rider's own profile, subtree lists.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

class PeopleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    district_ = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
    street_ = env_.MakeOrg(district_, ORG_LEVEL_STREET, "qingyuan", "清远街道");
    west_ = env_.MakeOrg(street_, ORG_LEVEL_COMMUNITY, "qyxj", "清远西街社区");
    other_street_ = env_.MakeOrg(district_, ORG_LEVEL_STREET, "xinwang", "新旺街道");
    wenxing_ = env_.MakeOrg(other_street_, ORG_LEVEL_COMMUNITY, "wx", "文兴社区");
    street_staff_ = env_.Staff("13900000031", common::v1::ROLE_STREET_STAFF, street_);
  }

  std::string NewPerson(const std::string& phone) {
    v1::CreatePersonRequest req;
    req.set_idempotency_key(absl::StrCat("p-", phone));
    req.set_phone(phone);
    req.set_display_name("新同事");
    req.set_initial_password("Initial-pass-1");
    v1::CreatePersonResponse resp;
    grpc::Status s = env_.stub().CreatePerson(env_.With(env_.admin_token()).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(resp.person().password_change_required());
    return resp.person().person_id();
  }

  grpc::Status Grant(const std::string& token, const std::string& person, common::v1::Role role,
                     const std::string& org, v1::GrantRoleResponse* resp) {
    v1::GrantRoleRequest req;
    req.set_person_id(person);
    req.set_role(role);
    req.set_org_id(org);
    return env_.stub().GrantRole(env_.With(token).get(), req, resp);
  }

  IdentityTestEnv env_;
  std::string district_, street_, west_, other_street_, wenxing_, street_staff_;
};

TEST_F(PeopleTest, AnOrgViewerIsHeldAtAnyLevelAndGrantedByAdminsAndStreetStaff) {
  const std::string person = NewPerson("13900000049");
  v1::GrantRoleResponse granted;
  // Street staff grant a viewer at their street and its communities, not above nor elsewhere.
  EXPECT_TRUE(Grant(street_staff_, person, common::v1::ROLE_ORG_VIEWER, street_, &granted).ok());
  EXPECT_TRUE(Grant(street_staff_, person, common::v1::ROLE_ORG_VIEWER, west_, &granted).ok());
  EXPECT_EQ(
      Grant(street_staff_, person, common::v1::ROLE_ORG_VIEWER, district_, &granted).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Grant(street_staff_, person, common::v1::ROLE_ORG_VIEWER, wenxing_, &granted).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  // A district admin at the root grants one at the district and the city.
  EXPECT_TRUE(
      Grant(env_.admin_token(), person, common::v1::ROLE_ORG_VIEWER, district_, &granted).ok());
  EXPECT_TRUE(
      Grant(env_.admin_token(), person, common::v1::ROLE_ORG_VIEWER, "root", &granted).ok());
  // A viewer grants nothing.
  const std::string viewer = env_.FirstLogin("13900000049", "Initial-pass-1", "Viewer-pass-2027");
  ASSERT_FALSE(viewer.empty());
  const std::string other = NewPerson("13900000048");
  EXPECT_EQ(Grant(viewer, other, common::v1::ROLE_ORG_VIEWER, west_, &granted).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(PeopleTest, StreetStaffGrantCommunityRolesInTheirStreetOnly) {
  const std::string person = NewPerson("13900000041");
  v1::GrantRoleResponse granted, again;
  ASSERT_TRUE(Grant(street_staff_, person, common::v1::ROLE_STATION_KEEPER, west_, &granted).ok());
  EXPECT_EQ(granted.grant().org_name(), "清远西街社区");
  // The same grant again is the same grant.
  ASSERT_TRUE(Grant(street_staff_, person, common::v1::ROLE_STATION_KEEPER, west_, &again).ok());
  EXPECT_EQ(again.grant().grant_id(), granted.grant().grant_id());
  EXPECT_EQ(
      Grant(street_staff_, person, common::v1::ROLE_STATION_KEEPER, wenxing_, &again).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Grant(street_staff_, person, common::v1::ROLE_DISTRICT_ADMIN, district_, &again).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  // Roles must fit the node's level, and some roles are never granted this way.
  grpc::Status misfit =
      Grant(env_.admin_token(), person, common::v1::ROLE_STREET_STAFF, west_, &again);
  EXPECT_EQ(misfit.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(misfit.error_message().find("role"), std::string::npos);
  EXPECT_EQ(Grant(env_.admin_token(), person, common::v1::ROLE_RIDER, "root", &again).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(
      Grant(env_.admin_token(), "p_nobody", common::v1::ROLE_MERCHANT, west_, &again).error_code(),
      grpc::StatusCode::NOT_FOUND);

  // The token issued now carries the grant with its node's ancestry.
  v1::LoginRequest login;
  login.set_phone("13900000041");
  login.set_password("Initial-pass-1");
  v1::LoginResponse session;
  ASSERT_TRUE(env_.stub().Login(env_.With("").get(), login, &session).ok());
  EXPECT_TRUE(session.password_change_required());
  v1::WhoAmIResponse me;
  ASSERT_TRUE(env_.stub().WhoAmI(env_.With(session.tokens().access_token()).get(), {}, &me).ok());
  ASSERT_EQ(me.role_grants_size(), 1);
  EXPECT_EQ(me.role_grants(0).role(), common::v1::ROLE_STATION_KEEPER);
  // Until the initial password is changed, the token does nothing else.
  v1::GetCheckInCodeRequest code;
  code.set_org_id(west_);
  v1::GetCheckInCodeResponse shown;
  grpc::Status first =
      env_.stub().GetCheckInCode(env_.With(session.tokens().access_token()).get(), code, &shown);
  EXPECT_EQ(first.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(first.error_message().find("ChangePassword"), std::string::npos);
  // Public methods take their own credential: refreshing works with the token sent along.
  v1::RefreshTokenRequest refresh;
  refresh.set_refresh_token(session.tokens().refresh_token());
  v1::RefreshTokenResponse refreshed;
  EXPECT_TRUE(
      env_.stub()
          .RefreshToken(env_.With(session.tokens().access_token()).get(), refresh, &refreshed)
          .ok());
  const std::string changed = env_.FirstLogin("13900000041", "Initial-pass-1", "Keeper-pass-2027");
  EXPECT_TRUE(env_.stub().GetCheckInCode(env_.With(changed).get(), code, &shown).ok());

  v1::RevokeRoleRequest revoke;
  revoke.set_grant_id(granted.grant().grant_id());
  revoke.set_reason("调岗");
  v1::RevokeRoleResponse revoked;
  ASSERT_TRUE(env_.stub().RevokeRole(env_.With(street_staff_).get(), revoke, &revoked).ok());
  EXPECT_EQ(revoked.grant().status(), v1::ROLE_GRANT_STATUS_REVOKED);
  ASSERT_TRUE(env_.stub().RevokeRole(env_.With(street_staff_).get(), revoke, &revoked).ok());

  v1::ListRoleGrantsRequest list;
  list.set_person_id(person);
  list.set_include_revoked(true);
  v1::ListRoleGrantsResponse grants;
  ASSERT_TRUE(env_.stub().ListRoleGrants(env_.With(street_staff_).get(), list, &grants).ok());
  EXPECT_EQ(grants.grants_size(), 1);
  list.set_include_revoked(false);
  ASSERT_TRUE(env_.stub().ListRoleGrants(env_.With(street_staff_).get(), list, &grants).ok());
  EXPECT_EQ(grants.grants_size(), 0);
  EXPECT_EQ(env_.stub().ListRoleGrants(env_.With(street_staff_).get(), {}, &grants).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PeopleTest, TheCityKeepsItsLastRootAdminAndRidersKeepTheirRiderRole) {
  v1::ListRoleGrantsRequest list;
  list.set_org_id("root");
  list.add_roles(common::v1::ROLE_DISTRICT_ADMIN);
  v1::ListRoleGrantsResponse grants;
  ASSERT_TRUE(env_.stub().ListRoleGrants(env_.With(env_.admin_token()).get(), list, &grants).ok());
  ASSERT_EQ(grants.grants_size(), 1);
  v1::RevokeRoleRequest revoke;
  revoke.set_grant_id(grants.grants(0).grant_id());
  v1::RevokeRoleResponse revoked;
  EXPECT_EQ(
      env_.stub().RevokeRole(env_.With(env_.admin_token()).get(), revoke, &revoked).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);

  const std::string rider = env_.Register("13800138000", "小王").person().person_id();
  list.Clear();
  list.set_person_id(rider);
  ASSERT_TRUE(env_.stub().ListRoleGrants(env_.With(env_.admin_token()).get(), list, &grants).ok());
  ASSERT_EQ(grants.grants_size(), 1);
  revoke.set_grant_id(grants.grants(0).grant_id());
  EXPECT_EQ(
      env_.stub().RevokeRole(env_.With(env_.admin_token()).get(), revoke, &revoked).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(PeopleTest, FindByPhoneSeesOnlyPeopleInReachAndIsRateLimited) {
  const std::string rider_token = env_.Register("13800138000", "小王").tokens().access_token();
  // Check the rider in at a community of the other street.
  v1::GetCheckInCodeRequest code_req;
  code_req.set_org_id(wenxing_);
  v1::GetCheckInCodeResponse code;
  ASSERT_TRUE(
      env_.stub().GetCheckInCode(env_.With(env_.admin_token()).get(), code_req, &code).ok());
  v1::CheckInWithCodeRequest ci;
  ci.set_idempotency_key("ci");
  ci.set_code(code.code().code());
  v1::CheckInWithCodeResponse checked;
  ASSERT_TRUE(env_.stub().CheckInWithCode(env_.With(rider_token).get(), ci, &checked).ok());

  v1::FindPersonByPhoneRequest find;
  find.set_phone("138 0013 8000");
  v1::FindPersonByPhoneResponse found;
  ASSERT_TRUE(
      env_.stub().FindPersonByPhone(env_.With(env_.admin_token()).get(), find, &found).ok());
  EXPECT_EQ(found.person().phone_masked(), "138****8000");
  grpc::Status hidden = env_.stub().FindPersonByPhone(env_.With(street_staff_).get(), find, &found);
  EXPECT_EQ(hidden.error_code(), grpc::StatusCode::NOT_FOUND);
  find.set_phone("13700000000");
  grpc::Status absent = env_.stub().FindPersonByPhone(env_.With(street_staff_).get(), find, &found);
  EXPECT_EQ(absent.error_message(), hidden.error_message());
  find.set_phone("12345");
  EXPECT_EQ(
      env_.stub().FindPersonByPhone(env_.With(street_staff_).get(), find, &found).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  find.set_phone("13700000000");
  for (int i = 0; i < 28; ++i) {  // 30 lookups in all
    env_.stub().FindPersonByPhone(env_.With(street_staff_).get(), find, &found);
  }
  EXPECT_EQ(
      env_.stub().FindPersonByPhone(env_.With(street_staff_).get(), find, &found).error_code(),
      grpc::StatusCode::RESOURCE_EXHAUSTED);

  // A city system sees the person without contact details.
  v1::GetPersonRequest get;
  get.set_person_id(checked.check_in().person_id());
  v1::GetPersonResponse person;
  ASSERT_TRUE(env_.stub().GetPerson(env_.With(env_.admin_token()).get(), get, &person).ok());
  EXPECT_EQ(person.person().rider().home_community().community_id(), wenxing_);
  EXPECT_EQ(env_.stub().GetPerson(env_.With(street_staff_).get(), get, &person).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::BatchGetPeopleRequest batch;
  batch.add_person_ids(checked.check_in().person_id());
  v1::BatchGetPeopleResponse people;
  ASSERT_TRUE(env_.stub().BatchGetPeople(env_.With(street_staff_).get(), batch, &people).ok());
  EXPECT_EQ(people.people(0).display_name(), "小王");
  EXPECT_TRUE(people.people(0).phone_masked().empty());
}

TEST_F(PeopleTest, SuspendingEndsSessionsAndClosingErasesPersonalData) {
  v1::RegisterRiderResponse reg = env_.Register("13800138000", "小王");
  const std::string id = reg.person().person_id();
  v1::UpdatePersonRequest update;
  update.set_person_id(id);
  update.set_status(v1::PERSON_STATUS_SUSPENDED);
  update.mutable_update_mask()->add_paths("status");
  v1::UpdatePersonResponse updated;
  grpc::Status no_reason =
      env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), update, &updated);
  EXPECT_EQ(no_reason.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(no_reason.error_message().find("reason"), std::string::npos);
  update.set_reason("多次违规");
  ASSERT_TRUE(env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), update, &updated).ok());
  EXPECT_EQ(updated.person().status(), v1::PERSON_STATUS_SUSPENDED);
  EXPECT_EQ(env_.Login("13800138000", kRiderPassword), "");
  v1::RefreshTokenRequest refresh;
  refresh.set_refresh_token(reg.tokens().refresh_token());
  v1::RefreshTokenResponse refreshed;
  EXPECT_EQ(env_.stub().RefreshToken(env_.With("").get(), refresh, &refreshed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // A token issued before the suspension cannot be turned into a new session.
  v1::ChangePasswordRequest change;
  change.set_idempotency_key("after-suspension");
  change.set_current_password(kRiderPassword);
  change.set_new_password("other-pass-77");
  v1::ChangePasswordResponse changed;
  EXPECT_FALSE(env_.stub()
                   .ChangePassword(env_.With(reg.tokens().access_token()).get(), change, &changed)
                   .ok());
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT count(*) FROM sessions WHERE person_id = '", id,
                                  "' AND revoked_at IS NULL")),
            "0");

  // Street staff may not close accounts; admins may; nobody may close themself.
  update.set_status(v1::PERSON_STATUS_CLOSED);
  const std::string street_admin_rider = env_.Register("13800138001", "小赵").person().person_id();
  EXPECT_EQ(env_.stub().UpdatePerson(env_.With(street_staff_).get(), update, &updated).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), update, &updated).ok());
  EXPECT_EQ(updated.person().display_name(), "已注销用户");
  EXPECT_TRUE(updated.person().phone_masked().empty());
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT count(*) FROM people WHERE person_id = '", id,
                                  "' AND phone_hash IS NULL AND password_hash IS NULL")),
            "1");
  EXPECT_EQ(
      env_.Sql(absl::StrCat("SELECT count(*) FROM platform_accounts WHERE person_id = '", id, "'")),
      "0");
  EXPECT_EQ(
      env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), update, &updated).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  // The phone may register again as a new person.
  EXPECT_NE(env_.Register("13800138000", "小王").person().person_id(), id);

  v1::WhoAmIResponse me;
  ASSERT_TRUE(env_.stub().WhoAmI(env_.With(env_.admin_token()).get(), {}, &me).ok());
  update.set_person_id(me.person().person_id());
  EXPECT_EQ(
      env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), update, &updated).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  update.mutable_update_mask()->add_paths("phone");
  EXPECT_EQ(
      env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), update, &updated).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  (void)street_admin_rider;
}

TEST_F(PeopleTest, RidersEditTheirOwnProfileWithinTheLimits) {
  const std::string token = env_.Register("13800138000", "小王").tokens().access_token();
  v1::UpdateMyRiderProfileRequest req;
  req.set_display_name("王师傅");
  for (auto [platform, id] : std::vector<std::pair<v1::DeliveryPlatform, std::string>>{
           {v1::DELIVERY_PLATFORM_MEITUAN, "MT-1"}, {v1::DELIVERY_PLATFORM_ELEME, "ELM-1"}}) {
    v1::PlatformAccount* a = req.add_platform_accounts();
    a->set_platform(platform);
    a->set_platform_rider_id(id);
  }
  req.mutable_update_mask()->add_paths("display_name");
  req.mutable_update_mask()->add_paths("platform_accounts");
  v1::UpdateMyRiderProfileResponse resp;
  ASSERT_TRUE(env_.stub().UpdateMyRiderProfile(env_.With(token).get(), req, &resp).ok());
  EXPECT_EQ(resp.person().display_name(), "王师傅");
  EXPECT_EQ(resp.person().rider().platform_accounts_size(), 2);
  for (int i = 0; i < 9; ++i) {
    v1::PlatformAccount* a = req.add_platform_accounts();
    a->set_platform(v1::DELIVERY_PLATFORM_OTHER);
    a->set_platform_name("同城跑腿");
    a->set_platform_rider_id(absl::StrCat("X", i));
  }
  EXPECT_EQ(env_.stub().UpdateMyRiderProfile(env_.With(token).get(), req, &resp).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  req.clear_update_mask();
  EXPECT_EQ(env_.stub().UpdateMyRiderProfile(env_.With(token).get(), req, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PeopleTest, ListsPeopleOfASubtreeNewestFirstByRole) {
  const std::string keeper = NewPerson("13900000051");
  v1::GrantRoleResponse granted;
  ASSERT_TRUE(
      Grant(env_.admin_token(), keeper, common::v1::ROLE_STATION_KEEPER, west_, &granted).ok());
  v1::ListPeopleRequest req;
  req.set_org_id(street_);
  req.add_roles(common::v1::ROLE_STATION_KEEPER);
  v1::ListPeopleResponse resp;
  ASSERT_TRUE(env_.stub().ListPeople(env_.With(street_staff_).get(), req, &resp).ok());
  ASSERT_EQ(resp.people_size(), 1);
  EXPECT_EQ(resp.people(0).person_id(), keeper);
  req.set_org_id(other_street_);
  EXPECT_EQ(env_.stub().ListPeople(env_.With(street_staff_).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Every rider, newest first, two to a page, over the whole city.
  for (int i = 0; i < 3; ++i) env_.Register(absl::StrCat("1380013800", i), "骑手");
  v1::ListPeopleRequest riders;
  riders.set_org_id("root");
  riders.add_roles(common::v1::ROLE_RIDER);
  riders.set_page_size(2);
  v1::ListPeopleResponse page1, page2;
  ASSERT_TRUE(env_.stub().ListPeople(env_.With(env_.admin_token()).get(), riders, &page1).ok());
  ASSERT_EQ(page1.people_size(), 2);
  riders.set_page_token(page1.next_page_token());
  ASSERT_TRUE(env_.stub().ListPeople(env_.With(env_.admin_token()).get(), riders, &page2).ok());
  ASSERT_EQ(page2.people_size(), 1);
  EXPECT_EQ(page2.people(0).phone_masked(), "138****8000");
  riders.add_roles(common::v1::ROLE_MERCHANT);
  EXPECT_EQ(
      env_.stub().ListPeople(env_.With(env_.admin_token()).get(), riders, &page2).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);  // the token belongs to other filters
}

}  // namespace
}  // namespace civicpoints::identity
