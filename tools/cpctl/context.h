// What every cpctl command shares: the global flags, the gateway client (made on first use) and the
// action the chosen subcommand leaves to run once the command line has parsed.
//
//   sub->callback([&ctx, o] { ctx.Run([&ctx, o] { return ShowPlace(ctx, *o); }); });
#ifndef CIVICPOINTS_TOOLS_CPCTL_CONTEXT_H_
#define CIVICPOINTS_TOOLS_CPCTL_CONTEXT_H_

#include <functional>
#include <memory>
#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/cpctl/client.h"

namespace google::protobuf {
class Message;
}

namespace civicpoints::cpctl {

class Context {
 public:
  ClientOptions client_options;
  double timeout_seconds = 15;
  bool json = false;

  // The client for client_options, created on first use.
  Client& client();

  // Makes `f` the command's action: its status becomes the exit code, an error is printed.
  void Run(std::function<absl::Status()> f);
  // The same for an action that picks its own exit code on success (imports).
  void RunWithCode(std::function<absl::StatusOr<int>()> f);
  // Runs the action set by the parsed subcommand; kExitUsage when none was set.
  int RunAction();

  // With --json writes `message` as JSON to stdout and returns true; else returns false so the
  // caller prints its human form.
  bool PrintJson(const google::protobuf::Message& message) const;

 private:
  std::unique_ptr<Client> client_;
  std::function<int()> action_;
};

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_CONTEXT_H_
