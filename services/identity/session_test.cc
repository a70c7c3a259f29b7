// Registration, login and its throttle, refresh-token rotation and theft detection, logout,
// password change, and tokens that verify with nothing but the published keys.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "common/status/grpc_status.h"
#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.ok()); }

  static v1::RegisterRiderRequest Registration(const std::string& phone) {
    v1::RegisterRiderRequest req;
    std::string key = "reg-";
    for (char c : phone) {
      if (c != ' ') key.push_back(c);
    }
    req.set_idempotency_key(key);
    req.set_phone(phone);
    req.set_password(kRiderPassword);
    req.set_display_name("小李");
    req.mutable_consent()->set_policy_version(IdentityOptions().policy_version);
    for (auto p : {v1::CONSENT_PURPOSE_ACCOUNT, v1::CONSENT_PURPOSE_COMMUNITY_SERVICE,
                   v1::CONSENT_PURPOSE_POINTS_AND_RANKINGS}) {
      req.mutable_consent()->add_purposes(p);
    }
    v1::PlatformAccount* meituan = req.add_platform_accounts();
    meituan->set_platform(v1::DELIVERY_PLATFORM_MEITUAN);
    meituan->set_platform_rider_id("MT-1001");
    return req;
  }

  grpc::Status Register(const v1::RegisterRiderRequest& req, v1::RegisterRiderResponse* resp) {
    return env_.stub().RegisterRider(env_.With("").get(), req, resp);
  }

  grpc::Status Login(const std::string& phone, const std::string& password,
                     v1::LoginResponse* resp) {
    v1::LoginRequest req;
    req.set_phone(phone);
    req.set_password(password);
    return env_.stub().Login(env_.With("").get(), req, resp);
  }

  grpc::Status Refresh(const std::string& token, v1::RefreshTokenResponse* resp) {
    v1::RefreshTokenRequest req;
    req.set_refresh_token(token);
    return env_.stub().RefreshToken(env_.With("").get(), req, resp);
  }

  IdentityTestEnv env_;
};

TEST_F(SessionTest, ARiderRegistersIsSignedInAndTheirPhoneIsNeverShown) {
  v1::RegisterRiderResponse reg;
  grpc::Status s = Register(Registration("+86 138-0013-8000"), &reg);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reg.person().phone_masked(), "138****8000");
  EXPECT_EQ(reg.person().rider().platform_accounts(0).platform_rider_id(), "MT-1001");
  EXPECT_FALSE(reg.tokens().refresh_token().empty());

  v1::WhoAmIResponse me;
  ASSERT_TRUE(env_.stub().WhoAmI(env_.With(reg.tokens().access_token()).get(), {}, &me).ok());
  EXPECT_EQ(me.person().person_id(), reg.person().person_id());
  ASSERT_EQ(me.role_grants_size(), 1);
  EXPECT_EQ(me.role_grants(0).role(), common::v1::ROLE_RIDER);

  v1::GetMyPersonalDataResponse data;
  ASSERT_TRUE(
      env_.stub().GetMyPersonalData(env_.With(reg.tokens().access_token()).get(), {}, &data).ok());
  ASSERT_EQ(data.consents_size(), 1);
  EXPECT_EQ(data.consents(0).purposes_size(), 3);
  EXPECT_EQ(data.sessions_size(), 1);
  EXPECT_TRUE(data.sessions(0).current());
  EXPECT_GT(data.data_categories_size(), 3);
  // The full number appears nowhere: not in the answers, not in the database.
  EXPECT_EQ(data.SerializeAsString().find("13800138000"), std::string::npos);
  EXPECT_EQ(me.SerializeAsString().find("13800138000"), std::string::npos);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM people WHERE phone_masked LIKE '%00138000%' OR "
                     "encode(phone_hash, 'escape') LIKE '%13800138000%'"),
            "0");
}

