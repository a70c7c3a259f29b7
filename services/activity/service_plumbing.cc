// The plumbing every ActivityServiceImpl method shares: authorization, transactions,
// idempotency, the relay.
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/auth/method_policy.h"
#include "common/base/request_hash.h"
#include "common/server/call_handler.h"
#include "services/activity/activity_service.h"
#include "services/activity/award_relay.h"
#include "services/activity/directory.h"
#include "services/activity/place_index.h"

namespace civicpoints::activity {

ActivityServiceImpl::ActivityServiceImpl(pg::PgPool* pool, const auth::Authorizer* authorizer,
                                         Directory* directory, AwardRelay* relay,
                                         absl::Duration min_start_lead)
    : pool_(pool),
      throttle_(pool,
                [](int64_t seconds) {
                  return Refuse(absl::StatusCode::kResourceExhausted,
                                v1::ACTIVITY_ERROR_REASON_TOO_MANY_CODE_ATTEMPTS,
                                absl::StrCat("too many wrong codes; try again in ", seconds,
                                             " seconds or ask the staff to check you in"));
                }),
      place_index_(std::make_unique<PlaceIndex>(pool)),
      authorizer_(authorizer),
      directory_(directory),
      relay_(relay),
      min_start_lead_(min_start_lead) {}

grpc::Status ActivityServiceImpl::Handle(grpc::ServerContext* ctx, const char* method,
                                         const Body& body) {
  return server::HandleCall(ctx, *authorizer_, v1::ActivityService::service_full_name(), method,
                            [&](const server::Call& call) {
                              return body(Caller{.principal = call.principal, .now = call.now});
                            });
}

ActivityServiceImpl::~ActivityServiceImpl() = default;

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
                           RequestHash(request), response, body,
                           pg::KeyReused(v1::ACTIVITY_ERROR_REASON_IDEMPOTENCY_KEY_REUSED));
}

void ActivityServiceImpl::NudgeRelay() {
  if (relay_ != nullptr) relay_->Nudge();
}

}  // namespace civicpoints::activity
