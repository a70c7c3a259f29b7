// cp_fault_check RUN_DIR: the fault rounds' invariants (invariants.h) against a running suite
// started by scripts/suite.sh, with nothing acknowledged. Reads RUN_DIR/suite.env (the stores'
// and the gateway's addresses) and RUN_DIR/admin.env (the bootstrap admin, whose first-login
// password change suite.sh made), signs in as the admin through the gateway, prints each
// violation and then "checks N, violations M". Exit status: 0 when nothing is violated, 1 when
// something is, 2 when the check could not start (usage, a missing setting, a refused login).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "tests/fault/invariants.h"

namespace {

namespace cp = ::civicpoints;
namespace iv1 = ::civicpoints::identity::v1;

using Settings = std::map<std::string, std::string>;

// Adds the KEY=VALUE lines of `path` to `settings`. Errors: NOT_FOUND when it cannot be read.
absl::Status ReadEnvFile(const std::string& path, Settings& settings) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos || line[0] == '#') continue;
    settings[line.substr(0, eq)] =
        std::string(absl::StripTrailingAsciiWhitespace(line.substr(eq + 1)));
  }
  return absl::OkStatus();
}

// The setting `key`. Errors: NOT_FOUND naming it when it is missing or empty.
absl::StatusOr<std::string> Setting(const Settings& settings, const std::string& key) {
  auto it = settings.find(key);
  if (it == settings.end() || it->second.empty()) {
    return absl::NotFoundError(absl::StrCat(key, " is not set"));
  }
  return it->second;
}

// An access token of the admin, through the gateway's Login. Errors: the call's, or
// FAILED_PRECONDITION when the admin still has to change the first password.
absl::StatusOr<std::string> SignIn(const std::string& gateway, const std::string& phone,
                                   const std::string& password) {
  auto stub = iv1::IdentityService::NewStub(
      grpc::CreateChannel(gateway, grpc::InsecureChannelCredentials()));
  iv1::LoginRequest req;
  req.set_phone(phone);
  req.set_password(password);
  req.set_device_name("cp_fault_check");
  iv1::LoginResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (grpc::Status s = stub->Login(&ctx, req, &resp); !s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("admin login failed: ", s.error_code(), " ", s.error_message()));
  }
  if (resp.password_change_required()) {
    return absl::FailedPreconditionError("the admin must change the first password first");
  }
  return resp.tokens().access_token();
}

absl::StatusOr<cp::fault::SuiteStores> SuiteOf(const std::string& run_dir) {
  Settings settings;
  for (const char* file : {"suite.env", "admin.env"}) {
    if (absl::Status s = ReadEnvFile(absl::StrCat(run_dir, "/", file), settings); !s.ok()) {
      return s;
    }
  }
  cp::fault::SuiteStores stores;
  std::string phone, password;
  const std::pair<const char*, std::string*> wanted[] = {
      {"CP_SUITE_PG_URL", &stores.pg_url},
      {"CP_SUITE_REDIS_ADDR", &stores.redis_addr},
      {"CP_SUITE_GATEWAY_ADDR", &stores.gateway_addr},
      {"CP_SUITE_ADMIN_PHONE", &phone},
      {"CP_SUITE_ADMIN_PASSWORD", &password}};
  for (const auto& [key, out] : wanted) {
    absl::StatusOr<std::string> value = Setting(settings, key);
    if (!value.ok()) return value.status();
    *out = *value;
  }
  absl::StatusOr<std::string> token = SignIn(stores.gateway_addr, phone, password);
  if (!token.ok()) return token.status();
  stores.admin_token = *token;
  return stores;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: cp_fault_check RUN_DIR   (a suite started by scripts/suite.sh)\n";
    return 2;
  }
  absl::StatusOr<cp::fault::SuiteStores> stores = SuiteOf(argv[1]);
  if (!stores.ok()) {
    std::cerr << "cp_fault_check: " << stores.status().message() << "\n";
    return 2;
  }
  const cp::fault::InvariantReport report = cp::fault::CheckInvariants(*stores, {});
  for (const std::string& v : report.violations) std::cout << v << "\n";
  std::cout << "checks " << report.checks << ", violations " << report.violations.size() << "\n";
  return report.violations.empty() ? 0 : 1;
}
