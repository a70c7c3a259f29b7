// The other services' view of identity's keys: fetched over gRPC, a rotated key picked up on its
// first token, and forged key ids not turned into a stream of calls.
#include "common/server/identity_keys.h"

#include <gtest/gtest.h>

#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

TEST(IdentityKeyProviderTest, VerifiesIdentityTokensAndFollowsARotation) {
  IdentityTestEnv env;
  ASSERT_TRUE(env.ok());
  auto keys = std::make_shared<server::IdentityKeyProvider>(
      "127.0.0.1:" + std::to_string(env.port()), nullptr, absl::Milliseconds(200));
  auth::TokenVerifier verifier(keys);
  absl::StatusOr<auth::Principal> admin = verifier.Verify(env.admin_token(), absl::Now());
  ASSERT_TRUE(admin.ok()) << admin.status();
  ASSERT_FALSE(admin->roles.empty());
  EXPECT_EQ(admin->roles[0].role, common::v1::ROLE_DISTRICT_ADMIN);
  EXPECT_EQ(admin->roles[0].org_level, common::v1::ORG_LEVEL_CITY);

  v1::RotateSigningKeyRequest rotate;
  rotate.set_idempotency_key("rot");
  rotate.set_activation_delay_seconds(1);
  v1::RotateSigningKeyResponse rotated;
  ASSERT_TRUE(
      env.stub().RotateSigningKey(env.With(env.admin_token()).get(), rotate, &rotated).ok());
  absl::SleepFor(absl::Milliseconds(1100));
  env.keys().Invalidate();
  const std::string fresh =
      env.Login(IdentityTestEnv::kAdminPhone, IdentityTestEnv::kAdminPassword);
  absl::SleepFor(absl::Milliseconds(250));  // past min_refresh since the first fetch
  absl::StatusOr<auth::Principal> again = verifier.Verify(fresh, absl::Now());
  EXPECT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(keys->Find("k_forged").status().code(), absl::StatusCode::kNotFound);
}

TEST(IdentityKeyProviderTest, AnUnreachableIdentityLeavesTokensUnverifiedNotACrash) {
  auto keys = std::make_shared<server::IdentityKeyProvider>(
      "127.0.0.1:" + std::to_string(testing::FreePort()), nullptr);
  EXPECT_FALSE(keys->Refresh().ok());
  EXPECT_EQ(keys->Find("k_any").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace civicpoints::identity