TEST_F(SessionTest, RepeatingARegistrationReturnsTheSamePersonOnlyWithThePassword) {
  v1::RegisterRiderResponse first, again;
  ASSERT_TRUE(Register(Registration("13800138000"), &first).ok());
  ASSERT_TRUE(Register(Registration("13800138000"), &again).ok());
  EXPECT_EQ(again.person().person_id(), first.person().person_id());
  EXPECT_NE(again.tokens().refresh_token(), first.tokens().refresh_token());
  v1::RegisterRiderRequest wrong = Registration("13800138000");
  wrong.set_password("another-pass-9");
  EXPECT_EQ(Register(wrong, &again).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::RegisterRiderRequest changed = Registration("13800138000");
  changed.set_display_name("小张");
  EXPECT_EQ(Register(changed, &again).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // A new key with a registered phone is a sign-in, never "already registered": the rider
  // retrying from a reinstalled app gets their account back (unchanged); another password gets
  // Login's answer.
  changed.set_idempotency_key("another-key");
  ASSERT_TRUE(Register(changed, &again).ok());
  EXPECT_EQ(again.person().person_id(), first.person().person_id());
  EXPECT_EQ(again.person().display_name(), "小李");
  v1::LoginResponse login;
  v1::RegisterRiderRequest guess = Registration("13800138000");
  guess.set_idempotency_key("third-key");
  guess.set_password("another-pass-9");
  grpc::Status refused = Register(guess, &again);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(refused.error_message(),
            Login("13800138000", "another-pass-9", &login).error_message());
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM people WHERE is_rider"), "1");
}

TEST_F(SessionTest, BadRegistrationsNameTheFieldAndWriteNothing) {
  const struct {
    std::function<void(v1::RegisterRiderRequest&)> spoil;
    std::string field;
    grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT;
  } kCases[] = {
      {[](auto& r) { r.set_phone("1380013800"); }, "phone"},
      {[](auto& r) { r.set_password("short1"); }, "password"},
      {[](auto& r) { r.set_password(std::string(70, 'a') + "1"); }, "password"},
      {[](auto& r) { r.set_password("password123"); }, "password"},
      {[](auto& r) { r.set_display_name(""); }, "display_name"},
      {[](auto& r) { r.set_display_name(std::string(33, 'x')); }, "display_name"},
      {[](auto& r) { r.mutable_consent()->set_policy_version("2020-01"); },
       "consent.policy_version"},
      {[](auto& r) { r.mutable_consent()->clear_purposes(); }, "consent.purposes"},
      {[](auto& r) { r.clear_consent(); }, "consent"},
      {[](auto& r) { r.mutable_platform_accounts(0)->clear_platform_rider_id(); },
       "platform_accounts[0].platform_rider_id"},
      {[](auto& r) { *r.add_platform_accounts() = r.platform_accounts(0); },
       "platform_accounts[1]"},
      {[](auto& r) { r.set_check_in_code("nope"); }, "check_in_code"},
      {[](auto& r) { r.set_check_in_code("ABCDEFGH"); }, "code", grpc::StatusCode::NOT_FOUND},
      {[](auto& r) { r.set_idempotency_key(""); }, "idempotency_key"},
  };
  int n = 0;
  for (const auto& c : kCases) {
    v1::RegisterRiderRequest req = Registration("13800138000");
    req.set_idempotency_key("bad-" + std::to_string(n++));
    c.spoil(req);
    v1::RegisterRiderResponse resp;
    grpc::Status s = Register(req, &resp);
    EXPECT_EQ(s.error_code(), c.code) << c.field << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(c.field), std::string::npos) << s.error_message();
  }
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM people WHERE is_rider"), "0");
}

TEST_F(SessionTest, APlatformRiderIdBelongsToOneRider) {
  v1::RegisterRiderResponse first, second;
  ASSERT_TRUE(Register(Registration("13800138000"), &first).ok());
  grpc::Status s = Register(Registration("13800138001"), &second);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(s.error_message().find("MT-1001"), std::string::npos);
}

TEST_F(SessionTest, WrongPasswordsSayNothingAboutThePhoneAndAreThrottled) {
  v1::RegisterRiderResponse reg;
  ASSERT_TRUE(Register(Registration("13800138000"), &reg).ok());
  v1::LoginResponse resp;
  grpc::Status unknown = Login("13700000000", kRiderPassword, &resp);
  grpc::Status wrong = Login("13800138000", "wrong-pass-1", &resp);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(unknown.error_message(), wrong.error_message());
  for (int i = 0; i < 4; ++i) Login("13800138000", "wrong-pass-1", &resp);
  // Five failures: even the right password waits now, and the answer says how long.
  v1::LoginRequest right;
  right.set_phone("13800138000");
  right.set_password(kRiderPassword);
  grpc::ClientContext ctx;
  grpc::Status throttled = env_.stub().Login(&ctx, right, &resp);
  EXPECT_EQ(throttled.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(throttled.error_message().find("try again in"), std::string::npos);
  auto retry_after = ctx.GetServerTrailingMetadata().find("retry-after");
  ASSERT_NE(retry_after, ctx.GetServerTrailingMetadata().end());
  const int seconds =
      std::stoi(std::string(retry_after->second.data(), retry_after->second.size()));
  EXPECT_GT(seconds, 0);
  EXPECT_LE(seconds, 900);
  // The same wait as a google.rpc.RetryInfo detail, as client libraries read it.
  std::optional<absl::Duration> delay = RetryDelayOf(FromGrpcStatus(throttled));
  ASSERT_TRUE(delay.has_value());
  EXPECT_EQ(absl::ToInt64Seconds(*delay), seconds);
  // Another phone from the same address is not affected.
  EXPECT_EQ(Login("13700000000", kRiderPassword, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Login("13800138000", "", &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(SessionTest, RefreshTokensRotateARetryIsSafeAndReuseRevokesTheFamily) {
  v1::RegisterRiderResponse reg;
  ASSERT_TRUE(Register(Registration("13800138000"), &reg).ok());
  const std::string first = reg.tokens().refresh_token();
  v1::RefreshTokenResponse next, retried;
  ASSERT_TRUE(Refresh(first, &next).ok());
  EXPECT_NE(next.tokens().refresh_token(), first);
  // A retry with the old token within the grace period gets the same successor.
  ASSERT_TRUE(Refresh(first, &retried).ok());
  EXPECT_EQ(retried.tokens().refresh_token(), next.tokens().refresh_token());
  // The successor works and rotates on.
  v1::RefreshTokenResponse third;
  ASSERT_TRUE(Refresh(next.tokens().refresh_token(), &third).ok());
  // The first token shows up again well after its rotation: theft. The whole session dies.
  env_.Sql("UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 minute'");
  v1::RefreshTokenResponse stolen;
  grpc::Status s = Refresh(first, &stolen);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Refresh(third.tokens().refresh_token(), &stolen).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Refresh("cpr_never-issued", &stolen).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Refresh("", &stolen).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Refresh(std::string(300, 'x'), &stolen).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(SessionTest, ExpiredRefreshTokensAndLoggedOutSessionsAreRefused) {
  v1::RegisterRiderResponse reg;
  ASSERT_TRUE(Register(Registration("13800138000"), &reg).ok());
  v1::LoginResponse phone_two;
  ASSERT_TRUE(Login("13800138000", kRiderPassword, &phone_two).ok());

  v1::LogoutRequest logout;
  logout.set_refresh_token(reg.tokens().refresh_token());
  v1::LogoutResponse out;
  ASSERT_TRUE(env_.stub().Logout(env_.With("").get(), logout, &out).ok());
  ASSERT_TRUE(env_.stub().Logout(env_.With("").get(), logout, &out).ok());  // again: fine
  v1::RefreshTokenResponse refreshed;
  EXPECT_EQ(Refresh(reg.tokens().refresh_token(), &refreshed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  logout.set_refresh_token("cpr_unknown");
  EXPECT_EQ(env_.stub().Logout(env_.With("").get(), logout, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  env_.Sql("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'");
  EXPECT_EQ(Refresh(phone_two.tokens().refresh_token(), &refreshed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SessionTest, LogoutEverywhereAndPasswordChangeEndEverySession) {
  v1::RegisterRiderResponse reg;
  ASSERT_TRUE(Register(Registration("13800138000"), &reg).ok());
  v1::LoginResponse second;
  ASSERT_TRUE(Login("13800138000", kRiderPassword, &second).ok());
  v1::LogoutEverywhereResponse everywhere;
  ASSERT_TRUE(
      env_.stub()
          .LogoutEverywhere(env_.With(second.tokens().access_token()).get(), {}, &everywhere)
          .ok());
  EXPECT_EQ(everywhere.revoked_sessions(), 2);
  v1::RefreshTokenResponse refreshed;
  EXPECT_EQ(Refresh(reg.tokens().refresh_token(), &refreshed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  ASSERT_TRUE(Login("13800138000", kRiderPassword, &second).ok());
  const std::string token = second.tokens().access_token();
  v1::ChangePasswordRequest change;
  change.set_idempotency_key("chpw-1");
  change.set_current_password("wrong-pass-1");
  change.set_new_password("new-safe-pass-7");
  v1::ChangePasswordResponse changed;
  EXPECT_EQ(env_.stub().ChangePassword(env_.With(token).get(), change, &changed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  change.set_current_password(kRiderPassword);
  change.set_new_password(kRiderPassword);
  EXPECT_EQ(env_.stub().ChangePassword(env_.With(token).get(), change, &changed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  change.set_new_password("new-safe-pass-7");
  ASSERT_TRUE(env_.stub().ChangePassword(env_.With(token).get(), change, &changed).ok());
  // A retry after a lost answer gets a fresh session too.
  v1::ChangePasswordResponse retried;
  ASSERT_TRUE(env_.stub().ChangePassword(env_.With(token).get(), change, &retried).ok());
  EXPECT_EQ(Refresh(second.tokens().refresh_token(), &refreshed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // The same key for another change: refused, nothing changed.
  change.set_current_password("new-safe-pass-7");
  change.set_new_password("third-pass-99");
  ASSERT_TRUE(Login("13800138000", "new-safe-pass-7", &second).ok());
  EXPECT_EQ(env_.stub()
                .ChangePassword(env_.With(second.tokens().access_token()).get(), change, &retried)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::LoginResponse old_login, new_login;
  EXPECT_EQ(Login("13800138000", kRiderPassword, &old_login).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Login("13800138000", "new-safe-pass-7", &new_login).ok());
}

TEST_F(SessionTest, TokensVerifyFromTheJwksAloneAndSurviveAKeyRotation) {
  v1::RegisterRiderResponse reg;
  ASSERT_TRUE(Register(Registration("13800138000"), &reg).ok());
  const std::string before = reg.tokens().access_token();

  // What a verifier elsewhere does: fetch the JWKS once, then verify locally.
  const auto verifier_from_jwks = [&]() {
    v1::GetJwksResponse jwks;
    EXPECT_TRUE(env_.stub().GetJwks(env_.With("").get(), {}, &jwks).ok());
    auth::KeySet keys;
    for (const v1::Jwk& k : jwks.keys()) {
      std::string raw;
      EXPECT_TRUE(auth::Base64UrlDecode(k.x(), &raw));
      auth::Ed25519PublicKey pk;
      std::copy(raw.begin(), raw.end(), pk.begin());
      keys.Add(k.kid(), pk);
    }
    return auth::TokenVerifier(std::make_shared<auth::StaticKeyProvider>(keys));
  };
  absl::StatusOr<auth::Principal> who = verifier_from_jwks().Verify(before, absl::Now());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->subject, reg.person().person_id());
  EXPECT_EQ(who->kind, "human");
  EXPECT_FALSE(who->session_id.empty());

  v1::RotateSigningKeyRequest rotate;
  rotate.set_idempotency_key("rot-1");
  rotate.set_activation_delay_seconds(1);
  v1::RotateSigningKeyResponse rotated;
  grpc::Status s =
      env_.stub().RotateSigningKey(env_.With(env_.admin_token()).get(), rotate, &rotated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(rotated.new_key().status(), v1::SIGNING_KEY_STATUS_PENDING);
  EXPECT_TRUE(rotated.has_previous_key());
  // A second rotation while one is pending is refused; the same request again is not.
  rotate.set_idempotency_key("rot-2");
  EXPECT_EQ(env_.stub()
                .RotateSigningKey(env_.With(env_.admin_token()).get(), rotate, &rotated)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::ListPublicKeysResponse published;
  ASSERT_TRUE(env_.stub().ListPublicKeys(env_.With("").get(), {}, &published).ok());
  EXPECT_EQ(published.keys_size(), 2);
  EXPECT_EQ(published.max_age_seconds(), 300);

  // After the switch new tokens carry the new kid; the old token still verifies.
  absl::SleepFor(absl::Milliseconds(1100));
  env_.keys().Invalidate();
  v1::LoginResponse after;
  ASSERT_TRUE(Login("13800138000", kRiderPassword, &after).ok());
  auth::TokenVerifier verifier = verifier_from_jwks();
  EXPECT_TRUE(verifier.Verify(before, absl::Now()).ok());
  EXPECT_TRUE(verifier.Verify(after.tokens().access_token(), absl::Now()).ok());
  std::string header;
  ASSERT_TRUE(auth::Base64UrlDecode(
      after.tokens().access_token().substr(0, after.tokens().access_token().find('.')), &header));
  EXPECT_NE(header.find(rotated.new_key().kid()), std::string::npos) << header;

  // Identity itself has seen (and remembered) the old token.
  v1::WhoAmIResponse me;
  ASSERT_TRUE(env_.stub().WhoAmI(env_.With(before).get(), {}, &me).ok());
  // Revoking the old key: its tokens stop verifying for anyone who refreshes the keys.
  v1::RevokeSigningKeyRequest revoke;
  revoke.set_kid(rotated.previous_key().kid());
  revoke.set_reason("演练");
  v1::RevokeSigningKeyResponse revoked;
  ASSERT_TRUE(
      env_.stub().RevokeSigningKey(env_.With(env_.admin_token()).get(), revoke, &revoked).ok());
  EXPECT_EQ(revoked.key().status(), v1::SIGNING_KEY_STATUS_RETIRED);
  EXPECT_FALSE(verifier_from_jwks().Verify(before, absl::Now()).ok());
  EXPECT_EQ(env_.stub().WhoAmI(env_.With(before).get(), {}, &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // The admin's own token was signed by that key too: it is refused now, a new sign-in works.
  revoke.set_kid("k_unknown");
  EXPECT_EQ(env_.stub()
                .RevokeSigningKey(env_.With(env_.admin_token()).get(), revoke, &revoked)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const std::string admin =
      env_.Login(IdentityTestEnv::kAdminPhone, IdentityTestEnv::kAdminPassword);
  EXPECT_EQ(env_.stub().RevokeSigningKey(env_.With(admin).get(), revoke, &revoked).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Only a root admin manages keys.
  EXPECT_EQ(env_.stub()
                .RotateSigningKey(env_.With(after.tokens().access_token()).get(), rotate, &rotated)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SessionTest, RevokingTheActiveKeyDoesNotBringBackAnOldRetiredOne) {
  v1::RotateSigningKeyRequest rotate;
  rotate.set_idempotency_key("rot-1");
  rotate.set_activation_delay_seconds(1);
  v1::RotateSigningKeyResponse rotated;
  ASSERT_TRUE(
      env_.stub().RotateSigningKey(env_.With(env_.admin_token()).get(), rotate, &rotated).ok());
  // Long ago: the first key was superseded 40 minutes back, so it is retired.
  env_.Sql(
      absl::StrCat("UPDATE signing_keys SET activates_at = now() - interval '2 hours' "
                   "WHERE kid = '",
                   rotated.previous_key().kid(), "'"));
  env_.Sql(
      absl::StrCat("UPDATE signing_keys SET activates_at = now() - interval '40 minutes' "
                   "WHERE kid = '",
                   rotated.new_key().kid(), "'"));
  env_.keys().Invalidate();
  // The admin's token from the first key is past its key's life now: sign in again.
  const std::string admin =
      env_.Login(IdentityTestEnv::kAdminPhone, IdentityTestEnv::kAdminPassword);
  v1::RevokeSigningKeyRequest revoke;
  revoke.set_kid(rotated.new_key().kid());
  v1::RevokeSigningKeyResponse revoked;
  ASSERT_TRUE(env_.stub().RevokeSigningKey(env_.With(admin).get(), revoke, &revoked).ok());
  ASSERT_TRUE(revoked.has_replacement_key());
  v1::ListPublicKeysResponse published;
  ASSERT_TRUE(env_.stub().ListPublicKeys(env_.With("").get(), {}, &published).ok());
  ASSERT_EQ(published.keys_size(), 1);
  EXPECT_EQ(published.keys(0).kid(), revoked.replacement_key().kid());
  EXPECT_EQ(published.keys(0).status(), v1::SIGNING_KEY_STATUS_ACTIVE);
}

TEST_F(SessionTest, ExpiredSessionsAndTokensAreSweptAsNewOnesOpen) {
  v1::RegisterRiderResponse reg;
  ASSERT_TRUE(Register(Registration("13800138000"), &reg).ok());
  env_.Sql("UPDATE sessions SET expires_at = now() - interval '40 days'");
  env_.Sql("UPDATE refresh_tokens SET expires_at = now() - interval '40 days'");
  env_.Sql("UPDATE idempotency_keys SET created_at = now() - interval '8 days'");
  for (int i = 0; i < 256; ++i) {
    v1::LoginResponse resp;
    ASSERT_TRUE(Login("13800138000", kRiderPassword, &resp).ok());
  }
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM sessions WHERE expires_at < now()"), "0");
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM refresh_tokens WHERE expires_at < now()"), "0");
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM idempotency_keys"), "0");
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM people WHERE is_rider"), "1");
}

}  // namespace
}  // namespace civicpoints::identity
