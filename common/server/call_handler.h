// The one door of every service method: the request id for logs, authorization against the
// method's declared policy, one "now" for the whole call, and the conversion of the body's
// absl::Status to the wire, with the wait of a throttled answer as "retry-after" trailing metadata
// (whole seconds, rounded up) beside its google.rpc.RetryInfo.
//
//   grpc::Status RewardsServiceImpl::GetGift(grpc::ServerContext* ctx, ...) {
//     return server::HandleCall(ctx, *authorizer_, kService, "GetGift",
//                               [&](const server::Call& call) -> absl::Status { ... });
//   }
#ifndef CIVICPOINTS_COMMON_SERVER_CALL_HANDLER_H_
#define CIVICPOINTS_COMMON_SERVER_CALL_HANDLER_H_

#include <grpcpp/support/status.h>

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace grpc {
class ServerContext;
}

namespace civicpoints::auth {
class Authorizer;
struct Principal;
}  // namespace civicpoints::auth

namespace civicpoints::server {

struct Call {
  grpc::ServerContext* context = nullptr;
  // Who is calling; null only on a public method called without credentials (Anonymous::kAllowed).
  const auth::Principal* principal = nullptr;
  absl::Time now;
};

enum class Anonymous {
  kRefused,  // UNAUTHENTICATED unless the caller presents credentials
  kAllowed,  // public methods (identity's sign-in) run without a principal
};

using CallBody = std::function<absl::Status(const Call&)>;

// Authorizes the call of `method` on `service` (its full proto name) and runs `body`; the only
// place a service makes a grpc::Status.
grpc::Status HandleCall(grpc::ServerContext* ctx, const auth::Authorizer& authorizer,
                        absl::string_view service, absl::string_view method, const CallBody& body,
                        Anonymous anonymous = Anonymous::kRefused);

// The value of the caller's metadata `key` ("" when absent).
std::string ClientMetadata(const grpc::ServerContext& ctx, absl::string_view key);

// The host of a gRPC peer string: "ipv4:127.0.0.1:5555" → "127.0.0.1", "ipv6:[::1]:5555" → "::1".
std::string PeerHost(absl::string_view peer);

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_CALL_HANDLER_H_
