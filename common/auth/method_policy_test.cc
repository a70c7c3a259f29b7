#include "common/auth/method_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cptest/v1/test_service.pb.h"

namespace civicpoints::auth {
namespace {

using ::civicpoints::common::v1::ROLE_CITY_SYSTEM;
using ::civicpoints::common::v1::ROLE_RIDER;
using ::civicpoints::common::v1::ROLE_STREET_STAFF;
using ::testing::HasSubstr;

// Linking the generated message pulls its file, with the service, into the generated pool.
const ::cptest::v1::EchoRequest kLinkTestProto;

const absl::Time kNow = absl::FromUnixSeconds(1'794'000'000);

class AuthorizerTest : public ::testing::Test {
 protected:
  AuthorizerTest() {
    TokenSigner::GenerateKeyPair(&pk_, &sk_);
    KeySet keys;
    keys.Add("k1", pk_);
    authorizer_ = std::make_unique<Authorizer>(
        std::make_shared<const TokenVerifier>(std::make_shared<StaticKeyProvider>(keys)));
  }

  std::string Bearer(std::vector<RoleGrant> roles, std::vector<std::string> scopes = {}) {
    Principal p;
    p.subject = "p_1";
    p.roles = std::move(roles);
    p.scopes = std::move(scopes);
    p.issued_at = kNow;
    p.expires_at = kNow + absl::Minutes(15);
    return "Bearer " + TokenSigner("k1", sk_).Sign(p);
  }

  absl::Status Call(const std::string& method, const std::string& header) {
    return authorizer_->AuthorizeHeader(header, "/cptest.v1.TestService/" + method, kNow).status();
  }

  Ed25519PublicKey pk_;
  Ed25519SecretKey sk_;
  std::unique_ptr<Authorizer> authorizer_;
};

TEST_F(AuthorizerTest, PublicMethodNeedsNoToken) {
  absl::StatusOr<std::optional<Principal>> who =
      authorizer_->AuthorizeHeader("", "/cptest.v1.TestService/Echo", kNow);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_FALSE(who->has_value());
}

TEST_F(AuthorizerTest, PublicMethodStillRejectsABadToken) {
  EXPECT_EQ(Call("Echo", "Bearer not.a.token").code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthorizerTest, RoleMethodNeedsATokenWithTheRole) {
  EXPECT_EQ(Call("Slow", "").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(Call("Slow", Bearer({{ROLE_RIDER, "c_1"}})).ok());
  absl::Status s = Call("Slow", Bearer({{ROLE_STREET_STAFF, "s_1"}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("needs one of the roles ROLE_RIDER"));
}

TEST_F(AuthorizerTest, ThePrincipalKeepsOnlyTheGrantsOfTheMethodsRoles) {
  absl::StatusOr<std::optional<Principal>> who =
      authorizer_->AuthorizeHeader(Bearer({{ROLE_STREET_STAFF, "s_1"}, {ROLE_RIDER, "c_1"}}),
                                   "/cptest.v1.TestService/Slow", kNow);
  ASSERT_TRUE(who.ok()) << who.status();
  ASSERT_EQ((*who)->roles.size(), 1u);
  EXPECT_EQ((*who)->roles[0].role, ROLE_RIDER);
}

TEST_F(AuthorizerTest, CitySystemNeedsTheScope) {
  EXPECT_TRUE(Call("Scoped", Bearer({{ROLE_STREET_STAFF, "s_1"}})).ok());
  EXPECT_TRUE(Call("Scoped", Bearer({{ROLE_CITY_SYSTEM, ""}}, {"test.write"})).ok());
  absl::Status s = Call("Scoped", Bearer({{ROLE_CITY_SYSTEM, ""}}, {"test.read"}));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("scope test.write"));
}

TEST_F(AuthorizerTest, AnyAuthenticatedAcceptsAnyRoleButNotNobody) {
  EXPECT_TRUE(Call("AnyAuthenticated", Bearer({{ROLE_RIDER, "c_1"}})).ok());
  EXPECT_TRUE(Call("AnyAuthenticated", Bearer({})).ok());
  EXPECT_EQ(Call("AnyAuthenticated", "").code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthorizerTest, UndeclaredAndContradictoryPoliciesAreRefusedToEveryone) {
  absl::Status s = Call("Undeclared", Bearer({{ROLE_RIDER, "c_1"}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("declares no access policy"));
  EXPECT_EQ(Call("Contradictory", "").code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorizerTest, UnknownMethodIsNotFoundAndHeaderMustBeBearer) {
  EXPECT_EQ(Call("Nope", "").code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Call("Slow", "Basic dXNlcjpwdw==").message(), HasSubstr("Bearer"));
}

TEST(MethodPolicyTest, ReadsRetrySafetyFromIdempotencyLevel) {
  absl::StatusOr<MethodPolicy> echo = PolicyFor("cptest.v1.TestService.Echo");
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_TRUE(echo->is_public);
  EXPECT_TRUE(echo->retry_safe);
  absl::StatusOr<MethodPolicy> slow = PolicyFor("/cptest.v1.TestService/Slow");
  ASSERT_TRUE(slow.ok());
  EXPECT_FALSE(slow->retry_safe);
  EXPECT_EQ(slow->roles, std::vector<Role>{ROLE_RIDER});
}

}  // namespace
}  // namespace civicpoints::auth
