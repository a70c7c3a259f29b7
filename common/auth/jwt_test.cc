#include "common/auth/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"

namespace civicpoints::auth {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'794'000'000);  // 2026-11

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() {
    TokenSigner::GenerateKeyPair(&public_key_, &secret_key_);
    KeySet keys;
    keys.Add("k1", public_key_);
    verifier_ = std::make_unique<TokenVerifier>(std::make_shared<StaticKeyProvider>(keys));
  }

  Principal Rider() const {
    Principal p;
    p.subject = "p_42";
    p.token_id = "t_1";
    p.roles = {{::civicpoints::common::v1::ROLE_RIDER, "c_qingyuan_west"}};
    p.issued_at = kNow - absl::Minutes(1);
    p.expires_at = kNow + absl::Minutes(14);
    return p;
  }

  std::string Sign(const Principal& p, const std::string& kid = "k1") const {
    return TokenSigner(kid, secret_key_).Sign(p);
  }

  Ed25519PublicKey public_key_;
  Ed25519SecretKey secret_key_;
  std::unique_ptr<TokenVerifier> verifier_;
};

TEST_F(JwtTest, ValidTokenYieldsThePrincipal) {
  Principal in = Rider();
  in.scopes = {"ledger.read"};
  absl::StatusOr<Principal> out = verifier_->Verify(Sign(in), kNow);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->subject, "p_42");
  EXPECT_EQ(out->token_id, "t_1");
  ASSERT_EQ(out->roles.size(), 1u);
  EXPECT_EQ(out->roles[0], in.roles[0]);
  EXPECT_TRUE(out->HasRole(::civicpoints::common::v1::ROLE_RIDER));
  EXPECT_TRUE(out->HasScope("ledger.read"));
  EXPECT_EQ(out->expires_at, in.expires_at);
}

TEST_F(JwtTest, IdentityClaimsRoundTrip) {
  Principal in = Rider();
  in.roles[0].org_level = ::civicpoints::common::v1::ORG_LEVEL_COMMUNITY;
  in.roles[0].org_ancestors = {"root", "d_pingcheng", "s_qingyuan"};
  in.session_id = "ses_1";
  in.kind = "human";
  in.display_name = "小王";
  in.password_change_required = true;
  absl::StatusOr<Principal> out = verifier_->Verify(Sign(in), kNow);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->roles[0].org_level, ::civicpoints::common::v1::ORG_LEVEL_COMMUNITY);
  EXPECT_EQ(out->roles[0].org_ancestors, in.roles[0].org_ancestors);
  EXPECT_EQ(out->session_id, "ses_1");
  EXPECT_EQ(out->kind, "human");
  EXPECT_EQ(out->display_name, "小王");
  EXPECT_TRUE(out->password_change_required);
  EXPECT_FALSE(verifier_->Verify(Sign(Rider()), kNow)->password_change_required);
}

// A key source whose one key can be withdrawn.
class WithdrawableKey : public KeyProvider {
 public:
  explicit WithdrawableKey(Ed25519PublicKey key) : key_(key) {}
  absl::StatusOr<Ed25519PublicKey> Find(const std::string& kid) override {
    if (withdrawn || kid != "k1") return absl::NotFoundError("no such key");
    return key_;
  }
  bool withdrawn = false;

 private:
  Ed25519PublicKey key_;
};

