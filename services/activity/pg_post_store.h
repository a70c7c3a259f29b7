// PgPostStore: the SQL that writes governance posts and their claims (opening, editing, closing a
// post; a rider's claim on a seat and staff deciding it); reading a post or claim back is
// post_records.h's. Every method runs inside the caller's transaction, under the post's row lock
// where seats change, so the rules (post_rules.h, review_rules.h) decide between a read and a
// write of one transaction. Stateless and thread-safe; a database error is thrown as pqxx's
// exception, which the transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_PG_POST_STORE_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_PG_POST_STORE_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "civicpoints/activity/v1/post.pb.h"
#include "civicpoints/common/v1/types.pb.h"
#include "services/activity/post_rules.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::activity {

class PgPostStore {
 public:
  // A new open post `post` (id, kind, title, description, seats set) in the community at `path`.
  void Insert(pqxx::transaction_base& tx, const v1::Post& post, const common::v1::OrgPath& path,
              const std::string& creator_id, absl::Time now) const;
  // Rewrites the post's title, description and seats (a new version).
  void Update(pqxx::transaction_base& tx, const v1::Post& post, absl::Time now) const;
  // Closes the post: its pending claims are turned down (their seats freed); approved riders keep
  // theirs until withdrawn.
  void Close(pqxx::transaction_base& tx, const std::string& post_id, const std::string& staff_id,
             absl::Time now) const;

  // The rider's live claim on the post, share-locked when `share_lock` (a withdrawal then waits
  // for the caller's transaction); nullopt when none.
  std::optional<LiveClaim> LiveClaimOf(pqxx::transaction_base& tx, const std::string& post_id,
                                       const std::string& rider_id, bool share_lock) const;
  // The rider's latest claim on the post, whatever its state.
  std::optional<v1::PostClaim> LatestClaimOf(pqxx::transaction_base& tx, const std::string& post_id,
                                             const std::string& rider_id) const;
  // A pending claim taking a seat.
  void OpenClaim(pqxx::transaction_base& tx, const std::string& claim_id,
                 const std::string& post_id, const std::string& rider_id, const std::string& note,
                 absl::Time now) const;
  // Moves the claim to `status` (approved, rejected, withdrawn) by `decided_by` ("" for the rider
  // themself) with `reason`; a rejection or withdrawal frees its seat on `post_id`.
  void DecideClaim(pqxx::transaction_base& tx, const std::string& post_id,
                   const std::string& claim_id, v1::PostClaimStatus status,
                   const std::string& reason, const std::string& decided_by, absl::Time now) const;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_PG_POST_STORE_H_
