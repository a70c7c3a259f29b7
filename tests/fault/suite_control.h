// The suite as the fault rounds drive it: started whole by scripts/suite.sh on ports of its own,
// then hurt one part at a time — a service killed (SIGKILL) or frozen (SIGSTOP) and brought back,
// PostgreSQL stopped as a power cut would stop it, Redis emptied or killed — and stopped at the
// end. Every action waits for what it starts to be back (SERVING, accepting connections).
#ifndef CIVICPOINTS_TESTS_FAULT_SUITE_CONTROL_H_
#define CIVICPOINTS_TESTS_FAULT_SUITE_CONTROL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace civicpoints::fault {

class SuiteControl {
 public:
  // Starts a fresh suite in `run_dir` on ports from `port_base` (scripts/suite-lib.sh), with the
  // binaries of `build_dir`. Other CP_* variables of this process reach the services.
  static absl::StatusOr<SuiteControl> Start(const std::string& run_dir, int port_base,
                                            const std::string& build_dir);

  // Start, with the services set for a load test from one address: cheap password hashing,
  // gateway and registration limits out of reach, activities that may start 2 s after creation.
  static absl::StatusOr<SuiteControl> StartForLoad(const std::string& run_dir, int port_base,
                                                   const std::string& build_dir);

  // Stops everything (services, then Redis and PostgreSQL).
  void Stop();

  absl::Status KillService(const std::string& name);     // SIGKILL
  absl::Status RestartService(const std::string& name);  // start again, wait for SERVING
  absl::Status PauseService(const std::string& name);    // SIGSTOP
  absl::Status ResumeService(const std::string& name);   // SIGCONT
  absl::Status CrashPostgres();                          // pg_ctl stop -m immediate
  absl::Status StartPostgres();
  absl::Status FlushRedis();  // FLUSHALL
  absl::Status KillRedis();   // SIGKILL
  absl::Status StartRedis();

  // The pid of a running service (from RUN_DIR/pids).
  absl::StatusOr<int> ServicePid(const std::string& name) const;

  const std::string& run_dir() const { return run_dir_; }
  std::string http_url() const { return http_url_; }
  const std::string& gateway_addr() const { return gateway_addr_; }
  const std::string& pg_url() const { return pg_url_; }
  const std::string& redis_addr() const { return redis_addr_; }
  const std::string& admin_phone() const { return admin_phone_; }
  const std::string& admin_password() const { return admin_password_; }

 private:
  absl::Status Run(const std::string& what, const std::string& command) const;

  std::string run_dir_;
  int port_base_ = 0;
  std::string gateway_addr_, http_url_, pg_url_, redis_addr_, admin_phone_, admin_password_;
};

}  // namespace civicpoints::fault

#endif  // CIVICPOINTS_TESTS_FAULT_SUITE_CONTROL_H_