TEST_F(JwtTest, ARememberedTokenFallsWithItsKey) {
  auto keys = std::make_shared<WithdrawableKey>(public_key_);
  TokenVerifier verifier(keys);
  const std::string token = Sign(Rider());
  ASSERT_TRUE(verifier.Verify(token, kNow).ok());
  ASSERT_TRUE(verifier.Verify(token, kNow).ok());  // from the cache
  keys->withdrawn = true;
  absl::StatusOr<Principal> after = verifier.Verify(token, kNow);
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(JwtTest, ACachedTokenStillExpires) {
  const std::string token = Sign(Rider());
  ASSERT_TRUE(verifier_->Verify(token, kNow).ok());  // now cached
  EXPECT_TRUE(verifier_->Verify(token, kNow + absl::Minutes(1)).ok());
  EXPECT_EQ(verifier_->Verify(token, kNow + absl::Minutes(15)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(JwtTest, ExpiredTokenIsRefusedAfterTheLeeway) {
  const std::string token = Sign(Rider());
  EXPECT_TRUE(verifier_->Verify(token, kNow + absl::Minutes(14) + absl::Seconds(10)).ok());
  absl::Status s = verifier_->Verify(token, kNow + absl::Minutes(15)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("expired"));
}

TEST_F(JwtTest, TokenIssuedInTheFutureIsRefused) {
  Principal p = Rider();
  p.issued_at = kNow + absl::Minutes(5);
  EXPECT_THAT(verifier_->Verify(Sign(p), kNow).status().message(), HasSubstr("future"));
}

TEST_F(JwtTest, NotBeforeInTheFutureIsRefused) {
  // Build a token with an nbf claim by hand, signed with the real key.
  nlohmann::json header = {{"alg", "EdDSA"}, {"kid", "k1"}};
  nlohmann::json claims = {{"iss", kIssuer},
                           {"aud", kAudience},
                           {"sub", "p_1"},
                           {"iat", absl::ToUnixSeconds(kNow)},
                           {"exp", absl::ToUnixSeconds(kNow + absl::Minutes(15))},
                           {"nbf", absl::ToUnixSeconds(kNow + absl::Minutes(5))}};
  const std::string signed_part =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  unsigned char sig[64];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size(), secret_key_.data());
  const std::string token =
      signed_part + "." + Base64UrlEncode(absl::string_view(reinterpret_cast<char*>(sig), 64));
  EXPECT_THAT(verifier_->Verify(token, kNow).status().message(), HasSubstr("not valid yet"));
  EXPECT_TRUE(verifier_->Verify(token, kNow + absl::Minutes(6)).ok());
}

TEST_F(JwtTest, TokenFromAnotherKeyWithTheSameKidFailsTheSignature) {
  Ed25519PublicKey other_public;
  Ed25519SecretKey other_secret;
  TokenSigner::GenerateKeyPair(&other_public, &other_secret);
  const std::string forged = TokenSigner("k1", other_secret).Sign(Rider());
  absl::Status s = verifier_->Verify(forged, kNow).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("signature does not verify"));
}

TEST_F(JwtTest, UnknownKidIsNamed) {
  absl::Status s = verifier_->Verify(Sign(Rider(), "k9"), kNow).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("unknown key 'k9'"));
}

TEST_F(JwtTest, MalformedTokensAreRefused) {
  for (const char* bad : {"", "abc", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.AAAA"}) {
    absl::Status s = verifier_->Verify(bad, kNow).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << bad;
  }
}

TEST_F(JwtTest, TamperedClaimsFailTheSignature) {
  std::vector<std::string> parts = absl::StrSplit(Sign(Rider()), '.');
  nlohmann::json claims;
  std::string bytes;
  ASSERT_TRUE(Base64UrlDecode(parts[1], &bytes));
  claims = nlohmann::json::parse(bytes);
  claims["roles"][0]["role"] = "ROLE_DISTRICT_ADMIN";
  const std::string tampered = parts[0] + "." + Base64UrlEncode(claims.dump()) + "." + parts[2];
  EXPECT_THAT(verifier_->Verify(tampered, kNow).status().message(),
              HasSubstr("signature does not verify"));
}

TEST_F(JwtTest, OtherAlgorithmsAreRefusedEvenWithValidLayout) {
  std::vector<std::string> parts = absl::StrSplit(Sign(Rider()), '.');
  for (const char* alg : {"none", "HS256", "RS256"}) {
    nlohmann::json header = {{"alg", alg}, {"typ", "JWT"}, {"kid", "k1"}};
    const std::string token = Base64UrlEncode(header.dump()) + "." + parts[1] + "." + parts[2];
    absl::Status s = verifier_->Verify(token, kNow).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(s.message(), HasSubstr(std::string("algorithm '") + alg + "'"));
  }
}

TEST_F(JwtTest, FieldsOfTheWrongJsonTypeAreRefusedNotThrown) {
  for (const char* header : {R"({"alg":5,"kid":"k1"})", R"({"alg":"EdDSA","kid":["k1"]})"}) {
    const std::string token = Base64UrlEncode(header) + ".e30.AAAA";
    absl::Status s = verifier_->Verify(token, kNow).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << header;
  }
  EXPECT_EQ(KeySet::FromJwks(R"({"keys":[{"kty":1}]})").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KeySetTest, JwksRoundTripsAndBadKeysAreNamed) {
  Ed25519PublicKey pk;
  Ed25519SecretKey sk;
  TokenSigner::GenerateKeyPair(&pk, &sk);
  KeySet keys;
  keys.Add("2026-11", pk);
  absl::StatusOr<KeySet> parsed = KeySet::FromJwks(keys.ToJwks());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_NE(parsed->Find("2026-11"), nullptr);
  EXPECT_EQ(*parsed->Find("2026-11"), pk);

  EXPECT_THAT(KeySet::FromJwks("not json").status().message(), HasSubstr("\"keys\" array"));
  EXPECT_THAT(KeySet::FromJwks(R"({"keys":[{"kty":"RSA","kid":"a"}]})").status().message(),
              HasSubstr("JWKS key #0 is not an OKP Ed25519 key"));
  EXPECT_THAT(KeySet::FromJwks(R"({"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"short"}]})")
                  .status()
                  .message(),
              HasSubstr("32-byte"));
}

