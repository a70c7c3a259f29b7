// ServiceHost runs a gRPC server the way every Civic Points process does: the services it is given,
// the standard health service (SERVING per service once started), server reflection v1 and
// v1alpha (so grpcurl and Postman can list, describe and call methods; reflection_service.h), the
// call interceptor (request ids, metrics, access log) and a Prometheus endpoint. Shutdown() drains:
// health goes NOT_SERVING, the port stops accepting, in-flight calls get until the grace deadline
// to finish, then are cancelled.
//
//   ASSIGN_OR_RETURN(auto host, ServiceHost::Start(options, {{kLedgerName, &ledger}}));
//   WaitForTerminationSignal();
//   host->Shutdown(absl::Seconds(3));
#ifndef CIVICPOINTS_COMMON_SERVER_SERVICE_HOST_H_
#define CIVICPOINTS_COMMON_SERVER_SERVICE_HOST_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/server/metrics.h"
#include "common/server/reflection_service.h"

namespace grpc {
class CallbackGenericService;
class Server;
class Service;
}  // namespace grpc

namespace civicpoints::server {

struct HostOptions {
  std::string service_name = "unknown";  // for logs and metric labels
  std::string host = "127.0.0.1";
  int grpc_port = 0;     // 0 picks a free port (tests)
  int metrics_port = 0;  // 0 serves no metrics endpoint
  int max_message_bytes = 4 * 1024 * 1024;
  // Threads gRPC may use for calls (a resource quota; 0: gRPC's default, unbounded). A call that
  // arrives when all are busy is answered RESOURCE_EXHAUSTED rather than given another thread.
  int max_threads = 0;
  // Optional: answers every method the hosted services do not have (the gateway). Must outlive
  // the host.
  grpc::CallbackGenericService* generic_service = nullptr;
  // Services answered through generic_service, listed by reflection beside the hosted ones.
  std::vector<std::string> reflected_services;
  // Whether the call interceptor writes an access-log line per call (request ids and metrics are
  // kept either way); off when the services write their own (the gateway).
  bool log_calls = true;
};

// A service to host, with its full name ("civicpoints.ledger.v1.LedgerService") for health.
struct HostedService {
  std::string name;
  grpc::Service* service;
};

class ServiceHost {
 public:
  // Builds and starts the server. `services` must outlive the host. Errors: UNAVAILABLE when the
  // gRPC or metrics port cannot be bound, naming the address.
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Start(
      const HostOptions& options, const std::vector<HostedService>& services);
  ~ServiceHost();

  // The port gRPC listens on (the chosen one when options.grpc_port was 0).
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_->port(); }
  Metrics& metrics() { return *metrics_; }

  // Drains and stops as described above; returns when the server has stopped. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  ServiceHost() = default;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ReflectionServices> reflection_;  // outlives server_
  std::unique_ptr<grpc::Server> server_;
  int grpc_port_ = 0;
  bool stopped_ = false;
};

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_SERVICE_HOST_H_
