// A server interceptor installed on every service: it gives each call a request id (the caller's
// `x-request-id`, or a fresh one written back into the call's metadata so handlers see it), echoes
// the id in the response metadata, counts the call and its latency in Metrics, and writes one
// access-log line when the status is sent.
#ifndef CIVICPOINTS_COMMON_SERVER_CALL_INTERCEPTOR_H_
#define CIVICPOINTS_COMMON_SERVER_CALL_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include "common/server/metrics.h"

namespace civicpoints::server {

inline constexpr char kRequestIdHeader[] = "x-request-id";

class CallInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `metrics` must outlive the server.
  explicit CallInterceptorFactory(Metrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  Metrics* metrics_;
};

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_CALL_INTERCEPTOR_H_
