// Prometheus metrics for a server: one registry, per-RPC counters and latency histograms, and an
// HTTP exposer serving them at /metrics (prometheus-cpp). Thread-safe.
#ifndef CIVICPOINTS_COMMON_SERVER_METRICS_H_
#define CIVICPOINTS_COMMON_SERVER_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace civicpoints::server {

class Metrics {
 public:
  // Creates the registry and, when port > 0, serves it on host:port/metrics. Errors: UNAVAILABLE
  // when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<Metrics>> Create(absl::string_view service,
                                                         const std::string& host, int port);
  ~Metrics();

  // Records one finished RPC: `method` as "/pkg.Service/Method", `code` its gRPC status name.
  void RecordRpc(const std::string& method, const std::string& code, double seconds);

  // The registry, for a service's own metrics.
  prometheus::Registry& registry();

  // The bound port (0 when not serving).
  int port() const { return port_; }

 private:
  struct Families;
  Metrics() = default;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_METRICS_H_
