#include "common/auth/principal.h"

#include <algorithm>

namespace civicpoints::auth {

bool Principal::HasRole(Role role) const {
  return std::any_of(roles.begin(), roles.end(),
                     [role](const RoleGrant& g) { return g.role == role; });
}

bool Principal::HasScope(absl::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
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
