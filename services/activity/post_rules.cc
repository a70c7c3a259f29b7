#include "services/activity/post_rules.h"

#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/errors.pb.h"
#include "common/status/refusal.h"

namespace civicpoints::activity {

absl::Status CheckClaim(const v1::Post& post, const std::string& rider_home,
                        const std::optional<LiveClaim>& held) {
  const std::string& id = post.post_id();
  if (post.status() == v1::POST_STATUS_CLOSED) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_POST_CLOSED,
                  absl::StrCat("post ", id, " is closed to new claims"));
  }
  if (rider_home != post.community_id()) {
    return Refuse(
        absl::StatusCode::kFailedPrecondition,
        v1::ACTIVITY_ERROR_REASON_NOT_CHECKED_IN_AT_COMMUNITY,
        absl::StrCat("post ", id, " is for riders checked in (社区报到) at community ",
                     post.community_id(),
                     rider_home.empty() ? "; you are not checked in at any community"
                                        : absl::StrCat("; you are checked in at ", rider_home)));
  }
  if (held) {
    return Refuse(absl::StatusCode::kAlreadyExists, v1::ACTIVITY_ERROR_REASON_ALREADY_CLAIMED,
                  absl::StrCat("you already hold claim ", held->claim_id, " (",
                               v1::PostClaimStatus_Name(held->status), ") on post ", id));
  }
  if (post.seats_taken() >= post.seats_total()) {
    return Refuse(absl::StatusCode::kResourceExhausted, v1::ACTIVITY_ERROR_REASON_POST_FULL,
                  absl::StrCat("post ", id, " is full (", post.seats_total(), " seats)"));
  }
  return absl::OkStatus();
}

absl::Status CheckSeatsTotal(int32_t seats_total, int32_t taken) {
  if (seats_total >= taken) return absl::OkStatus();
  return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_BELOW_SEATS_TAKEN,
                absl::StrCat("post.seats_total: ", seats_total, " is below the ", taken,
                             " seats already taken"),
                {{"taken", std::to_string(taken)}});
}

WithdrawStep DecideWithdraw(v1::PostClaimStatus status) {
  if (status == v1::POST_CLAIM_STATUS_WITHDRAWN) return WithdrawStep::kAlreadyDone;
  if (status == v1::POST_CLAIM_STATUS_REJECTED) return WithdrawStep::kWrongState;
  return WithdrawStep::kApply;
}

}  // namespace civicpoints::activity
