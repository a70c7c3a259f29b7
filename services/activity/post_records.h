// Rows of `posts`, `post_claims` and `duty_shifts` as the post and shift methods read them, and
// their protos.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_POST_RECORDS_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_POST_RECORDS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "civicpoints/activity/v1/post.pb.h"
#include "common/auth/principal.h"
#include "services/activity/directory.h"

namespace pqxx {
class transaction_base;
class row;
}  // namespace pqxx

namespace civicpoints::activity {

// Loads a post (FOR UPDATE when `lock`). Errors: INVALID_ARGUMENT when `id` is empty; NOT_FOUND
// naming it.
absl::StatusOr<v1::Post> LoadPost(pqxx::transaction_base& tx, const std::string& id, bool lock);

// The SELECT list and FROM clause of posts (alias p), and the filler.
extern const char kPostSelect[];
void FillPost(const pqxx::row& row, v1::Post* out);

// Claims (alias c, joined with posts p for the kind and path).
extern const char kClaimSelect[];
void FillClaim(const pqxx::row& row, v1::PostClaim* out);
// The claim `claim_id` on `post_id` (FOR UPDATE OF c when `lock`), if any.
std::optional<v1::PostClaim> LoadClaim(pqxx::transaction_base& tx, const std::string& post_id,
                                       const std::string& claim_id, bool lock);

// Shifts (alias s, joined with posts p); fills the award of a confirmed shift.
extern const char kShiftSelect[];
void FillShift(pqxx::transaction_base& tx, const pqxx::row& row, bool for_staff,
               v1::DutyShift* out);
// The shift `shift_id` on `post_id` (FOR UPDATE OF s when `lock`), if any.
std::optional<v1::DutyShift> LoadShift(pqxx::transaction_base& tx, const std::string& post_id,
                                       const std::string& shift_id, bool lock, bool for_staff);

// The org nodes a staff caller's grants cover, for list filters: nullopt when the caller covers
// the whole city (a grant at the root, or an internal service), else the granted node ids.
std::optional<std::vector<std::string>> ScopeNodes(const auth::Principal& who);

// "p.district_id" / "p.street_id" / "p.community_id" for a node of `level`; nullptr for the city.
const char* PostLevelColumn(common::v1::OrgLevel level);

struct Caller;

// Listings of claims and of shifts (ListPostClaims, ListDutyShifts) look at one post, or with
// post_id "-" at the posts of an org node's subtree or of a rider. Before the listing's
// transaction: the node named by `org_id` when post_id is "-" (a staff caller must cover it).
absl::StatusOr<std::optional<OrgInfo>> PostListingOrg(Directory& directory, const Caller& caller,
                                                      bool any_post, const std::string& org_id);

// Inside it: the SQL condition on $1 (over posts p and `post_column`, e.g. "c.post_id") with
// $1's value, and the staff caller's scope nodes when they list by rider alone (nullopt: no scope
// filter). One post is loaded, and a staff caller must cover it (NOT_FOUND, PERMISSION_DENIED).
struct PostListingFilter {
  std::string where;
  std::string first_param;
  std::optional<std::vector<std::string>> scope;
};
absl::StatusOr<PostListingFilter> PostListingWhere(pqxx::transaction_base& tx, const Caller& caller,
                                                   const std::string& post_id,
                                                   const std::optional<OrgInfo>& org,
                                                   const char* post_column);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_POST_RECORDS_H_
