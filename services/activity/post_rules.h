// Governance posts' seats as pure rules: who may claim one, how far seats may shrink, what a
// withdrawal does. Staff approving or rejecting a claim is review_rules.h's DecideReview. No
// storage: post_methods.cc reads the post and claim under the post's row lock through PgPostStore,
// asks these, and writes the answer in the same transaction. post_rules_test.cc holds them
// without a database.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_POST_RULES_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_POST_RULES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "civicpoints/activity/v1/post.pb.h"

namespace civicpoints::activity {

// A rider's live (pending or approved) claim on a post.
struct LiveClaim {
  std::string claim_id;
  v1::PostClaimStatus status = v1::POST_CLAIM_STATUS_UNSPECIFIED;
};

// OK when a rider checked in at `rider_home` ("" for nowhere) holding `held` on the post may claim
// a seat: the post is open, it is their community's, they hold no live claim on it, a seat is
// free. Errors, in that order: FAILED_PRECONDITION (POST_CLOSED, NOT_CHECKED_IN_AT_COMMUNITY),
// ALREADY_EXISTS (ALREADY_CLAIMED), RESOURCE_EXHAUSTED (POST_FULL).
absl::Status CheckClaim(const v1::Post& post, const std::string& rider_home,
                        const std::optional<LiveClaim>& held);

// OK when the post may have `seats_total` seats with `taken` of them taken. Errors:
// FAILED_PRECONDITION (BELOW_SEATS_TAKEN, with the figure).
absl::Status CheckSeatsTotal(int32_t seats_total, int32_t taken);

// What withdrawing a claim in `status` does.
enum class WithdrawStep {
  kApply,        // pending or approved: withdraw it and free its seat
  kAlreadyDone,  // withdrawn before: a retry
  kWrongState,   // rejected: it holds no seat to give back (WRONG_STATE)
};
WithdrawStep DecideWithdraw(v1::PostClaimStatus status);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_POST_RULES_H_
