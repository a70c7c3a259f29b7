// Service accounts and API keys: the secret shown once, stored hashed, exchanged for a token with
// the key's scopes, and refused once expired, revoked or disabled. Also the dashboard figures.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/auth/jwt.h"
#include "common/server/service_token.h"
#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

class ApiKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    district_ = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
    v1::CreateServiceAccountRequest req;
    req.set_idempotency_key("sa-grid");
    req.set_display_name("平城区网格化管理平台");
    req.set_org_id(district_);
    v1::CreateServiceAccountResponse resp;
    grpc::Status s =
        env_.stub().CreateServiceAccount(env_.With(env_.admin_token()).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.service_account().role(), common::v1::ROLE_CITY_SYSTEM);
    account_ = resp.service_account().service_account_id();
  }

  grpc::Status CreateKey(const std::string& key, std::vector<std::string> scopes,
                         v1::CreateApiKeyResponse* resp) {
    v1::CreateApiKeyRequest req;
    req.set_idempotency_key(key);
    req.set_service_account_id(account_);
    req.set_display_name("生产环境");
    for (const std::string& s : scopes) req.add_scopes(s);
    return env_.stub().CreateApiKey(env_.With(env_.admin_token()).get(), req, resp);
  }

  grpc::Status Exchange(const std::string& secret, v1::ExchangeApiKeyResponse* resp,
                        std::vector<std::string> scopes = {}) {
    v1::ExchangeApiKeyRequest req;
    req.set_api_key(secret);
    for (const std::string& s : scopes) req.add_scopes(s);
    return env_.stub().ExchangeApiKey(env_.With("").get(), req, resp);
  }

  IdentityTestEnv env_;
  std::string district_, account_;
};

