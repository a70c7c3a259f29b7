#include "common/auth/method_policy.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/server_context.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "civicpoints/options/v1/options.pb.h"

namespace civicpoints::auth {
namespace {

namespace gp = ::google::protobuf;
namespace opts = ::civicpoints::options::v1;

std::string DottedName(absl::string_view method) {
  absl::ConsumePrefix(&method, "/");
  return absl::StrReplaceAll(method, {{"/", "."}});
}

}  // namespace

absl::StatusOr<MethodPolicy> PolicyFor(absl::string_view method) {
  const std::string name = DottedName(method);
  const gp::MethodDescriptor* desc = gp::DescriptorPool::generated_pool()->FindMethodByName(name);
  if (desc == nullptr) return absl::NotFoundError(absl::StrCat("unknown method ", name));
  const gp::MethodOptions& options = desc->options();
  if (!options.HasExtension(opts::access)) {
    return absl::PermissionDeniedError(
        absl::StrCat("method ", name, " declares no access policy; refused"));
  }
  const opts::Access& access = options.GetExtension(opts::access);
  MethodPolicy policy;
  policy.method = name;
  policy.is_public = access.public_();
  policy.any_authenticated = access.any_authenticated();
  for (int role : access.roles()) policy.roles.push_back(static_cast<Role>(role));
  for (const std::string& scope : access.scopes()) policy.scopes.push_back(scope);
  policy.retry_safe = options.idempotency_level() != gp::MethodOptions::IDEMPOTENCY_UNKNOWN;
  policy.internal = access.internal();
  if (policy.is_public && (!policy.roles.empty() || policy.any_authenticated)) {
    return absl::PermissionDeniedError(
        absl::StrCat("method ", name, " declares a contradictory access policy; refused"));
  }
  // An internal method is for the services' own accounts only, and has no outside face.
  if (policy.internal &&
      (policy.is_public || policy.any_authenticated || options.HasExtension(opts::http) ||
       policy.roles != std::vector<Role>{::civicpoints::common::v1::ROLE_INTERNAL_SERVICE})) {
    return absl::PermissionDeniedError(absl::StrCat(
        "method ", name,
        " is internal but declares a REST route or a role other than ROLE_INTERNAL_SERVICE; "
        "refused"));
  }
  return policy;
}

absl::Status CheckPolicy(const MethodPolicy& policy, const Principal* principal) {
  if (policy.is_public) return absl::OkStatus();
  if (principal == nullptr) {
    return absl::UnauthenticatedError(
        absl::StrCat(policy.method, " needs an access token (authorization: Bearer ...)"));
  }
  if (policy.any_authenticated) {
    // A city system still needs one of the declared scopes, if the method declares any.
    const bool city_system_only =
        !principal->roles.empty() &&
        std::all_of(principal->roles.begin(), principal->roles.end(), [](const RoleGrant& g) {
          return g.role == ::civicpoints::common::v1::ROLE_CITY_SYSTEM;
        });
    if (!city_system_only || policy.scopes.empty()) return absl::OkStatus();
    for (const std::string& scope : policy.scopes) {
      if (principal->HasScope(scope)) return absl::OkStatus();
    }
    return absl::PermissionDeniedError(absl::StrCat(policy.method, " needs an API key with scope ",
                                                    absl::StrJoin(policy.scopes, " or ")));
  }
  for (const RoleGrant& grant : principal->roles) {
    if (std::find(policy.roles.begin(), policy.roles.end(), grant.role) == policy.roles.end()) {
      continue;
    }
    if (grant.role != ::civicpoints::common::v1::ROLE_CITY_SYSTEM || policy.scopes.empty()) {
      return absl::OkStatus();
    }
    for (const std::string& scope : policy.scopes) {
      if (principal->HasScope(scope)) return absl::OkStatus();
    }
    return absl::PermissionDeniedError(absl::StrCat(policy.method, " needs an API key with scope ",
                                                    absl::StrJoin(policy.scopes, " or ")));
  }
  std::vector<std::string> names;
  for (Role r : policy.roles) names.push_back(RoleName(r));
  if (names.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(policy.method, " may not be called by anyone"));
  }
  return absl::PermissionDeniedError(
      absl::StrCat(policy.method, " needs one of the roles ", absl::StrJoin(names, ", ")));
}

namespace {

// What a person whose password must change may still do: change it, see who they are, sign out.
bool AllowedBeforePasswordChange(absl::string_view method) {
  return method == "civicpoints.identity.v1.IdentityService.ChangePassword" ||
         method == "civicpoints.identity.v1.IdentityService.WhoAmI" ||
         method == "civicpoints.identity.v1.IdentityService.LogoutEverywhere";
}

}  // namespace

absl::StatusOr<std::optional<Principal>> Authorizer::AuthorizeHeader(
    absl::string_view authorization, absl::string_view method, absl::Time now) const {
  absl::StatusOr<MethodPolicy> policy = PolicyFor(method);
  if (!policy.ok()) return policy.status();
  return AuthorizeHeader(authorization, *policy, now);
}

absl::StatusOr<std::optional<Principal>> Authorizer::AuthorizeHeader(
    absl::string_view authorization, const MethodPolicy& policy_ref, absl::Time now) const {
  const MethodPolicy* policy = &policy_ref;
  std::optional<Principal> principal;
  if (!authorization.empty()) {
    absl::string_view token = authorization;
    if (!absl::ConsumePrefix(&token, "Bearer ") && !absl::ConsumePrefix(&token, "bearer ")) {
      return absl::UnauthenticatedError("authorization metadata must be 'Bearer <token>'");
    }
    absl::StatusOr<Principal> verified = verifier_->Verify(token, now);
    if (!verified.ok()) return verified.status();
    if (revocations_ != nullptr && revocations_->Revoked(*verified)) {
      return absl::UnauthenticatedError(
          "access token revoked (signed out, suspended, or a role or API key revoked): sign in "
          "or refresh the token again");
    }
    principal = *std::move(verified);
  }
  if (absl::Status s = CheckPolicy(*policy, principal ? &*principal : nullptr); !s.ok()) return s;
  // Org scope is checked with the grants that give the method's roles only: a district admin of one
  // district who is a merchant in another may not act as an admin in the other.
  if (principal && !policy->roles.empty()) {
    std::erase_if(principal->roles, [&](const RoleGrant& g) {
      return std::find(policy->roles.begin(), policy->roles.end(), g.role) == policy->roles.end();
    });
  }
  // Public methods (refresh, logout) take their own credential; a token sent along is not needed.
  if (principal && principal->password_change_required && !policy->is_public &&
      !AllowedBeforePasswordChange(policy->method)) {
    return absl::FailedPreconditionError(
        "the password is an initial or reset one: change it (IdentityService.ChangePassword) "
        "before anything else");
  }
  return principal;
}

absl::StatusOr<std::optional<Principal>> Authorizer::Authorize(const grpc::ServerContext& context,
                                                               absl::string_view method) const {
  // A call that waited for a thread past its caller's deadline is not started: nobody is there to
  // take the answer, and its work would only delay the calls that still have one.
  if (context.deadline() < std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError(
        absl::StrCat(DottedName(method), ": the caller's deadline passed before the call started"));
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  absl::string_view header;
  if (it != metadata.end()) header = absl::string_view(it->second.data(), it->second.size());
  return AuthorizeHeader(header, method, absl::Now());
}

}  // namespace civicpoints::auth
