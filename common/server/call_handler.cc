#include "common/server/call_handler.h"

#include <grpcpp/server_context.h>

#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/auth/method_policy.h"
#include "common/log/log.h"
#include "common/status/grpc_status.h"

namespace civicpoints::server {

grpc::Status HandleCall(grpc::ServerContext* ctx, const auth::Authorizer& authorizer,
                        absl::string_view service, absl::string_view method, const CallBody& body,
                        Anonymous anonymous) {
  log::ScopedRequestId scope(ClientMetadata(*ctx, "x-request-id"));
  absl::StatusOr<std::optional<auth::Principal>> who =
      authorizer.Authorize(*ctx, absl::StrCat("/", service, "/", method));
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (!who->has_value() && anonymous == Anonymous::kRefused) {
    return ToGrpcStatus(absl::UnauthenticatedError("credentials required"));
  }
  Call call;
  call.context = ctx;
  call.principal = who->has_value() ? &**who : nullptr;
  call.now = absl::Now();
  absl::Status status = body(call);
  if (std::optional<absl::Duration> wait = RetryDelayOf(status)) {
    const double seconds = std::ceil(absl::ToDoubleSeconds(*wait));
    ctx->AddTrailingMetadata("retry-after", std::to_string(static_cast<int64_t>(seconds)));
  }
  return ToGrpcStatus(status);
}

std::string ClientMetadata(const grpc::ServerContext& ctx, absl::string_view key) {
  auto it = ctx.client_metadata().find(grpc::string_ref(key.data(), key.size()));
  if (it == ctx.client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

std::string PeerHost(absl::string_view peer) {
  if (absl::ConsumePrefix(&peer, "ipv6:")) {
    absl::ConsumePrefix(&peer, "[");
    return std::string(peer.substr(0, peer.find(']')));
  }
  absl::ConsumePrefix(&peer, "ipv4:");
  return std::string(peer.substr(0, peer.rfind(':')));
}

}  // namespace civicpoints::server
