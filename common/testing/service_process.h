// A service binary of this build run as a child process for a test, the way an operator runs it:
// settings in CP_* variables, gRPC and metrics ports of its own, waited for until SERVING. A test
// of one service meets the others this way instead of linking their code.
//
//   ServiceProcess ledger("ledger", {{"CP_PG_URL", db.url()}, {"CP_REDIS_ADDR", redis}});
//   ASSERT_TRUE(ledger.Start().ok());
//   ledger.Kill();           // a crash: SIGKILL, nothing finished
//   ledger.Start();          // back on the same address with the same settings
#ifndef CIVICPOINTS_COMMON_TESTING_SERVICE_PROCESS_H_
#define CIVICPOINTS_COMMON_TESTING_SERVICE_PROCESS_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/testing/child_process.h"

namespace civicpoints::testing {

class ServiceProcess {
 public:
  // `name` is the service ("identity", "ledger", ...): build/services/NAME/civicpoints-NAME.
  // `env` holds its settings; the ports are chosen here (CP_GRPC_PORT, CP_METRICS_PORT).
  ServiceProcess(std::string name, std::map<std::string, std::string> env);
  ~ServiceProcess();  // SIGKILL
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // Starts the binary and waits up to 30 s for it to answer SERVING. Errors: UNAVAILABLE with the
  // end of its log when it exits or does not become SERVING in time.
  absl::Status Start();
  // SIGKILL and reap, as a crash would leave it.
  void Kill();
  bool running() const { return child_ != nullptr && child_->running(); }

  int port() const { return port_; }
  std::string address() const;
  // What the process (the last one started) logged so far.
  std::string Log() const;

 private:
  std::string name_;
  std::map<std::string, std::string> env_;
  int port_;
  std::unique_ptr<ChildProcess> child_;
};

}  // namespace civicpoints::testing

#endif  // CIVICPOINTS_COMMON_TESTING_SERVICE_PROCESS_H_