TEST_F(JwtTest, AFullCacheDropsOneTokenNotAll) {
  Principal p = Rider();
  for (size_t i = 0; i <= TokenVerifier::kCacheSize; ++i) {
    p.token_id = "t_" + std::to_string(i);
    ASSERT_TRUE(verifier_->Verify(Sign(p), kNow).ok());
  }
  // One more than fits: the cache is still full, not emptied.
  EXPECT_EQ(verifier_->CachedTokensForTest(), TokenVerifier::kCacheSize);
}

TEST_F(JwtTest, TokensThatExpiredUnusedLeaveTheCacheAsNewOnesArrive) {
  Principal p = Rider();
  for (int i = 0; i < 100; ++i) {
    p.token_id = "old_" + std::to_string(i);
    ASSERT_TRUE(verifier_->Verify(Sign(p), kNow).ok());
  }
  ASSERT_EQ(verifier_->CachedTokensForTest(), 100u);
  // An hour on, none of those is presented again; new riders' tokens come in.
  const absl::Time later = kNow + absl::Hours(1);
  Principal q = Rider();
  q.issued_at = later - absl::Minutes(1);
  q.expires_at = later + absl::Minutes(14);
  for (size_t i = 0; i < TokenVerifier::kSweepEvery; ++i) {
    q.token_id = "new_" + std::to_string(i);
    ASSERT_TRUE(verifier_->Verify(Sign(q), later).ok());
  }
  EXPECT_EQ(verifier_->CachedTokensForTest(), TokenVerifier::kSweepEvery);
}

}  // namespace
}  // namespace civicpoints::auth

namespace civicpoints::auth {
namespace {

TEST(GrantCoversTest, AGrantWithoutANodeCoversNothing) {
  common::v1::OrgPath west;
  west.set_district_id("d_pingcheng");
  west.set_street_id("s_qingyuan");
  west.set_community_id("c_west");
  EXPECT_FALSE(GrantCovers({common::v1::ROLE_DISTRICT_ADMIN, ""}, west));
  EXPECT_TRUE(GrantCovers({common::v1::ROLE_DISTRICT_ADMIN, "root"}, west));
  Principal staff;
  staff.roles = {{common::v1::ROLE_DISTRICT_ADMIN, ""}};
  EXPECT_EQ(CheckStaffCovers(staff, west, "account p1").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(GrantCoversTest, AGrantCoversItsNodesSubtreeOnly) {
  common::v1::OrgPath west;
  west.set_district_id("d_pingcheng");
  west.set_street_id("s_qingyuan");
  west.set_community_id("c_west");
  EXPECT_TRUE(GrantCovers({common::v1::ROLE_STREET_STAFF, "s_qingyuan"}, west));
  EXPECT_TRUE(GrantCovers({common::v1::ROLE_DISTRICT_ADMIN, "d_pingcheng"}, west));
  EXPECT_TRUE(GrantCovers({common::v1::ROLE_COMMUNITY_STAFF, "c_west"}, west));
  EXPECT_TRUE(GrantCovers({common::v1::ROLE_DISTRICT_ADMIN, "city"}, west));
  EXPECT_FALSE(GrantCovers({common::v1::ROLE_COMMUNITY_STAFF, "c_gongnong"}, west));
  EXPECT_FALSE(GrantCovers({common::v1::ROLE_STREET_STAFF, "s_xinwang"}, west));

  Principal staff;
  staff.roles = {{common::v1::ROLE_RIDER, "c_west"},
                 {common::v1::ROLE_COMMUNITY_STAFF, "c_gongnong"}};
  absl::Status s = CheckStaffCovers(staff, west, "account p1");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("account p1 is outside"));
  staff.roles.push_back({common::v1::ROLE_STREET_STAFF, "s_qingyuan"});
  EXPECT_TRUE(CheckStaffCovers(staff, west, "account p1").ok());
}

}  // namespace
}  // namespace civicpoints::auth
