// The plumbing every ActivityServiceImpl method shares: authorization, transactions,
// idempotency, the relay.
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/auth/method_policy.h"
#include "common/log/log.h"
#include "common/status/grpc_status.h"
#include "services/activity/activity_service.h"
#include "services/activity/award_relay.h"
#include "services/activity/directory.h"

namespace civicpoints::activity {
namespace {

std::string Metadata(const grpc::ServerContext& ctx, const char* key) {
  auto it = ctx.client_metadata().find(key);
  if (it == ctx.client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

ActivityServiceImpl::ActivityServiceImpl(pg::PgPool* pool, const auth::Authorizer* authorizer,
                                         Directory* directory, AwardRelay* relay,
                                         absl::Duration min_start_lead)
    : pool_(pool),
      authorizer_(authorizer),
      directory_(directory),
      relay_(relay),
      min_start_lead_(min_start_lead) {}

grpc::Status ActivityServiceImpl::Handle(grpc::ServerContext* ctx, const char* method,
                                         const Body& body) {
  log::ScopedRequestId scope(Metadata(*ctx, "x-request-id"));
  absl::StatusOr<std::optional<auth::Principal>> who = authorizer_->Authorize(
      *ctx, absl::StrCat("/", v1::ActivityService::service_full_name(), "/", method));
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (!who->has_value()) return ToGrpcStatus(absl::UnauthenticatedError("sign in first"));
  Caller caller;
  caller.principal = &**who;
  caller.now = absl::Now();
  return ToGrpcStatus(body(caller));
}

absl::Status ActivityServiceImpl::InTx(absl::string_view what, const pg::TxBody& body) {
  return pg::InTx(*pool_, what, body);
}

absl::Status ActivityServiceImpl::InReadTx(absl::string_view what, const pg::TxBody& body) {
  return pg::InReadTx(*pool_, what, body);
}

absl::Status ActivityServiceImpl::Idempotent(const Caller& caller, absl::string_view method,
                                             const std::string& key,
                                             const google::protobuf::Message& request,
                                             google::protobuf::Message* response,
                                             const pg::TxBody& body) {
  // Keys are per caller: two riders choosing the same key never see each other's answers.
  return pg::RunIdempotent(*pool_, absl::StrCat(method, ":", caller.id()), key,
                           RequestHash(request), response, body);
}

void ActivityServiceImpl::NudgeRelay() {
  if (relay_ != nullptr) relay_->Nudge();
}

}  // namespace civicpoints::activity
