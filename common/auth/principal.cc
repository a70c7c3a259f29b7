#include "common/auth/principal.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace civicpoints::auth {

bool Principal::HasRole(Role role) const {
  return std::any_of(roles.begin(), roles.end(),
                     [role](const RoleGrant& g) { return g.role == role; });
}

bool Principal::HasScope(absl::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

bool GrantCovers(const RoleGrant& grant, const common::v1::OrgPath& path) {
  const std::string& node = grant.org_id;
  // A grant that names no node is a faulty or forged claim, not a city-wide one.
  if (node.empty()) return false;
  if (node == "city" || node == "root") return true;
  return node == path.district_id() || node == path.street_id() || node == path.community_id();
}

absl::Status CheckStaffCovers(const Principal& principal, const common::v1::OrgPath& path,
                              absl::string_view what) {
  for (const RoleGrant& g : principal.roles) {
    if (g.role == common::v1::ROLE_INTERNAL_SERVICE) return absl::OkStatus();
    // A city system's grant is at its account's node, like a staff grant: its key reaches that
    // subtree only, as in identity and activity.
    if (g.role != common::v1::ROLE_RIDER && GrantCovers(g, path)) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat(what, " is outside the org nodes the caller's roles cover"));
}

bool ParseRoleName(absl::string_view name, Role* role) {
  Role parsed;
  if (!::civicpoints::common::v1::Role_Parse(std::string(name), &parsed) ||
      parsed == ::civicpoints::common::v1::ROLE_UNSPECIFIED) {
    return false;
  }
  *role = parsed;
  return true;
}

std::string RoleName(Role role) { return ::civicpoints::common::v1::Role_Name(role); }

}  // namespace civicpoints::auth
