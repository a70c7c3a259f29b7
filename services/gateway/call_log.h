// CallLog: the gateway's access log and per-route metrics, one record per call on either face:
// a JSON log line (face, route, principal, status, HTTP status, latency, request id, client
// address) and, once a registry is attached, cp_gateway_requests_total{face,route,code} and
// cp_gateway_request_seconds{face,route}. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_GATEWAY_CALL_LOG_H_
#define CIVICPOINTS_SERVICES_GATEWAY_CALL_LOG_H_

#include <grpcpp/support/status.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
}  // namespace prometheus

namespace civicpoints::gateway {

struct CallRecord {
  absl::string_view face;   // "grpc" or "rest"
  absl::string_view route;  // the gRPC path, or "GET /v1/rankings/top"
  absl::string_view principal;
  grpc::StatusCode code = grpc::StatusCode::OK;
  absl::string_view message;  // the error message, if any
  int http_status = 0;        // REST only
  double seconds = 0;
  absl::string_view request_id;
  absl::string_view client_address;
};

class CallLog {
 public:
  CallLog();
  ~CallLog();
  // Starts recording metrics into `registry` (which must outlive this).
  void AttachRegistry(prometheus::Registry& registry);
  // Whether access-log lines are written (they are at log level info or debug). Set before
  // serving.
  void set_access_log(bool on) { access_log_ = on; }
  void Record(const CallRecord& record);

 private:
  struct Families;
  // The metrics of one face and route, looked up once (labels are hashed only then).
  struct RouteMetrics {
    prometheus::Histogram* latency = nullptr;
    std::array<std::atomic<prometheus::Counter*>, 17> requests{};
  };
  RouteMetrics& MetricsFor(Families& f, absl::string_view face, absl::string_view route);

  std::unique_ptr<Families> families_;
  std::atomic<Families*> attached_{nullptr};
  bool access_log_ = true;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<RouteMetrics>> routes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_CALL_LOG_H_
