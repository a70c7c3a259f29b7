#include "tests/peers/identity_calls.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace civicpoints::testing {

namespace v1 = identity::v1;

std::unique_ptr<grpc::ClientContext> IdentityCalls::With(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::string IdentityCalls::MakeOrg(const std::string& parent, common::v1::OrgLevel level,
                                   const std::string& code, const std::string& name) {
  v1::CreateOrgNodeRequest req;
  req.set_parent_id(parent);
  req.set_level(level);
  req.set_code(code);
  req.set_name(name);
  v1::CreateOrgNodeResponse resp;
  grpc::Status s = stub_->CreateOrgNode(With(admin_token_).get(), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.node().org_id();
}

IdentityCalls::Member IdentityCalls::Staff(const std::string& phone, common::v1::Role role,
                                           const std::string& org_id) {
  v1::CreatePersonRequest create;
  create.set_idempotency_key("staff-" + phone);
  create.set_phone(phone);
  create.set_display_name("工作人员" + phone.substr(7));
  create.set_initial_password(kStaffInitialPassword);
  v1::CreatePersonResponse person;
  grpc::Status s = stub_->CreatePerson(With(admin_token_).get(), create, &person);
  EXPECT_TRUE(s.ok()) << s.error_message();
  v1::GrantRoleRequest grant;
  grant.set_person_id(person.person().person_id());
  grant.set_role(role);
  grant.set_org_id(org_id);
  v1::GrantRoleResponse granted;
  s = stub_->GrantRole(With(admin_token_).get(), grant, &granted);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return {person.person().person_id(), FirstLogin(phone, kStaffInitialPassword, kStaffPassword)};
}

v1::RegisterRiderResponse IdentityCalls::Register(const std::string& phone, const std::string& name,
                                                  const std::string& check_in_code) {
  v1::RegisterRiderRequest req;
  req.set_idempotency_key(absl::StrCat("reg-", phone, "-", ++registrations_));
  req.set_phone(phone);
  req.set_password(kRiderPassword);
  req.set_display_name(name);
  req.mutable_consent()->set_policy_version(policy_version_);
  for (auto p :
       {v1::CONSENT_PURPOSE_ACCOUNT, v1::CONSENT_PURPOSE_COMMUNITY_SERVICE,
        v1::CONSENT_PURPOSE_POINTS_AND_RANKINGS, v1::CONSENT_PURPOSE_AGGREGATE_STATISTICS}) {
    req.mutable_consent()->add_purposes(p);
  }
  req.set_check_in_code(check_in_code);
  v1::RegisterRiderResponse resp;
  grpc::Status s = stub_->RegisterRider(With("").get(), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

std::string IdentityCalls::CitySystem(const std::string& org_id,
                                      const std::vector<std::string>& scopes,
                                      std::string* account_id) {
  const int n = ++city_systems_;
  identity::v1::CreateServiceAccountRequest account;
  account.set_idempotency_key(absl::StrCat("city-system-", n, "-", org_id));
  account.set_display_name("大同市网格化管理平台");
  account.set_org_id(org_id);
  identity::v1::CreateServiceAccountResponse made;
  grpc::Status s = stub_->CreateServiceAccount(With(admin_token_).get(), account, &made);
  EXPECT_TRUE(s.ok()) << s.error_message();
  if (account_id != nullptr) *account_id = made.service_account().service_account_id();
  identity::v1::CreateApiKeyRequest key;
  key.set_idempotency_key(absl::StrCat("city-system-key-", n, "-", org_id));
  key.set_service_account_id(made.service_account().service_account_id());
  key.set_display_name("生产环境");
  for (const std::string& scope : scopes) key.add_scopes(scope);
  identity::v1::CreateApiKeyResponse secret;
  s = stub_->CreateApiKey(With(admin_token_).get(), key, &secret);
  EXPECT_TRUE(s.ok()) << s.error_message();
  identity::v1::ExchangeApiKeyRequest exchange;
  exchange.set_api_key(secret.secret());
  identity::v1::ExchangeApiKeyResponse token;
  s = stub_->ExchangeApiKey(With("").get(), exchange, &token);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return token.access_token();
}

std::string IdentityCalls::Login(const std::string& phone, const std::string& password) {
  v1::LoginRequest req;
  req.set_phone(phone);
  req.set_password(password);
  v1::LoginResponse resp;
  grpc::Status s = stub_->Login(With("").get(), req, &resp);
  if (!s.ok()) return "";
  return resp.tokens().access_token();
}

std::string IdentityCalls::FirstLogin(const std::string& phone, const std::string& initial,
                                      const std::string& new_password) {
  const std::string first = Login(phone, initial);
  if (first.empty()) return "";
  v1::ChangePasswordRequest change;
  change.set_idempotency_key("first-login");
  change.set_current_password(initial);
  change.set_new_password(new_password);
  v1::ChangePasswordResponse changed;
  grpc::Status s = stub_->ChangePassword(With(first).get(), change, &changed);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return changed.tokens().access_token();
}

}  // namespace civicpoints::testing
