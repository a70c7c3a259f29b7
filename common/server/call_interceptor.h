// A server interceptor installed on every service: it gives each call a request id (the caller's
// `x-request-id`, or a fresh one written back into the call's metadata so handlers see it), echoes
// the id in the response metadata, counts the call and its latency in Metrics, and writes one
// access-log line when the status is sent. A request whose bytes do not parse as the method's
// message is answered INVALID_ARGUMENT naming the method and message (gRPC's own answer is an
// empty INTERNAL).
#ifndef CIVICPOINTS_COMMON_SERVER_CALL_INTERCEPTOR_H_
#define CIVICPOINTS_COMMON_SERVER_CALL_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include "common/server/metrics.h"

namespace civicpoints::server {

inline constexpr char kRequestIdHeader[] = "x-request-id";

class CallInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `metrics` must outlive the server. `log_calls` false (a server hosting a generic service):
  // request ids and metrics only, no access-log lines, and paths that name no known method are
  // counted as "unknown".
  explicit CallInterceptorFactory(Metrics* metrics, bool log_calls = true)
      : metrics_(metrics), log_calls_(log_calls) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  Metrics* metrics_;
  bool log_calls_;
};

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_CALL_INTERCEPTOR_H_
