#include "services/identity/identity_test_env.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/pg/migrations.h"
#include "services/identity/sql_enums.h"

std::vector<std::pair<std::string, std::string>> IdentityMigrations();

namespace civicpoints::identity {

IdentityTestEnv::IdentityTestEnv(const std::function<void(IdentityOptions&)>& adjust) {
  auto pool = pg::PgPool::Connect({.url = db_.url(), .schema = "identity", .pool_size = 8});
  if (!pool.ok()) {
    ADD_FAILURE() << pool.status();
    return;
  }
  pool_ = *std::move(pool);
  auto migrations = pg::MigrationsFromFiles(IdentityMigrations());
  absl::Status migrated = pool_->WithConnection("migrate", [&](pqxx::connection_base& c) {
    return pg::ApplyMigrations(c, "identity", *migrations, IdentitySqlEnums()).status();
  });
  if (!migrated.ok()) {
    ADD_FAILURE() << migrated;
    return;
  }
  secrets_ = std::make_unique<Secrets>(*Secrets::FromHex(Secrets::NewMasterKeyHex()));
  keys_ = std::make_shared<KeyRing>(pool_.get(), secrets_.get());
  if (absl::Status s = keys_->EnsureKey(absl::Now()); !s.ok()) {
    ADD_FAILURE() << s;
    return;
  }
  // As in a deployment, identity refuses the tokens on its own revocation list.
  authorizer_ = std::make_unique<auth::Authorizer>(
      std::make_shared<const auth::TokenVerifier>(keys_),
      std::make_shared<RevocationFeed>(pool_.get(),
                                       RevocationWindow(IdentityOptions().access_token_ttl)));
  IdentityOptions options;
  // The cheapest argon2id the library allows: tests hash many passwords on two cores.
  options.hasher.opslimit = 1;
  options.hasher.memlimit_bytes = 64 << 10;
  if (adjust) adjust(options);
  service_ = std::make_unique<IdentityServiceImpl>(pool_.get(), secrets_.get(), keys_.get(),
                                                   authorizer_.get(), options);
  if (absl::Status s = service_->SetCityName(); !s.ok()) {
    ADD_FAILURE() << s;
    return;
  }
  if (absl::Status s = service_->BootstrapAdmin(kAdminPhone, kAdminInitialPassword, "管理员");
      !s.ok()) {
    ADD_FAILURE() << s;
    return;
  }
  auto host = server::ServiceHost::Start(
      {.service_name = "identity"}, {{v1::IdentityService::service_full_name(), service_.get()}});
  if (!host.ok()) {
    ADD_FAILURE() << host.status();
    return;
  }
  host_ = *std::move(host);
  auto stub = v1::IdentityService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(host_->grpc_port()), grpc::InsecureChannelCredentials()));
  stub_ = std::move(stub);
  admin_token_ = FirstLogin(kAdminPhone, kAdminInitialPassword, kAdminPassword);
  if (admin_token_.empty()) {
    ADD_FAILURE() << "bootstrap admin cannot sign in";
    stub_.reset();
  }
}

IdentityTestEnv::~IdentityTestEnv() {
  if (host_) host_->Shutdown(absl::Seconds(1));
}

std::unique_ptr<grpc::ClientContext> IdentityTestEnv::With(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::string IdentityTestEnv::Sql(const std::string& query) {
  pqxx::connection c(db_.url());
  pqxx::work tx(c);
  tx.exec("SET search_path TO identity");
  pqxx::result r = tx.exec(query);
  tx.commit();
  if (r.empty() || r.columns() == 0 || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

std::string IdentityTestEnv::MakeOrg(const std::string& parent, common::v1::OrgLevel level,
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

v1::RegisterRiderResponse IdentityTestEnv::Register(const std::string& phone,
                                                    const std::string& name,
                                                    const std::string& check_in_code) {
  v1::RegisterRiderRequest req;
  req.set_idempotency_key(absl::StrCat("reg-", phone, "-", ++registrations_));
  req.set_phone(phone);
  req.set_password(kRiderPassword);
  req.set_display_name(name);
  req.mutable_consent()->set_policy_version(IdentityOptions().policy_version);
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

std::string IdentityTestEnv::Staff(const std::string& phone, common::v1::Role role,
                                   const std::string& org_id) {
  v1::CreatePersonRequest create;
  create.set_idempotency_key("staff-" + phone);
  create.set_phone(phone);
  create.set_display_name("工作人员" + phone.substr(7));
  create.set_initial_password("Staff-pass-1");
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
  return FirstLogin(phone, "Staff-pass-1", kStaffPassword);
}

std::string IdentityTestEnv::FirstLogin(const std::string& phone, const std::string& initial,
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

std::string IdentityTestEnv::Login(const std::string& phone, const std::string& password) {
  v1::LoginRequest req;
  req.set_phone(phone);
  req.set_password(password);
  v1::LoginResponse resp;
  grpc::Status s = stub_->Login(With("").get(), req, &resp);
  if (!s.ok()) return "";
  return resp.tokens().access_token();
}

std::string IdentityTestEnv::InternalServiceKey(const std::string& name) {
  const std::string key = absl::StrCat("cpk_", NewId("ak"), "_", Base64Url(RandomBytes(32)));
  absl::Status s = service_->EnsureInternalServiceKey(name, key);
  EXPECT_TRUE(s.ok()) << s;
  return s.ok() ? key : "";
}

}  // namespace civicpoints::identity
