// Principal: who is calling, as proven by a verified access token. Handlers receive one from
// Authorizer (method_policy.h) and use its role grants to check org scope on the resource.
#ifndef CIVICPOINTS_COMMON_AUTH_PRINCIPAL_H_
#define CIVICPOINTS_COMMON_AUTH_PRINCIPAL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civicpoints/common/v1/role.pb.h"
#include "civicpoints/common/v1/types.pb.h"

namespace civicpoints::auth {

using Role = ::civicpoints::common::v1::Role;

// A role held at an org node; it covers the node's subtree. `org_id` may be empty only for an
// internal service, whose access does not depend on a node; any other grant without one covers
// nothing.
struct RoleGrant {
  Role role = ::civicpoints::common::v1::ROLE_UNSPECIFIED;
  std::string org_id;
  // Optional, carried in tokens identity signs: the node's level and its ancestors' ids (root
  // first), so a verifier can tell a grant covers a node it only knows by id.
  ::civicpoints::common::v1::OrgLevel org_level = ::civicpoints::common::v1::ORG_LEVEL_UNSPECIFIED;
  std::vector<std::string> org_ancestors;

  friend bool operator==(const RoleGrant& a, const RoleGrant& b) {
    return a.role == b.role && a.org_id == b.org_id;
  }
};

struct Principal {
  std::string subject;   // person id, service-account id or internal service name ("sub")
  std::string token_id;  // "jti", for revocation lists and logs
  std::string key_id;    // "kid" of the key that signed the token (set by the verifier)
  std::vector<RoleGrant> roles;
  std::vector<std::string> scopes;  // API-key scopes of a city system
  std::string session_id;           // "sid": the sign-in session (empty for API-key tokens)
  std::string kind;                 // "kind": "human" or "service_account" (empty: not said)
  std::string display_name;         // "name"
  // "pcr": the person signed in with an initial or reset password and may only change it (and
  // look at themself or sign out) until they do.
  bool password_change_required = false;
  absl::Time issued_at;
  absl::Time expires_at;

  // True when any grant has `role`, at any node.
  bool HasRole(Role role) const;
  // True when the principal carries `scope`.
  bool HasScope(absl::string_view scope) const;
};

// Whether a grant covers a place in the org tree: a grant at a node covers that node's subtree, so
// it covers `path` when its node is the path's district, street or community. A grant at the city
// root ("city" or "root") covers everything; a grant with no node covers nothing.
bool GrantCovers(const RoleGrant& grant, const common::v1::OrgPath& path);

// Org scope for staff and city systems: OK when the principal is an internal service, or holds a
// grant of a role other than ROLE_RIDER that covers `path` (a city system's grant is at its
// account's node, so its key is confined to that subtree). Errors: PERMISSION_DENIED naming what
// is out of reach.
absl::Status CheckStaffCovers(const Principal& principal, const common::v1::OrgPath& path,
                              absl::string_view what);

// "ROLE_RIDER" ↔ Role, the spelling used in token claims. Returns false for an unknown name.
bool ParseRoleName(absl::string_view name, Role* role);
std::string RoleName(Role role);

}  // namespace civicpoints::auth

#endif  // CIVICPOINTS_COMMON_AUTH_PRINCIPAL_H_
