// Who may call a method, read from the `civicpoints.options.v1.access` option declared on it in
// the .proto files (through the linked descriptor pool), and the check of a caller against it.
// Deny by default: a method without a declared policy is refused.
//
//   Authorizer authz(verifier);
//   ASSIGN_OR_RETURN(std::optional<Principal> who,
//                    authz.Authorize(*context, "/civicpoints.ledger.v1.LedgerService/Award"));
#ifndef CIVICPOINTS_COMMON_AUTH_METHOD_POLICY_H_
#define CIVICPOINTS_COMMON_AUTH_METHOD_POLICY_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/jwt.h"
#include "common/auth/principal.h"
#include "common/auth/revocations.h"

namespace grpc {
class ServerContext;
}

namespace civicpoints::auth {

struct MethodPolicy {
  std::string method;  // "civicpoints.ledger.v1.LedgerService.Award"
  bool is_public = false;
  bool any_authenticated = false;
  std::vector<Role> roles;
  std::vector<std::string> scopes;
  // From the standard idempotency_level option: reads and keyed mutations are safe to retry.
  bool retry_safe = false;
  // Only the suite's own services call it, on the internal network; the gateway never forwards it.
  bool internal = false;
};

// Looks up the policy of a method by "/pkg.Service/Method" or "pkg.Service.Method". Errors:
// NOT_FOUND for an unknown method; PERMISSION_DENIED when it declares no access policy or a
// contradictory one (public together with roles; internal with any role but ROLE_INTERNAL_SERVICE
// or with a REST route).
absl::StatusOr<MethodPolicy> PolicyFor(absl::string_view method);

// Checks a caller (nullptr: no credentials) against a policy. Errors: UNAUTHENTICATED when the
// method needs credentials and there are none; PERMISSION_DENIED when the principal lacks every
// allowed role, or is a city system without one of the allowed scopes.
absl::Status CheckPolicy(const MethodPolicy& policy, const Principal* principal);

// Verifies the call's bearer token (if any) and checks it against the method's policy.
class Authorizer {
 public:
  // `revocations` (optional) is consulted after a token verifies: a revoked token is refused.
  explicit Authorizer(std::shared_ptr<const TokenVerifier> verifier,
                      std::shared_ptr<const RevocationChecker> revocations = nullptr)
      : verifier_(std::move(verifier)), revocations_(std::move(revocations)) {}

  // Returns the principal, or nullopt for a public method called without credentials. A token
  // that is present is always verified, even on public methods. For a method that declares roles,
  // the principal keeps only the grants of those roles, so a handler's org-scope check uses a
  // grant that also gives the role. Errors as PolicyFor, CheckPolicy and TokenVerifier::Verify,
  // and UNAUTHENTICATED for a token identity has revoked;
  // DEADLINE_EXCEEDED when the caller's deadline has already passed (the call waited too long).
  absl::StatusOr<std::optional<Principal>> Authorize(const grpc::ServerContext& context,
                                                     absl::string_view method) const;

  // As above, with the authorization metadata value given directly ("Bearer <jwt>" or empty).
  absl::StatusOr<std::optional<Principal>> AuthorizeHeader(absl::string_view authorization,
                                                           absl::string_view method,
                                                           absl::Time now) const;

  // As above, with the method's policy already looked up (the gateway keeps one per route).
  absl::StatusOr<std::optional<Principal>> AuthorizeHeader(absl::string_view authorization,
                                                           const MethodPolicy& policy,
                                                           absl::Time now) const;

  // What it consults for revoked tokens (null: none), for work done later on a caller's
  // authority, e.g. the event feed's webhooks.
  const RevocationChecker* revocations() const { return revocations_.get(); }

 private:
  std::shared_ptr<const TokenVerifier> verifier_;
  std::shared_ptr<const RevocationChecker> revocations_;
};

}  // namespace civicpoints::auth

#endif  // CIVICPOINTS_COMMON_AUTH_METHOD_POLICY_H_
