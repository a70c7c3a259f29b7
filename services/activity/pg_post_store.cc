#include "services/activity/pg_post_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/base/time_units.h"
#include "services/activity/post_records.h"

namespace civicpoints::activity {

using times::Us;

void PgPostStore::Insert(pqxx::transaction_base& tx, const v1::Post& p,
                         const common::v1::OrgPath& path, const std::string& creator_id,
                         absl::Time now) const {
  tx.exec_params(
      "INSERT INTO posts (post_id, kind, title, description, community_id, "
      "street_id, district_id, seats_total, status, created_by, created_at, "
      "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, post_status('OPEN'), $9, "
      "from_us($10::bigint), from_us($10::bigint))",
      p.post_id(), static_cast<int>(p.kind()), p.title(), p.description(), path.community_id(),
      path.street_id(), path.district_id(), p.seats_total(), creator_id, Us(now));
}

void PgPostStore::Update(pqxx::transaction_base& tx, const v1::Post& p, absl::Time now) const {
  tx.exec_params(
      "UPDATE posts SET title = $2, description = $3, seats_total = $4, "
      "version = version + 1, updated_at = from_us($5::bigint) WHERE post_id = $1",
      p.post_id(), p.title(), p.description(), p.seats_total(), Us(now));
}

void PgPostStore::Close(pqxx::transaction_base& tx, const std::string& post_id,
                        const std::string& staff_id, absl::Time now) const {
  pqxx::result rejected = tx.exec_params(
      "UPDATE post_claims SET status = post_claim_status('REJECTED'), reason = 'post closed', "
      "decided_by = $2, decided_at = from_us($3::bigint) WHERE post_id = $1 AND status = "
      "post_claim_status('PENDING') RETURNING claim_id",
      post_id, staff_id, Us(now));
  tx.exec_params(
      "UPDATE posts SET status = post_status('CLOSED'), seats_taken = seats_taken - $2, "
      "version = version + 1, updated_at = from_us($3::bigint) WHERE post_id = $1",
      post_id, static_cast<int>(rejected.size()), Us(now));
}

std::optional<LiveClaim> PgPostStore::LiveClaimOf(pqxx::transaction_base& tx,
                                                  const std::string& post_id,
                                                  const std::string& rider_id,
                                                  bool share_lock) const {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT claim_id, status FROM post_claims WHERE post_id = $1 AND rider_id = $2 "
                   "AND status IN (post_claim_status('PENDING'), post_claim_status('APPROVED'))",
                   share_lock ? " FOR SHARE" : ""),
      post_id, rider_id);
  if (r.empty()) return std::nullopt;
  return LiveClaim{r[0][0].as<std::string>(), static_cast<v1::PostClaimStatus>(r[0][1].as<int>())};
}

std::optional<v1::PostClaim> PgPostStore::LatestClaimOf(pqxx::transaction_base& tx,
                                                        const std::string& post_id,
                                                        const std::string& rider_id) const {
  pqxx::result r =
      tx.exec_params(absl::StrCat(kClaimSelect,
                                  " WHERE c.post_id = $1 AND c.rider_id = $2 "
                                  "ORDER BY c.created_at DESC, c.claim_id DESC LIMIT 1"),
                     post_id, rider_id);
  if (r.empty()) return std::nullopt;
  v1::PostClaim claim;
  FillClaim(r[0], &claim);
  return claim;
}

void PgPostStore::OpenClaim(pqxx::transaction_base& tx, const std::string& claim_id,
                            const std::string& post_id, const std::string& rider_id,
                            const std::string& note, absl::Time now) const {
  tx.exec_params(
      "INSERT INTO post_claims (claim_id, post_id, rider_id, status, note, created_at) "
      "VALUES ($1, $2, $3, post_claim_status('PENDING'), $4, from_us($5::bigint))",
      claim_id, post_id, rider_id, note, Us(now));
  tx.exec_params(
      "UPDATE posts SET seats_taken = seats_taken + 1, updated_at = from_us($2::bigint) "
      "WHERE post_id = $1",
      post_id, Us(now));
}

void PgPostStore::DecideClaim(pqxx::transaction_base& tx, const std::string& post_id,
                              const std::string& claim_id, v1::PostClaimStatus status,
                              const std::string& reason, const std::string& decided_by,
                              absl::Time now) const {
  // An approval keeps the reason column as it was (empty).
  tx.exec_params(
      "UPDATE post_claims SET status = $2::smallint, "
      "reason = CASE WHEN $3 = '' THEN reason ELSE $3 END, decided_by = $4, "
      "decided_at = from_us($5::bigint) WHERE claim_id = $1",
      claim_id, static_cast<int>(status), reason, decided_by, Us(now));
  if (status == v1::POST_CLAIM_STATUS_REJECTED || status == v1::POST_CLAIM_STATUS_WITHDRAWN) {
    tx.exec_params(
        "UPDATE posts SET seats_taken = seats_taken - 1, updated_at = from_us($2::bigint) "
        "WHERE post_id = $1",
        post_id, Us(now));
  }
}

}  // namespace civicpoints::activity
