// Who the caller is, beyond the method's declared roles: riders see less than staff.
#ifndef CIVICPOINTS_SERVICES_REWARDS_ACCESS_H_
#define CIVICPOINTS_SERVICES_REWARDS_ACCESS_H_

#include <algorithm>

#include "civicpoints/rewards/v1/errors.pb.h"
#include "common/auth/principal.h"
#include "common/status/refusal.h"

namespace civicpoints::rewards {

// True when every grant the caller holds (for this method) is ROLE_RIDER: a rider app, not staff.
inline bool IsRiderOnly(const auth::Principal& who) {
  return std::all_of(who.roles.begin(), who.roles.end(),
                     [](const auth::RoleGrant& g) { return g.role == common::v1::ROLE_RIDER; });
}

// auth::CheckStaffCovers, its denial carrying rewards' OUTSIDE_ORG_SCOPE.
inline absl::Status CheckCovers(const auth::Principal& who, const common::v1::OrgPath& path,
                                absl::string_view what) {
  return WithReason(auth::CheckStaffCovers(who, path, what), v1::ERROR_REASON_OUTSIDE_ORG_SCOPE);
}

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_ACCESS_H_