// The scopes a key may carry are those the contracts declare, the event feed's among them.
TEST_F(ApiKeyTest, EveryDeclaredScopeMayBeGrantedAndNoOther) {
  v1::CreateApiKeyResponse created;
  grpc::Status s = CreateKey("feed", {"events.read"}, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(created.api_key().scopes(0), "events.read");
  s = CreateKey("nope", {"events.write"}, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("events.read"), std::string::npos) << s.error_message();
}

TEST_F(ApiKeyTest, TheSecretIsShownOnceStoredHashedAndExchangedForAScopedToken) {
  v1::CreateApiKeyResponse created, repeated;
  grpc::Status s = CreateKey("k1", {"identity.stats.read", "ledger.read"}, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string secret = created.secret();
  ASSERT_EQ(secret.rfind("cpk_" + created.api_key().api_key_id() + "_", 0), 0u) << secret;
  EXPECT_EQ(secret.size(), 4 + created.api_key().api_key_id().size() + 1 + 43);
  ASSERT_TRUE(CreateKey("k1", {"identity.stats.read", "ledger.read"}, &repeated).ok());
  EXPECT_EQ(repeated.api_key().api_key_id(), created.api_key().api_key_id());
  EXPECT_TRUE(repeated.secret().empty());
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT count(*) FROM api_keys WHERE position('",
                                  secret.substr(secret.size() - 43),
                                  "' in encode(secret_hash, 'escape')) > 0")),
            "0");

  v1::ExchangeApiKeyResponse token;
  ASSERT_TRUE(Exchange(secret, &token).ok());
  EXPECT_EQ(token.scopes_size(), 2);
  v1::WhoAmIResponse me;
  ASSERT_TRUE(env_.stub().WhoAmI(env_.With(token.access_token()).get(), {}, &me).ok());
  EXPECT_EQ(me.person().kind(), v1::PERSON_KIND_SERVICE_ACCOUNT);
  EXPECT_EQ(me.person().display_name(), "平城区网格化管理平台");
  EXPECT_EQ(me.scopes_size(), 2);
  v1::LogoutEverywhereResponse out;
  EXPECT_EQ(
      env_.stub().LogoutEverywhere(env_.With(token.access_token()).get(), {}, &out).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  // Least privilege: a subset on request; a scope the key lacks is refused.
  ASSERT_TRUE(Exchange(secret, &token, {"ledger.read"}).ok());
  EXPECT_EQ(token.scopes_size(), 1);
  EXPECT_EQ(Exchange(secret, &token, {"ledger.write"}).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // The token reads the district's figures (city system with the stats scope) but not others'.
  v1::GetOrgStatsRequest stats;
  stats.set_org_id(district_);
  v1::GetOrgStatsResponse figures;
  ASSERT_TRUE(Exchange(secret, &token).ok());
  EXPECT_TRUE(env_.stub().GetOrgStats(env_.With(token.access_token()).get(), stats, &figures).ok());
  stats.set_org_id("root");
  EXPECT_EQ(
      env_.stub().GetOrgStats(env_.With(token.access_token()).get(), stats, &figures).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  v1::ListApiKeysRequest list;
  list.set_service_account_id(account_);
  v1::ListApiKeysResponse keys;
  ASSERT_TRUE(env_.stub().ListApiKeys(env_.With(env_.admin_token()).get(), list, &keys).ok());
  ASSERT_EQ(keys.api_keys_size(), 1);
  EXPECT_EQ(keys.api_keys(0).status(), v1::API_KEY_STATUS_ACTIVE);
  EXPECT_EQ(keys.SerializeAsString().find(secret.substr(secret.size() - 43)), std::string::npos);
}

TEST_F(ApiKeyTest, BadKeysAndBadScopesAreRefused) {
  v1::CreateApiKeyResponse created;
  grpc::Status s = CreateKey("k1", {"ledger.everything"}, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("ledger.everything"), std::string::npos);
  EXPECT_EQ(CreateKey("k2", {}, &created).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ExchangeApiKeyResponse token;
  EXPECT_EQ(Exchange("", &token).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Exchange("hello", &token).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Exchange("cpk_ak_x_" + std::string(43, 'A'), &token).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(CreateKey("k3", {"ledger.read"}, &created).ok());
  std::string forged = created.secret();
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(Exchange(forged, &token).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ApiKeyTest, ExpiredRevokedAndDisabledKeysStopWorking) {
  v1::CreateApiKeyResponse a, b;
  ASSERT_TRUE(CreateKey("a", {"ledger.read"}, &a).ok());
  ASSERT_TRUE(CreateKey("b", {"ledger.read"}, &b).ok());
  v1::ExchangeApiKeyResponse token;

  v1::ExpireApiKeyRequest expire;
  expire.set_api_key_id(a.api_key().api_key_id());
  expire.mutable_expire_time()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 400)));
  v1::ExpireApiKeyResponse expired;
  EXPECT_EQ(
      env_.stub().ExpireApiKey(env_.With(env_.admin_token()).get(), expire, &expired).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);  // keys are never extended
  expire.mutable_expire_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 10);
  ASSERT_TRUE(env_.stub().ExpireApiKey(env_.With(env_.admin_token()).get(), expire, &expired).ok());
  EXPECT_EQ(expired.api_key().status(), v1::API_KEY_STATUS_EXPIRED);
  EXPECT_EQ(Exchange(a.secret(), &token).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  v1::RevokeApiKeyRequest revoke;
  revoke.set_api_key_id(b.api_key().api_key_id());
  revoke.set_reason("密钥泄露");
  v1::RevokeApiKeyResponse revoked;
  ASSERT_TRUE(Exchange(b.secret(), &token).ok());
  ASSERT_TRUE(env_.stub().RevokeApiKey(env_.With(env_.admin_token()).get(), revoke, &revoked).ok());
  EXPECT_EQ(revoked.api_key().status(), v1::API_KEY_STATUS_REVOKED);
  EXPECT_EQ(Exchange(b.secret(), &token).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      env_.stub().ExpireApiKey(env_.With(env_.admin_token()).get(), expire, &expired).error_code(),
      grpc::StatusCode::OK);

  v1::CreateApiKeyResponse c;
  ASSERT_TRUE(CreateKey("c", {"ledger.read"}, &c).ok());
  v1::DisableServiceAccountRequest disable;
  disable.set_service_account_id(account_);
  v1::DisableServiceAccountResponse disabled;
  ASSERT_TRUE(env_.stub()
                  .DisableServiceAccount(env_.With(env_.admin_token()).get(), disable, &disabled)
                  .ok());
  EXPECT_EQ(disabled.service_account().status(), v1::SERVICE_ACCOUNT_STATUS_DISABLED);
  EXPECT_EQ(Exchange(c.secret(), &token).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CreateKey("d", {"ledger.read"}, &c).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ApiKeyTest, InternalServiceAccountsComeOnlyFromTheDeployment) {
  // Not by CreateServiceAccount, even for a root admin at the root.
  v1::CreateServiceAccountRequest req;
  req.set_idempotency_key("sa-int");
  req.set_display_name("activity");
  req.set_role(common::v1::ROLE_INTERNAL_SERVICE);
  req.set_org_id("root");
  v1::CreateServiceAccountResponse resp;
  grpc::Status s =
      env_.stub().CreateServiceAccount(env_.With(env_.admin_token()).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("role"), std::string::npos) << s.error_message();
  req.set_idempotency_key("sa-bad");
  req.set_role(common::v1::ROLE_RIDER);
  EXPECT_EQ(env_.stub()
                .CreateServiceAccount(env_.With(env_.admin_token()).get(), req, &resp)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Not by GrantRole to a person.
  const std::string staff = env_.Staff("13900000071", common::v1::ROLE_DISTRICT_ADMIN, district_);
  v1::WhoAmIResponse me;
  ASSERT_TRUE(env_.stub().WhoAmI(env_.With(staff).get(), {}, &me).ok());
  v1::GrantRoleRequest grant;
  grant.set_person_id(me.person().person_id());
  grant.set_role(common::v1::ROLE_INTERNAL_SERVICE);
  grant.set_org_id("root");
  v1::GrantRoleResponse granted;
  s = env_.stub().GrantRole(env_.With(env_.admin_token()).get(), grant, &granted);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("role"), std::string::npos) << s.error_message();
  // And a deployment's internal account gets no further keys through the API.
  ASSERT_FALSE(env_.InternalServiceKey("activity").empty());
  v1::CreateApiKeyRequest key;
  key.set_idempotency_key("int-key");
  key.set_service_account_id("sa_internal_activity");
  key.set_display_name("extra");
  key.add_scopes("ledger.read");
  v1::CreateApiKeyResponse created;
  s = env_.stub().CreateApiKey(env_.With(env_.admin_token()).get(), key, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("service_account_id"), std::string::npos);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM api_keys WHERE service_account_id = "
                     "'sa_internal_activity'"),
            "1");
}

TEST_F(ApiKeyTest, AFloodOfWrongSecretsFromOneAddressLeavesTheRightKeyWorking) {
  v1::CreateApiKeyResponse created;
  ASSERT_TRUE(CreateKey("k1", {"ledger.read"}, &created).ok());
  std::string forged = created.secret();
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  v1::ExchangeApiKeyResponse token;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Exchange(forged, &token).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // The sender of wrong secrets is held (only for wrong ones)...
  for (int i = 0; i < 70; ++i) {
    EXPECT_EQ(Exchange(forged, &token).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  // ... while the right secret, even from that same address, is never refused.
  for (int i = 0; i < 5; ++i) {
    grpc::Status s = Exchange(created.secret(), &token);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
}

TEST(InternalServiceKeyTest, ADeploymentKeyIsRegisteredOnceAndServesAServiceToken) {
  IdentityTestEnv env;
  ASSERT_TRUE(env.ok());
  const std::string key = env.InternalServiceKey("activity");
  ASSERT_FALSE(key.empty());
  // A restart registers the same key again: nothing changes.
  ASSERT_TRUE(env.service().EnsureInternalServiceKey("activity", key).ok());
  EXPECT_EQ(env.Sql("SELECT count(*) FROM api_keys WHERE service_account_id = "
                    "'sa_internal_activity'"),
            "1");
  EXPECT_EQ(env.Sql("SELECT role FROM service_accounts WHERE service_account_id = "
                    "'sa_internal_activity'"),
            "8");

  // The service side: one exchange, then the cached token.
  server::ApiKeyServiceToken source(absl::StrCat("127.0.0.1:", env.port()), key);
  absl::StatusOr<std::string> token = source.Get();
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<std::string> again = source.Get();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*token, *again);
  absl::StatusOr<auth::Principal> who =
      auth::TokenVerifier(env.shared_keys()).Verify(*token, absl::Now());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_TRUE(who->HasRole(common::v1::ROLE_INTERNAL_SERVICE));
  EXPECT_EQ(who->subject, "sa_internal_activity");

  // The same key id under another secret, a malformed key, a bad name: refused.
  std::string forged = key;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(env.service().EnsureInternalServiceKey("activity", forged).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(env.service().EnsureInternalServiceKey("activity", "cpk_short").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(env.service().EnsureInternalServiceKey("Activity Service", key).code(),
            absl::StatusCode::kInvalidArgument);

  // A key identity does not hold gives the service a clear UNAUTHENTICATED.
  server::ApiKeyServiceToken stranger(absl::StrCat("127.0.0.1:", env.port()),
                                      absl::StrCat("cpk_ak_x_", std::string(43, 'A')));
  EXPECT_EQ(stranger.Get().status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(InternalServiceKeyTest, WrongSecretsFromManyAddressesNeverStopTheServiceKey) {
  IdentityTestEnv env([](IdentityOptions& o) { o.trust_client_address_header = true; });
  ASSERT_TRUE(env.ok());
  const std::string key = env.InternalServiceKey("activity");
  ASSERT_FALSE(key.empty());
  std::string forged = key;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  auto exchange = [&](const std::string& secret, const std::string& address) {
    v1::ExchangeApiKeyRequest req;
    req.set_api_key(secret);
    auto ctx = env.With("");
    ctx->AddMetadata("x-client-address", address);
    v1::ExchangeApiKeyResponse resp;
    return env.stub().ExchangeApiKey(ctx.get(), req, &resp);
  };
  // Far more than a minute's worth of the old per-key budget (60), from 200 addresses.
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(exchange(forged, absl::StrCat("10.9.", i / 250, ".", i % 250)).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::Status s = exchange(key, "10.0.0.5");
  EXPECT_TRUE(s.ok()) << s.error_message();
  server::ApiKeyServiceToken source(absl::StrCat("127.0.0.1:", env.port()), key);
  EXPECT_TRUE(source.Get().ok());
  // The deployment's key id is random, not derived from the service's name.
  EXPECT_EQ(key.find("activity"), std::string::npos) << key;
}

TEST(OrgStatsTest, FiguresRollUpTheTreeAndCountOnlyConsentingRiders) {
  IdentityTestEnv env;
  ASSERT_TRUE(env.ok());
  const std::string d = env.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
  const std::string s = env.MakeOrg(d, ORG_LEVEL_STREET, "qingyuan", "清远街道");
  const std::string west = env.MakeOrg(s, ORG_LEVEL_COMMUNITY, "qyxj", "清远西街社区");
  const std::string gongnong = env.MakeOrg(s, ORG_LEVEL_COMMUNITY, "gnl", "工农路社区");
  const std::string staff = env.Staff("13900000061", common::v1::ROLE_COMMUNITY_STAFF, west);
  v1::GetCheckInCodeRequest code_req;
  code_req.set_org_id(west);
  v1::GetCheckInCodeResponse code;
  ASSERT_TRUE(env.stub().GetCheckInCode(env.With(staff).get(), code_req, &code).ok());
  for (int i = 0; i < 3; ++i) {
    env.Register(absl::StrCat("1380013800", i), "骑手", code.code().code());
  }
  env.Register("13800138009", "未报到");
  // A rider who declined aggregate statistics is not counted.
  env.Sql("UPDATE people SET counted_in_stats = false WHERE display_name = '未报到'");
  env.Register("13800138008", "骑手");

  v1::GetOrgStatsRequest req;
  req.set_org_id(s);
  v1::GetOrgStatsResponse resp;
  ASSERT_TRUE(env.stub().GetOrgStats(env.With(env.admin_token()).get(), req, &resp).ok());
  EXPECT_EQ(resp.stats().riders_checked_in(), 3);
  EXPECT_EQ(resp.stats().riders_registered(), 3);
  EXPECT_EQ(resp.stats().riders_active(), 3);
  EXPECT_EQ(resp.stats().staff_count(), 1);
  EXPECT_EQ(resp.stats().registrations_daily_size(), 30);
  EXPECT_EQ(resp.stats().check_ins_daily().rbegin()->value(), 3);
  req.set_org_id("root");
  ASSERT_TRUE(env.stub().GetOrgStats(env.With(env.admin_token()).get(), req, &resp).ok());
  EXPECT_EQ(resp.stats().riders_registered(), 4);  // the one not checked in counts city-wide
  EXPECT_EQ(resp.stats().staff_count(), 2);        // with the root admin

  v1::ListChildOrgStatsRequest children;
  children.set_org_id(s);
  v1::ListChildOrgStatsResponse rows;
  ASSERT_TRUE(
      env.stub().ListChildOrgStats(env.With(env.admin_token()).get(), children, &rows).ok());
  ASSERT_EQ(rows.stats_size(), 2);
  EXPECT_EQ(rows.stats(0).org_id(), west);
  EXPECT_EQ(rows.stats(0).riders_checked_in(), 3);
  EXPECT_EQ(rows.stats(1).org_id(), gongnong);
  EXPECT_EQ(rows.stats(1).riders_checked_in(), 0);
  children.set_page_size(1);
  ASSERT_TRUE(
      env.stub().ListChildOrgStats(env.With(env.admin_token()).get(), children, &rows).ok());
  ASSERT_EQ(rows.stats_size(), 1);
  children.set_page_token(rows.next_page_token());
  ASSERT_TRUE(
      env.stub().ListChildOrgStats(env.With(env.admin_token()).get(), children, &rows).ok());
  ASSERT_EQ(rows.stats_size(), 1);
  EXPECT_EQ(rows.stats(0).org_id(), gongnong);

  for (auto spoil : std::vector<std::function<void(v1::GetOrgStatsRequest&)>>{
           [](auto& r) { r.set_start_day("2026/01/01"); },
           [](auto& r) { r.set_start_day("2026-02-01"), r.set_end_day("2026-01-01"); },
           [](auto& r) { r.set_start_day("2024-01-01"), r.set_end_day("2026-01-01"); },
           [](auto& r) { r.set_active_window_days(400); }}) {
    v1::GetOrgStatsRequest bad;
    bad.set_org_id(s);
    spoil(bad);
    EXPECT_EQ(env.stub().GetOrgStats(env.With(env.admin_token()).get(), bad, &resp).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
}

}  // namespace
}  // namespace civicpoints::identity
