// Refresh tokens as pure rules: no database.
#include "services/identity/session_rules.h"

#include <gtest/gtest.h>

namespace civicpoints::identity {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1796572800);

RefreshTokenFacts Live() { return {.expires_at = kNow + absl::Hours(24 * 30)}; }

TEST(SessionRulesTest, AFreshTokenIsTradedForItsSuccessor) {
  EXPECT_EQ(DecideRefresh(Live(), kNow), RefreshStep::kRotate);
}

TEST(SessionRulesTest, UnknownExpiredEndedOrSuspendedAreRefusedAlike) {
  EXPECT_EQ(DecideRefresh(std::nullopt, kNow), RefreshStep::kRefuse);
  RefreshTokenFacts expired = Live();
  expired.expires_at = kNow;
  EXPECT_EQ(DecideRefresh(expired, kNow), RefreshStep::kRefuse);
  RefreshTokenFacts ended = Live();
  ended.session_revoked = true;
  EXPECT_EQ(DecideRefresh(ended, kNow), RefreshStep::kRefuse);
  RefreshTokenFacts suspended = Live();
  suspended.person_active = false;
  EXPECT_EQ(DecideRefresh(suspended, kNow), RefreshStep::kRefuse);
  // A revoked session refuses even a stolen copy: there is nothing left to end.
  ended.rotated_at = kNow - absl::Hours(1);
  EXPECT_EQ(DecideRefresh(ended, kNow), RefreshStep::kRefuse);
}

TEST(SessionRulesTest, ATradedTokenIsARetryWithinTheGraceAndTheftAfter) {
  RefreshTokenFacts traded = Live();
  traded.rotated_at = kNow - kRefreshReuseGrace;
  EXPECT_EQ(DecideRefresh(traded, kNow), RefreshStep::kRepeat);
  traded.rotated_at = kNow - kRefreshReuseGrace - absl::Microseconds(1);
  EXPECT_EQ(DecideRefresh(traded, kNow), RefreshStep::kTheft);
}

}  // namespace
}  // namespace civicpoints::identity
