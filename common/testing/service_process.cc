#include "common/testing/service_process.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/probe/probe.h"
#include "common/testing/test_env.h"

namespace civicpoints::testing {
namespace {

// Where this build's service binaries are (CMake passes the build tree; CP_TEST_BIN_DIR, as
// service_process_test uses, overrides it).
std::string BinaryOf(const std::string& name) {
  const char* dir = std::getenv("CP_TEST_BIN_DIR");
  return absl::StrCat(dir != nullptr ? dir : CP_SERVICES_BIN_DIR, "/", name, "/civicpoints-", name);
}

// The last `lines` lines of `text`.
std::string Tail(const std::string& text, int lines) {
  size_t at = text.size();
  while (lines-- > 0 && at > 0) {
    at = text.rfind('\n', at - 1);
    if (at == std::string::npos) return text;
  }
  return text.substr(at);
}

}  // namespace

ServiceProcess::ServiceProcess(std::string name, std::map<std::string, std::string> env)
    : name_(std::move(name)), env_(std::move(env)), port_(FreePort()) {
  env_["CP_GRPC_PORT"] = std::to_string(port_);
  env_["CP_METRICS_PORT"] = std::to_string(FreePort());
}

// The test is over and nothing of the process is checked any more: no graceful stop to wait for
// (service_process_test checks that one).
ServiceProcess::~ServiceProcess() { Kill(); }

std::string ServiceProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status ServiceProcess::Start() {
  child_ = std::make_unique<ChildProcess>(BinaryOf(name_), std::vector<std::string>{}, env_);
  auto channel = probe::ProbeChannel(address());
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (probe::WaitUntilServing(channel, absl::Milliseconds(500))) return absl::OkStatus();
    if (std::optional<int> code = child_->WaitForExit(absl::ZeroDuration());
        code.has_value() || !child_->running()) {
      return absl::UnavailableError(absl::StrCat("civicpoints-", name_, " exited (code ",
                                                 code.value_or(-1), ", signal ",
                                                 child_->exit_signal(), "):\n", Tail(Log(), 8)));
    }
  }
  return absl::UnavailableError(
      absl::StrCat("civicpoints-", name_, " not SERVING within 30 s:\n", Tail(Log(), 8)));
}

void ServiceProcess::Kill() {
  if (!running()) return;
  child_->Signal(SIGKILL);
  child_->WaitForExit(absl::Seconds(5));
}

std::string ServiceProcess::Log() const { return child_ != nullptr ? child_->Stderr() : ""; }

}  // namespace civicpoints::testing
