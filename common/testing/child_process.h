// A child process for tests: started with arguments and extra environment, its stderr captured
// to a file, signalled and waited for with a deadline; killed when the thread that started it ends.
#ifndef CIVICPOINTS_COMMON_TESTING_CHILD_PROCESS_H_
#define CIVICPOINTS_COMMON_TESTING_CHILD_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace civicpoints::testing {

class ChildProcess {
 public:
  ChildProcess(std::string path, std::vector<std::string> args,
               std::map<std::string, std::string> env);
  ~ChildProcess();  // kills the child if still running

  // Sends `signal`.
  void Signal(int signal);
  // Waits up to `timeout` for exit; returns the exit code, or nullopt if still running or killed
  // by a signal (exit_signal() then tells which).
  std::optional<int> WaitForExit(absl::Duration timeout);
  int exit_signal() const { return exit_signal_; }
  bool running() const { return pid_ > 0; }
  // Everything the child wrote to stderr so far.
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::string stderr_path_;
  int exit_signal_ = 0;
};

}  // namespace civicpoints::testing

#endif  // CIVICPOINTS_COMMON_TESTING_CHILD_PROCESS_H_
