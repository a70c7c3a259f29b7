// Governance posts' seats as pure rules: no database.
#include "services/activity/post_rules.h"

#include <gtest/gtest.h>

#include "civicpoints/activity/v1/errors.pb.h"
#include "common/status/grpc_status.h"
#include "common/status/refusal.h"

namespace civicpoints::activity {
namespace {

v1::ActivityErrorReason Reason(const absl::Status& s) {
  return ReasonOf<v1::ActivityErrorReason>(s);
}

// An open post of 清远西街社区 with 2 seats, 1 taken.
v1::Post OpenPost() {
  v1::Post p;
  p.set_post_id("post_1");
  p.set_community_id("c_west");
  p.set_status(v1::POST_STATUS_OPEN);
  p.set_seats_total(2);
  p.set_seats_taken(1);
  return p;
}

TEST(PostRulesTest, ARiderOfTheCommunityWithoutAClaimTakesAFreeSeat) {
  EXPECT_TRUE(CheckClaim(OpenPost(), "c_west", std::nullopt).ok());
}

TEST(PostRulesTest, ClaimsAreRefusedInOrderClosedElsewhereHeldFull) {
  v1::Post post = OpenPost();
  const LiveClaim held{"claim_1", v1::POST_CLAIM_STATUS_PENDING};
  post.set_status(v1::POST_STATUS_CLOSED);
  post.set_seats_taken(2);
  EXPECT_EQ(Reason(CheckClaim(post, "c_other", held)), v1::ACTIVITY_ERROR_REASON_POST_CLOSED);
  post.set_status(v1::POST_STATUS_OPEN);
  const absl::Status elsewhere = CheckClaim(post, "c_other", held);
  EXPECT_EQ(Reason(elsewhere), v1::ACTIVITY_ERROR_REASON_NOT_CHECKED_IN_AT_COMMUNITY);
  EXPECT_NE(elsewhere.message().find("you are checked in at c_other"), std::string::npos);
  EXPECT_NE(CheckClaim(post, "", held).message().find("not checked in at any community"),
            std::string::npos);
  const absl::Status twice = CheckClaim(post, "c_west", held);
  EXPECT_EQ(twice.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(twice.message().find("claim_1 (POST_CLAIM_STATUS_PENDING)"), std::string::npos);
  const absl::Status full = CheckClaim(post, "c_west", std::nullopt);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Reason(full), v1::ACTIVITY_ERROR_REASON_POST_FULL);
}

TEST(PostRulesTest, SeatsShrinkNoFurtherThanTheSeatsTaken) {
  EXPECT_TRUE(CheckSeatsTotal(3, 3).ok());
  const absl::Status below = CheckSeatsTotal(2, 3);
  EXPECT_EQ(Reason(below), v1::ACTIVITY_ERROR_REASON_BELOW_SEATS_TAKEN);
  EXPECT_EQ(ErrorFigureOf(below, "taken"), "3");
}

TEST(PostRulesTest, PendingAndApprovedClaimsWithdrawARejectedOneHasNoSeat) {
  EXPECT_EQ(DecideWithdraw(v1::POST_CLAIM_STATUS_PENDING), WithdrawStep::kApply);
  EXPECT_EQ(DecideWithdraw(v1::POST_CLAIM_STATUS_APPROVED), WithdrawStep::kApply);
  EXPECT_EQ(DecideWithdraw(v1::POST_CLAIM_STATUS_WITHDRAWN), WithdrawStep::kAlreadyDone);
  EXPECT_EQ(DecideWithdraw(v1::POST_CLAIM_STATUS_REJECTED), WithdrawStep::kWrongState);
}

}  // namespace
}  // namespace civicpoints::activity
