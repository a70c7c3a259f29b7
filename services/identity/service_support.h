// Helpers shared by the identity service's method files: org scope checks, page tokens and list
// sizes.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_SERVICE_SUPPORT_H_
#define CIVICPOINTS_SERVICES_IDENTITY_SERVICE_SUPPORT_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/principal.h"
#include "common/pg/paging.h"
#include "google/protobuf/message.h"
#include "services/identity/records.h"

namespace civicpoints::identity {

// Whether a grant's node is `org` or one of its ancestors (the city root covers everything; a
// grant without a node covers nothing).
bool GrantCoversOrg(const auth::RoleGrant& grant, const OrgRow& org);

// OK when the caller may act on `org`: an internal service always; a city system or staff member
// (any role but rider) when one of their grants covers it. Errors: PERMISSION_DENIED naming `what`.
absl::Status CheckCoversOrg(const auth::Principal& who, const OrgRow& org, absl::string_view what);

// As CheckCoversOrg, counting only grants of the given roles.
bool CoversOrgWithRole(const auth::Principal& who, const OrgRow& org,
                       std::initializer_list<auth::Role> roles);

// True when the caller is a district admin at the city root.
bool IsRootAdmin(const auth::Principal& who);
bool IsCitySystem(const auth::Principal& who);
bool IsInternalService(const auth::Principal& who);

// Paging, shared with the other services (common/pg/paging.h).
using pg::DecodePageToken;
using pg::DeterministicBytes;
using pg::EncodePageToken;
using pg::FillPage;
using pg::FilterTag;
using pg::PageKeyInt;
using pg::PageSize;
using pg::Paging;
using pg::StartPaging;

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_SERVICE_SUPPORT_H_
