#include "services/app/app_service.h"

#include <string>

#include "absl/strings/match.h"
#include "common/auth/principal.h"
#include "common/labels/label_catalogue.h"
#include "common/server/call_handler.h"
#include "services/app/labels_answer.h"

namespace civicpoints::app {
namespace {

constexpr char kService[] = "civicpoints.app.v1.AppService";

// The caller's bearer token as it came (already verified by HandleCall), to ask the services
// with.
std::string BearerToken(const grpc::ServerContext& ctx) {
  const std::string value = server::ClientMetadata(ctx, "authorization");
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

grpc::Status AppServiceImpl::ListLabels(grpc::ServerContext* ctx, const v1::ListLabelsRequest* req,
                                        v1::ListLabelsResponse* resp) {
  return server::HandleCall(
      ctx, *authorizer_, kService, "ListLabels",
      [&](const server::Call&) -> absl::Status {
        // The gateway passes the caller's Accept-Language on as this metadata.
        absl::StatusOr<v1::ListLabelsResponse> answer =
            LabelsAnswer(labels::LabelCatalogue::Builtin(), *req,
                         server::ClientMetadata(*ctx, "accept-language"));
        if (!answer.ok()) return answer.status();
        *resp = *std::move(answer);
        return absl::OkStatus();
      },
      server::Anonymous::kAllowed);
}

}  // namespace civicpoints::app
