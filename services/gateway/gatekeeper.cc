#include "services/gateway/gatekeeper.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/auth/method_policy.h"
#include "common/status/grpc_status.h"

namespace civicpoints::gateway {

grpc::Status Gatekeeper::Throttled(std::optional<absl::Duration> wait, Admission& admission) const {
  admission.retry_after = absl::Ceil(*wait, absl::Seconds(1));
  return ToGrpcStatus(WithRetryDelay(
      absl::ResourceExhaustedError(absl::StrFormat("too many requests; retry after %d s",
                                                   absl::ToInt64Seconds(*admission.retry_after))),
      *admission.retry_after));
}

Admission Gatekeeper::Admit(const Route& route, const Credentials& credentials, absl::Time now) {
  Admission admission;
  if (route.streaming) {
    admission.status =
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED, absl::StrCat(route.grpc_path,
                                                                   " is a streaming method, which "
                                                                   "the gateway does not forward"));
    return admission;
  }
  if (!route.policy_status.ok()) {
    admission.status = ToGrpcStatus(route.policy_status);
    return admission;
  }
  // Whatever the credential: a leaked service key must not mint points from outside.
  if (route.policy.internal) {
    admission.status = grpc::Status(
        grpc::StatusCode::PERMISSION_DENIED,
        absl::StrCat(route.grpc_path,
                     " is internal to the suite's services; the gateway does not forward it"));
    return admission;
  }
  if (!credentials.authorization.empty()) {
    admission.authorization = std::string(credentials.authorization);
  } else if (!credentials.api_key.empty()) {
    std::optional<std::string> token = exchanger_->Cached(credentials.api_key, now);
    if (!token) {
      // An exchange costs identity a call: unknown keys count against the caller's address.
      const std::string key = absl::StrCat("a:", credentials.client_address);
      if (std::optional<absl::Duration> wait = per_address_.Take(key, now)) {
        admission.status = Throttled(wait, admission);
        return admission;
      }
      absl::StatusOr<std::string> exchanged = exchanger_->TokenFor(credentials.api_key, now);
      if (!exchanged.ok()) {
        admission.status = ToGrpcStatus(exchanged.status());
        return admission;
      }
      token = *std::move(exchanged);
    }
    admission.authorization = absl::StrCat("Bearer ", *token);
  }
  absl::StatusOr<std::optional<auth::Principal>> principal =
      authorizer_->AuthorizeHeader(admission.authorization, route.policy, now);
  if (principal.ok() && principal->has_value()) admission.principal = (*principal)->subject;
  // Limits apply before the policy's answer too, so refusals cannot be probed at full speed.
  const std::string key = admission.principal.empty()
                              ? absl::StrCat("a:", credentials.client_address)
                              : absl::StrCat("p:", admission.principal);
  RateLimiter& limiter = admission.principal.empty() ? per_address_ : per_principal_;
  if (std::optional<absl::Duration> wait = limiter.Take(key, now)) {
    admission.status = Throttled(wait, admission);
    return admission;
  }
  if (!principal.ok()) admission.status = ToGrpcStatus(principal.status());
  return admission;
}

}  // namespace civicpoints::gateway
