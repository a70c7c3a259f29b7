#include "services/app/app_service.h"

#include <string>

#include "absl/strings/match.h"
#include "common/auth/principal.h"
#include "common/server/call_handler.h"

namespace civicpoints::app {
namespace {

constexpr char kService[] = "civicpoints.app.v1.AppService";

// The caller's bearer token as it came (already verified by HandleCall), to ask the services
// with.
std::string BearerToken(const grpc::ServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return "";
  const std::string value(it->second.data(), it->second.size());
  constexpr char kBearer[] = "Bearer ";
  return absl::StartsWith(value, kBearer) ? value.substr(sizeof kBearer - 1) : "";
}

}  // namespace

AppServiceImpl::AppServiceImpl(const auth::Authorizer* authorizer, HomeSources* home)
    : authorizer_(authorizer), home_(home) {}

grpc::Status AppServiceImpl::GetMyHome(grpc::ServerContext* ctx, const v1::GetMyHomeRequest* req,
                                       v1::GetMyHomeResponse* resp) {
  return server::HandleCall(
      ctx, *authorizer_, kService, "GetMyHome", [&](const server::Call& call) -> absl::Status {
        absl::StatusOr<v1::GetMyHomeResponse> home =
            home_->Gather(call.principal->subject, BearerToken(*ctx), *req, call.now);
        if (!home.ok()) return home.status();
        *resp = *std::move(home);
        return absl::OkStatus();
      });
}

}  // namespace civicpoints::app
