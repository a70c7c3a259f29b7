// The signing keys' states as pure rules: no database.
#include "services/identity/key_states.h"

#include <gtest/gtest.h>

#include "civicpoints/identity/v1/errors.pb.h"
#include "common/base/time_units.h"
#include "common/status/refusal.h"

namespace civicpoints::identity {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

SigningKeyRecord KeyAt(const std::string& kid, absl::Time activates,
                       std::optional<absl::Time> revoked = std::nullopt) {
  return {.kid = kid, .activates_at = activates, .created_at = kT0, .revoked_at = revoked};
}

v1::SigningKeyStatus StatusAt(const std::vector<SigningKeyRecord>& keys, size_t i, absl::Time t) {
  return DescribeKey(keys, i, t).status();
}

TEST(KeyStatesTest, ARotationWaitsThenTakesOverAndTheOldKeyRetiresWhenItsTokensExpire) {
  const absl::Time switch_at = kT0 + absl::Minutes(10);
  const std::vector<SigningKeyRecord> keys = {KeyAt("k1", kT0), KeyAt("k2", switch_at)};
  EXPECT_EQ(ActiveKeyIndex(keys, kT0 + absl::Minutes(1)), 0u);
  EXPECT_EQ(StatusAt(keys, 1, kT0 + absl::Minutes(1)), v1::SIGNING_KEY_STATUS_PENDING);
  EXPECT_EQ(StatusAt(keys, 0, kT0 + absl::Minutes(1)), v1::SIGNING_KEY_STATUS_ACTIVE);

  EXPECT_EQ(ActiveKeyIndex(keys, switch_at), 1u);
  EXPECT_EQ(StatusAt(keys, 1, switch_at), v1::SIGNING_KEY_STATUS_ACTIVE);
  const v1::SigningKey old = DescribeKey(keys, 0, switch_at);
  EXPECT_EQ(old.status(), v1::SIGNING_KEY_STATUS_RETIRING);
  const absl::Time not_after = times::TimeOf(old.not_after());
  EXPECT_EQ(not_after, switch_at + kAccessTokenTtl + auth::TokenVerifier::kLeeway);
  EXPECT_EQ(StatusAt(keys, 0, not_after - absl::Seconds(1)), v1::SIGNING_KEY_STATUS_RETIRING);
  EXPECT_EQ(StatusAt(keys, 0, not_after), v1::SIGNING_KEY_STATUS_RETIRED);
}

TEST(KeyStatesTest, ARevokedKeyIsRetiredAtOnceAndNeverSigns) {
  const std::vector<SigningKeyRecord> keys = {KeyAt("k1", kT0, kT0 + absl::Minutes(5))};
  EXPECT_FALSE(ActiveKeyIndex(keys, kT0 + absl::Minutes(6)).has_value());
  const v1::SigningKey k = DescribeKey(keys, 0, kT0 + absl::Minutes(6));
  EXPECT_EQ(k.status(), v1::SIGNING_KEY_STATUS_RETIRED);
  EXPECT_EQ(times::TimeOf(k.not_after()), kT0 + absl::Minutes(5));
}

TEST(KeyStatesTest, AKeyRevokedWhilePendingSupersedesNothing) {
  const absl::Time later = kT0 + absl::Minutes(10);
  // k2 was revoked before it activated: k1 keeps signing and is not retiring.
  const std::vector<SigningKeyRecord> keys = {KeyAt("k1", kT0),
                                              KeyAt("k2", later, kT0 + absl::Minutes(2))};
  EXPECT_EQ(ActiveKeyIndex(keys, later + absl::Minutes(1)), 0u);
  EXPECT_EQ(StatusAt(keys, 0, later + absl::Minutes(1)), v1::SIGNING_KEY_STATUS_ACTIVE);
}

TEST(KeyStatesTest, ARotationIsRefusedWhileAnotherIsPending) {
  std::vector<SigningKeyRecord> keys = {KeyAt("k1", kT0)};
  EXPECT_TRUE(CheckRotationAllowed(keys, kT0).ok());
  keys.push_back(KeyAt("k2", kT0 + absl::Minutes(10)));
  absl::Status pending = CheckRotationAllowed(keys, kT0 + absl::Minutes(1));
  EXPECT_EQ(ReasonOf<v1::IdentityErrorReason>(pending),
            v1::IDENTITY_ERROR_REASON_KEY_ROTATION_PENDING);
  EXPECT_NE(pending.message().find("k2"), std::string::npos) << pending;
  EXPECT_TRUE(CheckRotationAllowed(keys, kT0 + absl::Minutes(10)).ok());
  keys[1].revoked_at = kT0 + absl::Minutes(2);  // a revoked pending key blocks nothing
  EXPECT_TRUE(CheckRotationAllowed(keys, kT0 + absl::Minutes(3)).ok());
}

}  // namespace
}  // namespace civicpoints::identity
