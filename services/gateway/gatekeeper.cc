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

void Gatekeeper::Admit(const Route& route, const Credentials& credentials, absl::Time now,
                       AdmitDone done) {
  Admission admission;
  if (route.method->client_streaming()) {
    admission.status =
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                     absl::StrCat(route.grpc_path,
                                  " streams from the caller, which the gateway does not forward"));
    done(std::move(admission));
    return;
  }
  if (!route.policy_status.ok()) {
    admission.status = ToGrpcStatus(route.policy_status);
    done(std::move(admission));
    return;
  }
  // Whatever the credential: a leaked service key must not mint points from outside.
  if (route.policy.internal) {
    admission.status = grpc::Status(
        grpc::StatusCode::PERMISSION_DENIED,
        absl::StrCat(route.grpc_path,
                     " is internal to the suite's services; the gateway does not forward it"));
    done(std::move(admission));
    return;
  }
  std::string address(credentials.client_address);
  if (!credentials.authorization.empty() || credentials.api_key.empty()) {
    Verify(route, std::string(credentials.authorization), std::move(address), now, std::move(done));
    return;
  }
  if (std::optional<std::string> token = exchanger_->Cached(credentials.api_key, now)) {
    Verify(route, absl::StrCat("Bearer ", *token), std::move(address), now, std::move(done));
    return;
  }
  // An exchange costs identity a call: unknown keys count against the caller's address.
  if (std::optional<absl::Duration> wait = per_address_.Take(absl::StrCat("a:", address), now)) {
    admission.status = Throttled(wait, admission);
    done(std::move(admission));
    return;
  }
  exchanger_->TokenFor(credentials.api_key, now,
                       [this, &route, address = std::move(address), now,
                        done = std::move(done)](absl::StatusOr<std::string> token) mutable {
                         if (!token.ok()) {
                           Admission refused;
                           refused.status = ToGrpcStatus(token.status());
                           done(std::move(refused));
                           return;
                         }
                         Verify(route, absl::StrCat("Bearer ", *token), std::move(address), now,
                                std::move(done));
                       });
}

void Gatekeeper::Verify(const Route& route, std::string authorization, std::string client_address,
                        absl::Time now, AdmitDone done) {
  absl::StatusOr<std::optional<auth::Principal>> principal =
      authorizer_->AuthorizeHeader(authorization, route.policy, now);
  if (!principal.ok() && keys_ != nullptr && !authorization.empty() &&
      !keys_->KnowsKidOf(authorization)) {
    // A kid not seen yet (identity rotated its keys): decide once identity's keys are fetched
    // again, or at once when they were fetched moments ago.
    keys_->AfterRefresh([this, &route, authorization = std::move(authorization),
                         client_address = std::move(client_address), now,
                         done = std::move(done)]() mutable {
      absl::StatusOr<std::optional<auth::Principal>> again =
          authorizer_->AuthorizeHeader(authorization, route.policy, now);
      done(Decide(std::move(authorization), client_address, now, std::move(again)));
    });
    return;
  }
  done(Decide(std::move(authorization), client_address, now, std::move(principal)));
}

Admission Gatekeeper::Decide(std::string authorization, absl::string_view client_address,
                             absl::Time now,
                             absl::StatusOr<std::optional<auth::Principal>> principal) {
  Admission admission;
  admission.authorization = std::move(authorization);
  if (principal.ok() && principal->has_value()) admission.principal = (*principal)->subject;
  // Limits apply before the policy's answer too, so refusals cannot be probed at full speed.
  const std::string key = admission.principal.empty() ? absl::StrCat("a:", client_address)
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
