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
  auto calls = std::make_unique<IdentityCalls>(stub_.get(), policy.policy_version());
  calls->set_admin_token(calls->FirstLogin(kAdminPhone, kAdminInitialPassword, kAdminPassword));
  if (calls->admin_token().empty()) {
    ADD_FAILURE() << "identity's first admin cannot sign in:\n" << process_->Log();
    return;
  }
  calls_ = std::move(calls);
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

std::string IdentityPeer::Sql(const std::string& query) {
  return FirstCell(db_.url(), "identity", query);
}

}  // namespace civicpoints::testing
