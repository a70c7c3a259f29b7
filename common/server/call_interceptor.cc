#include "common/server/call_interceptor.h"

#include <google/protobuf/descriptor.h>

#include <chrono>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

#include "common/log/log.h"
#include "common/status/grpc_status.h"

namespace civicpoints::server {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

// Request ids are echoed into logs and headers; keep them short and printable.
bool UsableRequestId(const grpc::string_ref& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// On a server with a generic service (the gateway) any path reaches the interceptor; a path that
// names no method of the linked contracts (nor gRPC's own health and reflection) is labelled
// "unknown", so callers cannot grow the metrics without bound.
std::string MethodLabel(const char* path) {
  absl::string_view p(path != nullptr ? path : "");
  if (absl::StartsWith(p, "/grpc.")) return std::string(p);
  absl::string_view dotted = p;
  absl::ConsumePrefix(&dotted, "/");
  if (google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          absl::StrReplaceAll(dotted, {{"/", "."}})) != nullptr) {
    return std::string(p);
  }
  return "unknown";
}

// gRPC answers a request whose bytes do not parse as the method's message with INTERNAL and an
// empty message, as if the server were at fault. The caller sent a bad request: say so, and name
// the method and the message it expected.
grpc::Status UnparsedRequestStatus(absl::string_view path) {
  absl::string_view dotted = path;
  absl::ConsumePrefix(&dotted, "/");
  const google::protobuf::MethodDescriptor* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          absl::StrReplaceAll(dotted, {{"/", "."}}));
  return grpc::Status(
      grpc::StatusCode::INVALID_ARGUMENT,
      absl::StrCat("the request to ", path, " does not parse",
                   method != nullptr ? absl::StrCat(" as ", method->input_type()->full_name())
                                     : std::string()));
}

class CallInterceptor : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(grpc::experimental::ServerRpcInfo* info, Metrics* metrics, bool log_calls)
      : path_(info->method() != nullptr ? info->method() : ""),
        method_(log_calls ? path_ : MethodLabel(info->method())),
        metrics_(metrics),
        log_calls_(log_calls),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      auto it = md->find(kRequestIdHeader);
      if (it != md->end() && UsableRequestId(it->second)) {
        request_id_.assign(it->second.data(), it->second.size());
      } else {
        if (it != md->end()) md->erase(it);
        request_id_ = log::NewRequestId();
        // The map holds views; request_id_ lives as long as the call.
        md->emplace(kRequestIdHeader, request_id_);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // A unary request that failed to deserialize reaches here as no message.
      request_unparsed_ = methods->GetRecvMessage() == nullptr;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      if (!request_id_.empty()) {
        methods->GetSendInitialMetadata()->emplace(kRequestIdHeader, request_id_);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (request_unparsed_ && status.error_code() == grpc::StatusCode::INTERNAL) {
        status = UnparsedRequestStatus(path_);
        methods->ModifySendStatus(status);
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      const char* code = GrpcCodeName(status.error_code());
      metrics_->RecordRpc(method_, code, seconds);
      if (!log_calls_) {
        methods->Proceed();
        return;
      }
      log::ScopedRequestId scope(request_id_);
      log::Info("rpc", {{"method", method_},
                        {"code", code},
                        {"latency_ms", seconds * 1000.0},
                        {"error", status.ok() ? std::string() : status.error_message()}});
    }
    methods->Proceed();
  }

 private:
  const std::string path_;
  const std::string method_;
  Metrics* const metrics_;
  const bool log_calls_;
  const std::chrono::steady_clock::time_point start_;
  std::string request_id_;
  bool request_unparsed_ = false;
};

}  // namespace

grpc::experimental::Interceptor* CallInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new CallInterceptor(info, metrics_, log_calls_);
}

}  // namespace civicpoints::server
