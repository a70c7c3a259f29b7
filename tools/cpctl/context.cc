#include "tools/cpctl/context.h"

#include <iostream>

#include "tools/cpctl/exit_codes.h"
#include "tools/cpctl/format.h"

namespace civicpoints::cpctl {

Client& Context::client() {
  if (client_ == nullptr) {
    client_options.timeout = absl::Seconds(timeout_seconds);
    client_ = std::make_unique<Client>(client_options);
  }
  return *client_;
}

void Context::Run(std::function<absl::Status()> f) {
  action_ = [f = std::move(f)] {
    const absl::Status s = f();
    if (!s.ok()) std::cerr << "cpctl: " << Describe(s) << "\n";
    return ExitCodeFor(s);
  };
}

void Context::RunWithCode(std::function<absl::StatusOr<int>()> f) {
  action_ = [f = std::move(f)] {
    const absl::StatusOr<int> s = f();
    if (!s.ok()) {
      std::cerr << "cpctl: " << Describe(s.status()) << "\n";
      return ExitCodeFor(s.status());
    }
    return *s;
  };
}

int Context::RunAction() {
  if (!action_) return kExitUsage;
  return action_();
}

bool Context::PrintJson(const google::protobuf::Message& message) const {
  if (!json) return false;
  std::cout << ToJson(message) << "\n";
  return true;
}

}  // namespace civicpoints::cpctl
