#include "tests/fault/suite_control.h"

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace civicpoints::fault {
namespace {

// KEY=VALUE lines of a file scripts/suite.sh writes.
std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

std::string Script(const std::string& name) {
  return absl::StrCat(CP_SOURCE_DIR, "/scripts/", name);
}

}  // namespace

absl::StatusOr<SuiteControl> SuiteControl::Start(const std::string& run_dir, int port_base,
                                                 const std::string& build_dir) {
  SuiteControl suite;
  suite.run_dir_ = run_dir;
  std::filesystem::create_directories(run_dir);
  suite.port_base_ = port_base;
  if (absl::Status s =
          suite.Run("start the suite", absl::StrCat("bash ", Script("suite.sh"), " start ", run_dir,
                                                    " ", port_base, " ", build_dir));
      !s.ok()) {
    return s;
  }
  std::map<std::string, std::string> env = ReadEnvFile(run_dir + "/suite.env");
  const std::map<std::string, std::string> admin = ReadEnvFile(run_dir + "/admin.env");
  suite.gateway_addr_ = env["CP_SUITE_GATEWAY_ADDR"];
  suite.http_url_ = env["CP_SUITE_HTTP_URL"];
  suite.pg_url_ = env["CP_SUITE_PG_URL"];
  suite.redis_addr_ = env["CP_SUITE_REDIS_ADDR"];
  suite.admin_phone_ = admin.count("CP_SUITE_ADMIN_PHONE") ? admin.at("CP_SUITE_ADMIN_PHONE") : "";
  suite.admin_password_ =
      admin.count("CP_SUITE_ADMIN_PASSWORD") ? admin.at("CP_SUITE_ADMIN_PASSWORD") : "";
  if (suite.gateway_addr_.empty() || suite.admin_phone_.empty()) {
    return absl::InternalError(absl::StrCat("suite.sh wrote no suite.env/admin.env in ", run_dir));
  }
  return suite;
}

absl::StatusOr<SuiteControl> SuiteControl::StartForLoad(const std::string& run_dir, int port_base,
                                                        const std::string& build_dir) {
  for (const auto& [name, value] :
       std::map<std::string, std::string>{{"CP_ACTIVITY_MIN_START_LEAD", "2s"},
                                          {"CP_IDENTITY_PWHASH_OPSLIMIT", "1"},
                                          {"CP_IDENTITY_PWHASH_MEMLIMIT_MIB", "8"},
                                          {"CP_IDENTITY_REGISTRATIONS_PER_ADDRESS", "1000000"},
                                          {"CP_RATE_PER_ADDRESS", "100000"},
                                          {"CP_BURST_PER_ADDRESS", "200000"},
                                          {"CP_RATE_PER_PRINCIPAL", "100000"},
                                          {"CP_BURST_PER_PRINCIPAL", "200000"}}) {
    setenv(name.c_str(), value.c_str(), 1);
  }
  return Start(run_dir, port_base, build_dir);
}

void SuiteControl::Stop() {
  (void)Run("stop the suite", absl::StrCat("bash ", Script("suite.sh"), " stop ", run_dir_));
}

absl::Status SuiteControl::Run(const std::string& what, const std::string& command) const {
  const std::string log = run_dir_ + "/control.log";
  const int status = std::system(absl::StrCat(command, " >>", log, " 2>&1").c_str());
  if (status != 0) {
    return absl::InternalError(
        absl::StrCat("could not ", what, " (exit ", status, "; see ", log, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> SuiteControl::ServicePid(const std::string& name) const {
  std::ifstream in(absl::StrCat(run_dir_, "/pids/", name, ".pid"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid) || pid <= 0) {
    return absl::NotFoundError(absl::StrCat("no pid for ", name));
  }
  return pid;
}

absl::Status SuiteControl::KillService(const std::string& name) {
  absl::StatusOr<int> pid = ServicePid(name);
  if (!pid.ok()) return pid.status();
  ::kill(*pid, SIGKILL);
  return absl::OkStatus();
}

absl::Status SuiteControl::RestartService(const std::string& name) {
  return Run(absl::StrCat("restart ", name),
             absl::StrCat("bash ", Script("suite.sh"), " restart ", run_dir_, " ", name));
}

absl::Status SuiteControl::PauseService(const std::string& name) {
  absl::StatusOr<int> pid = ServicePid(name);
  if (!pid.ok()) return pid.status();
  ::kill(*pid, SIGSTOP);
  return absl::OkStatus();
}

absl::Status SuiteControl::ResumeService(const std::string& name) {
  absl::StatusOr<int> pid = ServicePid(name);
  if (!pid.ok()) return pid.status();
  ::kill(*pid, SIGCONT);
  return absl::OkStatus();
}

absl::Status SuiteControl::CrashPostgres() {
  return Run("crash PostgreSQL",
             absl::StrCat("bash ", Script("pg.sh"), " crash ", run_dir_, "/pg"));
}

absl::Status SuiteControl::StartPostgres() {
  return Run("start PostgreSQL",
             absl::StrCat("bash ", Script("pg.sh"), " start ", run_dir_, "/pg ", port_base_ + 30));
}

absl::Status SuiteControl::FlushRedis() {
  return Run("flush Redis",
             absl::StrCat("redis-cli -h 127.0.0.1 -p ", port_base_ + 31, " FLUSHALL"));
}

absl::Status SuiteControl::KillRedis() {
  return Run("kill Redis", absl::StrCat("kill -KILL $(cat ", run_dir_, "/redis/redis.pid)"));
}

absl::Status SuiteControl::StartRedis() {
  return Run("start Redis", absl::StrCat("bash ", Script("redis.sh"), " start ", run_dir_,
                                         "/redis ", port_base_ + 31));
}

}  // namespace civicpoints::fault
