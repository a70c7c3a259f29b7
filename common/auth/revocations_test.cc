#include "common/auth/revocations.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace civicpoints::auth {
namespace {

Principal Token(const std::string& sub, const std::string& sid, absl::Time iat) {
  Principal p;
  p.subject = sub;
  p.session_id = sid;
  p.issued_at = iat;
  p.expires_at = iat + absl::Minutes(15);
  return p;
}

TEST(RevocationDigestTest, IsTheDocumentedSha256PrefixInHex) {
  // SHA-256("civicpoints-revocation:s_1"), first 16 bytes.
  EXPECT_EQ(RevocationDigest("s_1").size(), 32u);
  EXPECT_EQ(RevocationDigest("s_1"), RevocationDigest("s_1"));
  EXPECT_NE(RevocationDigest("s_1"), RevocationDigest("s_2"));
}

TEST(RevocationSetTest, ARevokedSessionRefusesEveryTokenOfIt) {
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  RevocationSet set;
  set.AddSession(RevocationDigest("s_gone"), t);
  EXPECT_TRUE(set.Revoked(Token("p_1", "s_gone", t - absl::Minutes(5))));
  EXPECT_TRUE(set.Revoked(Token("p_1", "s_gone", t + absl::Minutes(5))));
  EXPECT_FALSE(set.Revoked(Token("p_1", "s_other", t - absl::Minutes(5))));
  EXPECT_FALSE(set.Revoked(Token("p_1", "", t)));
}

TEST(RevocationSetTest, ARevokedSubjectRefusesOnlyTokensIssuedUpToTheRevocation) {
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000) + absl::Milliseconds(400);
  RevocationSet set;
  set.AddSubject(RevocationDigest("p_1"), t - absl::Minutes(10));
  set.AddSubject(RevocationDigest("p_1"), t);  // the later one counts
  EXPECT_TRUE(
      set.Revoked(Token("p_1", "s_a", absl::FromUnixSeconds(1'800'000'000) - absl::Minutes(3))));
  // Tokens carry whole seconds: one of the revocation's second is refused, a later one is not.
  EXPECT_TRUE(set.Revoked(Token("p_1", "s_a", absl::FromUnixSeconds(1'800'000'000))));
  EXPECT_FALSE(set.Revoked(Token("p_1", "s_b", absl::FromUnixSeconds(1'800'000'001))));
  EXPECT_FALSE(set.Revoked(Token("p_2", "s_c", t - absl::Minutes(3))));
  EXPECT_EQ(set.size(), 1u);
}

}  // namespace
}  // namespace civicpoints::auth
