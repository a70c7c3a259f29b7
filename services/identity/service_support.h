// Helpers shared by the identity service's method files: org scope checks, page tokens and list
// sizes.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_SERVICE_SUPPORT_H_
#define CIVICPOINTS_SERVICES_IDENTITY_SERVICE_SUPPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/principal.h"
#include "google/protobuf/message.h"
#include "services/identity/records.h"

namespace civicpoints::identity {

// Whether a grant's node is `org` or one of its ancestors (the city root covers everything).
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

// Page sizes: default 20, at most 100 (larger is clamped); negative is INVALID_ARGUMENT.
absl::StatusOr<int> PageSize(int32_t requested);

// A tag of a list request's filters (the request with its page fields cleared), so a page token
// is refused with other filters.
std::string FilterTag(const google::protobuf::Message& request_without_paging);

// Opaque page tokens carrying the keyset position (the last row's sort keys).
std::string EncodePageToken(const std::string& filter_tag, const std::vector<std::string>& keys);
// Errors: INVALID_ARGUMENT naming page_token when it is malformed, has a different number of keys
// or was made for other filters. An empty token yields an empty vector.
absl::StatusOr<std::vector<std::string>> DecodePageToken(const std::string& token,
                                                         const std::string& filter_tag,
                                                         size_t key_count);

// The first key of a decoded page token as an integer (0 when absent or not a number, which
// restarts the list rather than failing it).
int64_t PageKeyInt(const std::vector<std::string>& keys);

// A message's deterministic serialisation (map order fixed), for hashing.
std::string DeterministicBytes(const google::protobuf::Message& message);

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_SERVICE_SUPPORT_H_
