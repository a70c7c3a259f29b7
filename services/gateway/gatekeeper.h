// Gatekeeper: what the gateway decides before forwarding a call, the same for both faces —
// which credential goes on (a bearer token as it came, or the token an API key was exchanged
// for), whether the route's declared policy lets the caller in, and whether the caller is within
// its rate limit (per principal; per client address when there is none). Admission never blocks
// the calling thread: what needs identity (an API key's exchange, the keys of a token whose kid
// is not known yet) is asked asynchronously and the decision arrives by callback. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_GATEWAY_GATEKEEPER_H_
#define CIVICPOINTS_SERVICES_GATEWAY_GATEKEEPER_H_

#include <grpcpp/support/status.h>

#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "services/gateway/api_key_exchanger.h"
#include "services/gateway/rate_limiter.h"
#include "services/gateway/route_table.h"
#include "services/gateway/token_keys.h"

namespace civicpoints::auth {
class Authorizer;
}

namespace civicpoints::gateway {

struct Credentials {
  absl::string_view authorization;   // "Bearer <jwt>" or empty
  absl::string_view api_key;         // "cpk_..." or empty
  absl::string_view client_address;  // the caller's IP address
};

struct Admission {
  grpc::Status status;        // OK: forward; else answer with it
  std::string authorization;  // what to forward ("Bearer ..." or empty)
  std::string principal;      // the caller's subject, for the access log ("" if none)
  std::optional<absl::Duration> retry_after;  // set with RESOURCE_EXHAUSTED from a rate limit
};

using AdmitDone = std::function<void(Admission)>;

class Gatekeeper {
 public:
  // All pointers must outlive the gatekeeper. `keys` (may be null: every key is at hand, as
  // with a static key set) are the keys behind `authorizer`'s verifier.
  Gatekeeper(const auth::Authorizer* authorizer, ApiKeyExchanger* exchanger,
             RateLimit per_principal, RateLimit per_address, TokenKeys* keys = nullptr)
      : authorizer_(authorizer),
        exchanger_(exchanger),
        keys_(keys),
        per_principal_(per_principal),
        per_address_(per_address) {}

  // Decides on one call. Refusals: UNIMPLEMENTED for a method the caller streams to; the route's
  // policy error for a method without a valid declaration (PERMISSION_DENIED); PERMISSION_DENIED
  // for a method marked internal, whatever the credential; UNAUTHENTICATED for a missing, malformed
  // or bad token or API key; PERMISSION_DENIED / FAILED_PRECONDITION as the policy says;
  // RESOURCE_EXHAUSTED with a RetryInfo detail over a rate limit; an API key's exchange errors
  // (UNAVAILABLE while identity is down). `done` runs once: at once, on this thread, when nothing
  // needs identity; else on a gRPC thread once identity has answered. `credentials` need not
  // outlive the call; `route` must.
  void Admit(const Route& route, const Credentials& credentials, absl::Time now, AdmitDone done);

 private:
  grpc::Status Throttled(std::optional<absl::Duration> wait, Admission& admission) const;
  // With the credential to forward settled: verifies it, once more after identity's keys are
  // fetched again when it failed for a kid not known yet, then decides.
  void Verify(const Route& route, std::string authorization, std::string client_address,
              absl::Time now, AdmitDone done);
  // The rate limit and the verdict on a verified (or refused) credential.
  Admission Decide(std::string authorization, absl::string_view client_address, absl::Time now,
                   absl::StatusOr<std::optional<auth::Principal>> principal);

  const auth::Authorizer* authorizer_;
  ApiKeyExchanger* exchanger_;
  TokenKeys* keys_;
  RateLimiter per_principal_;
  RateLimiter per_address_;
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_GATEKEEPER_H_
