// ListRevocations and identity's own refusal of revoked tokens: signed-out sessions and revoked
// API keys are listed by session, suspensions and revoked grants by subject, and identity itself
// refuses such a token within its list's one-second refresh.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/auth/revocations.h"
#include "common/testing/test_env.h"
#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

class RevocationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.ok()); }

  v1::ListRevocationsResponse List() {
    v1::ListRevocationsResponse resp;
    grpc::Status s = env_.stub().ListRevocations(env_.With("").get(), {}, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  static bool Lists(const google::protobuf::RepeatedPtrField<v1::Revocation>& list,
                    const std::string& id) {
    for (const v1::Revocation& r : list) {
      if (r.digest() == auth::RevocationDigest(id)) return true;
    }
    return false;
  }
  // The list is re-read at most once a second: wait for the revocation to show.
  bool ListedSoon(bool session, const std::string& id) {
    return testing::WaitFor(
        [&] {
          const v1::ListRevocationsResponse r = List();
          return Lists(session ? r.sessions() : r.subjects(), id);
        },
        absl::Seconds(3));
  }
  auth::Principal Claims(const std::string& token) {
    absl::StatusOr<auth::Principal> p =
        auth::TokenVerifier(env_.shared_keys()).Verify(token, absl::Now());
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : auth::Principal();
  }
  grpc::StatusCode WhoAmI(const std::string& token) {
    v1::WhoAmIResponse resp;
    return env_.stub().WhoAmI(env_.With(token).get(), {}, &resp).error_code();
  }

  IdentityTestEnv env_;
};

TEST_F(RevocationTest, SignedOutSessionsAreListedAndTheirTokensRefusedByIdentity) {
  const v1::RegisterRiderResponse rider = env_.Register("13800138101", "王师傅");
  const std::string token = rider.tokens().access_token();
  const auth::Principal claims = Claims(token);
  ASSERT_FALSE(claims.session_id.empty());
  EXPECT_EQ(WhoAmI(token), grpc::StatusCode::OK);
  EXPECT_FALSE(Lists(List().sessions(), claims.session_id));

  v1::LogoutEverywhereResponse out;
  ASSERT_TRUE(env_.stub().LogoutEverywhere(env_.With(token).get(), {}, &out).ok());
  EXPECT_TRUE(ListedSoon(/*session=*/true, claims.session_id));
  const v1::ListRevocationsResponse listed = List();
  EXPECT_FALSE(Lists(listed.subjects(), claims.subject)) << "signing in again must work at once";
  EXPECT_GE(listed.max_age_seconds(), 15 * 60);
  EXPECT_TRUE(testing::WaitFor([&] { return WhoAmI(token) == grpc::StatusCode::UNAUTHENTICATED; },
                               absl::Seconds(3)));
  // A fresh sign-in is a new session, and works.
  EXPECT_EQ(WhoAmI(env_.Login("13800138101", kRiderPassword)), grpc::StatusCode::OK);
}

TEST_F(RevocationTest, SuspensionsAndRevokedGrantsAreListedBySubject) {
  const v1::RegisterRiderResponse rider = env_.Register("13800138102", "李师傅");
  v1::UpdatePersonRequest suspend;
  suspend.set_person_id(rider.person().person_id());
  suspend.set_status(v1::PERSON_STATUS_SUSPENDED);
  suspend.set_reason("test");
  suspend.mutable_update_mask()->add_paths("status");
  v1::UpdatePersonResponse updated;
  ASSERT_TRUE(
      env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), suspend, &updated).ok());
  EXPECT_TRUE(ListedSoon(/*session=*/false, rider.person().person_id()));

  const std::string district =
      env_.MakeOrg("root", common::v1::ORG_LEVEL_DISTRICT, "140299", "撤销区");
  const std::string staff = env_.Staff("13900138103", common::v1::ROLE_DISTRICT_ADMIN, district);
  const auth::Principal claims = Claims(staff);
  v1::ListRoleGrantsRequest grants;
  grants.set_person_id(claims.subject);
  v1::ListRoleGrantsResponse held;
  ASSERT_TRUE(env_.stub().ListRoleGrants(env_.With(env_.admin_token()).get(), grants, &held).ok());
  ASSERT_EQ(held.grants_size(), 1);
  v1::RevokeRoleRequest revoke;
  revoke.set_grant_id(held.grants(0).grant_id());
  revoke.set_reason("test");
  v1::RevokeRoleResponse revoked;
  ASSERT_TRUE(env_.stub().RevokeRole(env_.With(env_.admin_token()).get(), revoke, &revoked).ok());
  EXPECT_TRUE(ListedSoon(/*session=*/false, claims.subject));
  EXPECT_TRUE(testing::WaitFor([&] { return WhoAmI(staff) == grpc::StatusCode::UNAUTHENTICATED; },
                               absl::Seconds(3)));
}

TEST_F(RevocationTest, ARevokedApiKeysTokensAreListedByTheKeyAsTheirSession) {
  const std::string district =
      env_.MakeOrg("root", common::v1::ORG_LEVEL_DISTRICT, "140298", "接口区");
  v1::CreateServiceAccountRequest account;
  account.set_idempotency_key("rv-account");
  account.set_display_name("网格系统");
  account.set_role(common::v1::ROLE_CITY_SYSTEM);
  account.set_org_id(district);
  v1::CreateServiceAccountResponse made;
  ASSERT_TRUE(
      env_.stub().CreateServiceAccount(env_.With(env_.admin_token()).get(), account, &made).ok());
  v1::CreateApiKeyRequest key;
  key.set_idempotency_key("rv-key");
  key.set_service_account_id(made.service_account().service_account_id());
  key.set_display_name("grid");
  key.add_scopes("identity.stats.read");
  v1::CreateApiKeyResponse created;
  ASSERT_TRUE(env_.stub().CreateApiKey(env_.With(env_.admin_token()).get(), key, &created).ok());
  v1::ExchangeApiKeyRequest exchange;
  exchange.set_api_key(created.secret());
  v1::ExchangeApiKeyResponse exchanged;
  ASSERT_TRUE(env_.stub().ExchangeApiKey(env_.With("").get(), exchange, &exchanged).ok());
  const std::string key_id = created.api_key().api_key_id();
  EXPECT_EQ(Claims(exchanged.access_token()).session_id, key_id);

  v1::RevokeApiKeyRequest revoke;
  revoke.set_api_key_id(key_id);
  revoke.set_reason("test");
  v1::RevokeApiKeyResponse revoked;
  ASSERT_TRUE(env_.stub().RevokeApiKey(env_.With(env_.admin_token()).get(), revoke, &revoked).ok());
  EXPECT_TRUE(ListedSoon(/*session=*/true, key_id));
  EXPECT_TRUE(testing::WaitFor(
      [&] { return WhoAmI(exchanged.access_token()) == grpc::StatusCode::UNAUTHENTICATED; },
      absl::Seconds(3)));
}

}  // namespace
}  // namespace civicpoints::identity
