#include "tests/peers/identity_peer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <pqxx/pqxx>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace civicpoints::testing {
namespace {

namespace v1 = identity::v1;

constexpr char kAdminInitialPassword[] = "Admin-pass-2026";
constexpr char kStaffInitialPassword[] = "Staff-pass-1";
constexpr const char* kInternalServices[] = {"activity", "rewards"};

// `n` characters drawn from `alphabet` with the system's random device.
std::string RandomText(size_t n, const std::string& alphabet) {
  std::random_device device;
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (size_t i = 0; i < n; ++i) out += alphabet[pick(device)];
  return out;
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text << "\n";
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace

IdentityPeer::IdentityPeer() {
  char dir[] = "/tmp/cp-identity-peer-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  keys_dir_ = dir;
  const std::string hex = "0123456789abcdef";
  WriteFile(keys_dir_ / "master.key", RandomText(64, hex));
  // The key files the deployment makes: cpk_ak_<random id>_<43 base64url characters>.
  std::vector<std::string> internal_keys;
  for (const char* name : kInternalServices) {
    const std::filesystem::path file = keys_dir_ / absl::StrCat(name, ".apikey");
    WriteFile(file, absl::StrCat("cpk_ak_", RandomText(20, hex), "_",
                                 RandomText(43,
                                            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                            "0123456789-_")));
    internal_keys.push_back(absl::StrCat(name, "=", file.string()));
  }
  process_ = std::make_unique<ServiceProcess>(
      "identity",
      std::map<std::string, std::string>{
          {"CP_PG_URL", db_.url()},
          {"CP_IDENTITY_MASTER_KEY_FILE", (keys_dir_ / "master.key").string()},
          {"CP_IDENTITY_BOOTSTRAP_ADMIN_PHONE", kAdminPhone},
          {"CP_IDENTITY_BOOTSTRAP_ADMIN_PASSWORD", kAdminInitialPassword},
          {"CP_IDENTITY_INTERNAL_SERVICE_KEYS", absl::StrJoin(internal_keys, ",")},
          // The cheapest argon2id identity accepts: tests hash many passwords on two cores.
          {"CP_IDENTITY_PWHASH_OPSLIMIT", "1"},
          {"CP_IDENTITY_PWHASH_MEMLIMIT_MIB", "8"},
          // Every rider of a test registers from 127.0.0.1.
          {"CP_IDENTITY_REGISTRATIONS_PER_ADDRESS", "100000"}});
  if (absl::Status s = process_->Start(); !s.ok()) {
    ADD_FAILURE() << s;
    return;
  }
  stub_ = v1::IdentityService::NewStub(
      grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials()));
  v1::GetPrivacyPolicyResponse policy;
  grpc::Status s = stub_->GetPrivacyPolicy(With("").get(), {}, &policy);
  EXPECT_TRUE(s.ok()) << s.error_message();
  policy_version_ = policy.policy_version();
  admin_token_ = FirstLogin(kAdminPhone, kAdminInitialPassword, kAdminPassword);
  if (admin_token_.empty()) {
    ADD_FAILURE() << "identity's first admin cannot sign in:\n" << process_->Log();
    stub_.reset();
  }
}

IdentityPeer::~IdentityPeer() {
  process_.reset();
  if (!keys_dir_.empty()) std::filesystem::remove_all(keys_dir_);
}

std::string IdentityPeer::ServiceKey(const std::string& name) const {
  std::ifstream in(keys_dir_ / absl::StrCat(name, ".apikey"));
  std::string key;
  std::getline(in, key);
  EXPECT_FALSE(key.empty()) << "no API key for internal service " << name;
  return key;
}

std::unique_ptr<grpc::ClientContext> IdentityPeer::With(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::string IdentityPeer::Sql(const std::string& query) {
  pqxx::connection c(db_.url());
  pqxx::work tx(c);
  tx.exec("SET search_path TO identity");
  pqxx::result r = tx.exec(query);
  tx.commit();
  if (r.empty() || r.columns() == 0 || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

std::string IdentityPeer::MakeOrg(const std::string& parent, common::v1::OrgLevel level,
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

IdentityPeer::Member IdentityPeer::Staff(const std::string& phone, common::v1::Role role,
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

v1::RegisterRiderResponse IdentityPeer::Register(const std::string& phone, const std::string& name,
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

std::string IdentityPeer::Login(const std::string& phone, const std::string& password) {
  v1::LoginRequest req;
  req.set_phone(phone);
  req.set_password(password);
  v1::LoginResponse resp;
  grpc::Status s = stub_->Login(With("").get(), req, &resp);
  if (!s.ok()) return "";
  return resp.tokens().access_token();
}

std::string IdentityPeer::FirstLogin(const std::string& phone, const std::string& initial,
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
