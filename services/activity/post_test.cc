// Governance posts and duty shifts end to end on real PostgreSQL, identity and the ledger: staff
// open posts, riders checked in at the community claim seats, staff decide; riders on a post log
// shifts that staff confirm, and each confirmed shift's award reaches the ledger exactly once.
// Every refusal the contract names, each checked to write nothing.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"
#include "google/rpc/error_details.pb.h"
#include "services/activity/activity_test_env.h"

namespace civicpoints::activity {
namespace {

using grpc::StatusCode;

// 清远西街 in 大同.
constexpr double kLat = 40.0937, kLon = 113.2956;

class PostTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.ok()); }

  v1::Post Draft(const std::string& community, int seats = 2,
                 v1::PostKind kind = v1::POST_KIND_MOBILE_GRID_MONITOR) {
    v1::Post p;
    p.set_community_id(community);
    p.set_kind(kind);
    p.set_title("清远西街流动网格员");
    p.set_description("配送途中留意网格内的隐患并上报");
    p.set_seats_total(seats);
    return p;
  }

  grpc::Status Create(const std::string& token, const v1::Post& p, v1::Post* out = nullptr,
                      const std::string& key = "") {
    v1::CreatePostRequest req;
    *req.mutable_post() = p;
    req.set_idempotency_key(key.empty() ? absl::StrCat("create-", ++keys_) : key);
    v1::CreatePostResponse resp;
    grpc::Status s = env_.stub().CreatePost(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.post();
    return s;
  }

  std::string MakePost(int seats = 2, const std::string& community = "",
                       v1::PostKind kind = v1::POST_KIND_MOBILE_GRID_MONITOR) {
    v1::Post made;
    grpc::Status s = Create(env_.street_staff,
                            Draft(community.empty() ? env_.west : community, seats, kind), &made);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return made.post_id();
  }

  grpc::Status Get(const std::string& token, const std::string& post, v1::GetPostResponse* out) {
    v1::GetPostRequest req;
    req.set_post_id(post);
    return env_.stub().GetPost(env_.With(token).get(), req, out);
  }

  grpc::Status Claim(const std::string& token, const std::string& post,
                     v1::ClaimPostResponse* out = nullptr, const std::string& key = "",
                     const std::string& note = "") {
    v1::ClaimPostRequest req;
    req.set_post_id(post);
    req.set_note(note);
    req.set_idempotency_key(key.empty() ? absl::StrCat("claim-", ++keys_) : key);
    v1::ClaimPostResponse resp;
    return env_.stub().ClaimPost(env_.With(token).get(), req, out ? out : &resp);
  }

  grpc::Status Approve(const std::string& token, const std::string& post, const std::string& claim,
                       v1::PostClaim* out = nullptr) {
    v1::ApprovePostClaimRequest req;
    req.set_post_id(post);
    req.set_claim_id(claim);
    v1::ApprovePostClaimResponse resp;
    grpc::Status s = env_.stub().ApprovePostClaim(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.claim();
    return s;
  }

  grpc::Status Reject(const std::string& token, const std::string& post, const std::string& claim,
                      const std::string& reason, v1::PostClaim* out = nullptr) {
    v1::RejectPostClaimRequest req;
    req.set_post_id(post);
    req.set_claim_id(claim);
    req.set_reason(reason);
    v1::RejectPostClaimResponse resp;
    grpc::Status s = env_.stub().RejectPostClaim(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.claim();
    return s;
  }

  grpc::Status Withdraw(const std::string& token, const std::string& post, const std::string& claim,
                        const std::string& reason = "", v1::PostClaim* out = nullptr) {
    v1::WithdrawPostClaimRequest req;
    req.set_post_id(post);
    req.set_claim_id(claim);
    req.set_reason(reason);
    v1::WithdrawPostClaimResponse resp;
    grpc::Status s = env_.stub().WithdrawPostClaim(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.claim();
    return s;
  }

  grpc::Status Close(const std::string& token, const std::string& post, v1::Post* out = nullptr) {
    v1::ClosePostRequest req;
    req.set_post_id(post);
    v1::ClosePostResponse resp;
    grpc::Status s = env_.stub().ClosePost(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.post();
    return s;
  }

  // A rider of `community` holding an approved seat on `post`: {id, token, claim id}.
  struct Holder {
    std::string id, token, claim;
  };
  Holder OnPost(const std::string& post, const std::string& community = "") {
    auto [id, token] = env_.Rider(community.empty() ? env_.west : community);
    v1::ClaimPostResponse claimed;
    grpc::Status s = Claim(token, post, &claimed);
    EXPECT_TRUE(s.ok()) << s.error_message();
    s = Approve(env_.west_staff, post, claimed.claim().claim_id());
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {id, token, claimed.claim().claim_id()};
  }

  v1::LogDutyShiftRequest Shift(const std::string& post, absl::Time start,
                                absl::Duration length = absl::Hours(2)) {
    v1::LogDutyShiftRequest req;
    req.set_post_id(post);
    SetTime(req.mutable_start_time(), Us(start));
    SetTime(req.mutable_end_time(), Us(start + length));
    req.set_summary("巡查清远西街沿街商铺，劝导占道经营两处");
    req.set_idempotency_key(absl::StrCat("shift-", ++keys_));
    return req;
  }

  grpc::Status Log(const std::string& token, const v1::LogDutyShiftRequest& req,
                   v1::DutyShift* out = nullptr) {
    v1::LogDutyShiftResponse resp;
    grpc::Status s = env_.stub().LogDutyShift(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.shift();
    return s;
  }

  std::string LogOk(const std::string& token, const std::string& post, absl::Time start,
                    absl::Duration length = absl::Hours(2)) {
    v1::DutyShift shift;
    grpc::Status s = Log(token, Shift(post, start, length), &shift);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return shift.shift_id();
  }

  grpc::Status Confirm(const std::string& token, const std::string& post, const std::string& shift,
                       v1::DutyShift* out = nullptr) {
    v1::ConfirmDutyShiftRequest req;
    req.set_post_id(post);
    req.set_shift_id(shift);
    v1::ConfirmDutyShiftResponse resp;
    grpc::Status s = env_.stub().ConfirmDutyShift(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.shift();
    return s;
  }

  grpc::Status RejectShift(const std::string& token, const std::string& post,
                           const std::string& shift, const std::string& reason,
                           v1::DutyShift* out = nullptr) {
    v1::RejectDutyShiftRequest req;
    req.set_post_id(post);
    req.set_shift_id(shift);
    req.set_reason(reason);
    v1::RejectDutyShiftResponse resp;
    grpc::Status s = env_.stub().RejectDutyShift(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.shift();
    return s;
  }

  // A staff member of `community` who also rides, checked in there: {person id, token}.
  std::pair<std::string, std::string> StaffRider(const std::string& community) {
    identity::v1::GetCheckInCodeRequest code_req;
    code_req.set_org_id(community);
    identity::v1::GetCheckInCodeResponse code;
    grpc::Status s = env_.identity().stub().GetCheckInCode(
        env_.With(env_.identity().admin_token()).get(), code_req, &code);
    EXPECT_TRUE(s.ok()) << s.error_message();
    const std::string phone = "13600000001";
    const std::string id =
        env_.identity().Register(phone, "骑手兼社工", code.code().code()).person().person_id();
    identity::v1::GrantRoleRequest grant;
    grant.set_person_id(id);
    grant.set_role(common::v1::ROLE_COMMUNITY_STAFF);
    grant.set_org_id(community);
    identity::v1::GrantRoleResponse granted;
    s = env_.identity().stub().GrantRole(env_.With(env_.identity().admin_token()).get(), grant,
                                         &granted);
    EXPECT_TRUE(s.ok()) << s.error_message();
    // Signed in again: a token carrying both roles.
    const std::string both = env_.identity().Login(phone, testing::IdentityPeer::kRiderPassword);
    EXPECT_FALSE(both.empty());
    return {id, both};
  }

  // The rider's available balance in the ledger.
  int64_t Balance(const std::string& rider) {
    return env_.ledger().Sql(
        "SELECT COALESCE(sum(available), 0) FROM ledger.accounts WHERE person_id = '" + rider +
        "'");
  }

  bool AllDelivered() { return env_.Sql("SELECT count(*) FROM awards WHERE status = 1") == "0"; }
  std::string Count(const std::string& table, const std::string& where = "true") {
    return env_.Sql(absl::StrCat("SELECT count(*) FROM ", table, " WHERE ", where));
  }

  // 10:00 yesterday in Asia/Shanghai, plus `hours`: well inside the 7-day window, all one day.
  absl::Time Yesterday(int hours) {
    absl::CivilDay today = absl::ToCivilDay(absl::Now(), Shanghai());
    return absl::FromCivil(absl::CivilHour(today - 1) + 10 + hours, Shanghai());
  }

  ActivityTestEnv env_;
  int keys_ = 0;
};

TEST_F(PostTest, PostKindsAreListedInEnumOrderWithChineseNames) {
  auto [rider_id, rider] = env_.Rider(env_.west);
  v1::ListPostKindsResponse resp;
  ASSERT_TRUE(
      env_.stub().ListPostKinds(env_.With(rider).get(), v1::ListPostKindsRequest(), &resp).ok());
  ASSERT_EQ(resp.kinds_size(), 5);
  const char* zh[] = {"流动网格员", "文明倡导员", "安全巡查员", "矛盾调解员", "助老服务员"};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(resp.kinds(i).kind(), static_cast<v1::PostKind>(i + 1));
    EXPECT_EQ(resp.kinds(i).display_name_zh(), zh[i]);
    EXPECT_FALSE(resp.kinds(i).display_name_en().empty());
    EXPECT_FALSE(resp.kinds(i).description_zh().empty());
  }
  EXPECT_EQ(resp.kinds(0).display_name_en(), "Mobile grid monitor");
  // Anyone signed in; nobody else.
  EXPECT_EQ(env_.stub()
                .ListPostKinds(env_.With("").get(), v1::ListPostKindsRequest(), &resp)
                .error_code(),
            StatusCode::UNAUTHENTICATED);
}

TEST_F(PostTest, StaffOpenReadChangeAndListPostsInTheirScope) {
  v1::Post made;
  ASSERT_TRUE(Create(env_.west_staff, Draft(env_.west), &made, "same-key").ok());
  EXPECT_FALSE(made.post_id().empty());
  EXPECT_EQ(made.status(), v1::POST_STATUS_OPEN);
  EXPECT_EQ(made.seats_total(), 2);
  EXPECT_EQ(made.seats_taken(), 0);
  EXPECT_EQ(made.org_path().community_id(), env_.west);
  EXPECT_EQ(made.org_path().street_id(), env_.street);
  EXPECT_EQ(made.org_path().district_id(), env_.district);
  EXPECT_EQ(made.created_by(), env_.west_staff_id);
  EXPECT_EQ(made.title(), "清远西街流动网格员");
  EXPECT_FALSE(made.etag().empty());
  // The same key and request: the same post; another request under the key is refused.
  v1::Post again;
  ASSERT_TRUE(Create(env_.west_staff, Draft(env_.west), &again, "same-key").ok());
  EXPECT_EQ(again.post_id(), made.post_id());
  EXPECT_EQ(Create(env_.west_staff, Draft(env_.west, 3), nullptr, "same-key").error_code(),
            StatusCode::FAILED_PRECONDITION);
  // Street staff open posts in any of the street's communities.
  v1::Post gongnong_post;
  ASSERT_TRUE(Create(env_.street_staff, Draft(env_.gongnong, 5, v1::POST_KIND_ELDERLY_HELPER),
                     &gongnong_post)
                  .ok());
  EXPECT_EQ(Count("posts"), "2");

  // Refusals, none of which writes a post.
  grpc::Status s = Create(env_.gongnong_staff, Draft(env_.west));
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "OUTSIDE_ORG_SCOPE");
  s = Create(env_.street_staff, Draft(env_.street));
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);  // a street is not a community
  EXPECT_EQ(ReasonOf(s), "WRONG_ORG_LEVEL");
  EXPECT_EQ(Create(env_.street_staff, Draft("org_nowhere")).error_code(), StatusCode::NOT_FOUND);
  auto [rider_id, rider] = env_.Rider(env_.west);
  EXPECT_EQ(Create(rider, Draft(env_.west)).error_code(), StatusCode::PERMISSION_DENIED);
  std::vector<v1::Post> bad(8, Draft(env_.west));
  bad[0].set_kind(v1::POST_KIND_UNSPECIFIED);
  bad[1].set_title("");
  bad[2].set_title(std::string(61, 'x'));
  bad[3].set_description(std::string(1001, 'x'));
  bad[4].set_seats_total(0);
  bad[5].set_seats_total(501);
  bad[6].set_community_id("");
  bad[7].set_title("坏\x01标题");
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(Create(env_.west_staff, bad[i]).error_code(), StatusCode::INVALID_ARGUMENT) << i;
  }
  v1::CreatePostRequest no_key;
  *no_key.mutable_post() = Draft(env_.west);
  v1::CreatePostResponse ignored;
  EXPECT_EQ(env_.stub().CreatePost(env_.With(env_.west_staff).get(), no_key, &ignored).error_code(),
            StatusCode::INVALID_ARGUMENT);
  // The boundaries are allowed.
  v1::Post edge = Draft(env_.west, 500);
  edge.set_title(std::string(60, 'x'));
  edge.set_description(std::string(1000, 'y'));
  v1::Post big;
  ASSERT_TRUE(Create(env_.west_staff, edge, &big).ok());
  EXPECT_EQ(Count("posts"), "3");

  // Reading: riders anywhere, staff within their scope.
  v1::GetPostResponse got;
  ASSERT_TRUE(Get(rider, made.post_id(), &got).ok());
  EXPECT_EQ(got.post().post_id(), made.post_id());
  EXPECT_FALSE(got.has_my_claim());
  ASSERT_TRUE(Get(env_.street_staff, made.post_id(), &got).ok());
  s = Get(env_.gongnong_staff, made.post_id(), &got);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "OUTSIDE_ORG_SCOPE");
  EXPECT_EQ(Get(rider, "post_nope", &got).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(rider, "", &got).error_code(), StatusCode::INVALID_ARGUMENT);

  // Changing title and seats; the etag moves.
  v1::UpdatePostRequest update;
  update.set_post_id(made.post_id());
  update.mutable_post()->set_title("清远西街流动网格员（夜班）");
  update.mutable_post()->set_seats_total(4);
  update.mutable_update_mask()->add_paths("title");
  update.mutable_update_mask()->add_paths("seats_total");
  update.set_etag(made.etag());
  v1::UpdatePostResponse updated;
  ASSERT_TRUE(env_.stub().UpdatePost(env_.With(env_.west_staff).get(), update, &updated).ok());
  EXPECT_EQ(updated.post().title(), "清远西街流动网格员（夜班）");
  EXPECT_EQ(updated.post().seats_total(), 4);
  EXPECT_EQ(updated.post().description(), made.description());
  EXPECT_NE(updated.post().etag(), made.etag());
  // The old etag is stale now.
  s = env_.stub().UpdatePost(env_.With(env_.west_staff).get(), update, &updated);
  EXPECT_EQ(s.error_code(), StatusCode::ABORTED);
  EXPECT_EQ(ReasonOf(s), "ETAG_MISMATCH");
  update.clear_etag();
  auto refused = [&](v1::UpdatePostRequest r, const std::string& token) {
    v1::UpdatePostResponse out;
    return env_.stub().UpdatePost(env_.With(token).get(), r, &out).error_code();
  };
  {
    v1::UpdatePostRequest r = update;
    r.clear_update_mask();
    EXPECT_EQ(refused(r, env_.west_staff), StatusCode::INVALID_ARGUMENT);
    r.mutable_update_mask()->add_paths("kind");
    EXPECT_EQ(refused(r, env_.west_staff), StatusCode::INVALID_ARGUMENT);
    r = update;
    r.mutable_post()->set_seats_total(0);
    EXPECT_EQ(refused(r, env_.west_staff), StatusCode::INVALID_ARGUMENT);
    r = update;
    r.mutable_post()->set_title("");
    EXPECT_EQ(refused(r, env_.west_staff), StatusCode::INVALID_ARGUMENT);
    r = update;
    r.set_post_id("");
    EXPECT_EQ(refused(r, env_.west_staff), StatusCode::INVALID_ARGUMENT);
    r.set_post_id("post_nope");
    EXPECT_EQ(refused(r, env_.west_staff), StatusCode::NOT_FOUND);
    EXPECT_EQ(refused(update, env_.gongnong_staff), StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(refused(update, rider), StatusCode::PERMISSION_DENIED);
  }
  ASSERT_TRUE(Get(env_.west_staff, made.post_id(), &got).ok());
  EXPECT_EQ(got.post().etag(), updated.post().etag());  // nothing refused changed it

  // Listing: by community, street and district, newest first; filters; paging.
  auto list = [&](const std::string& token, v1::ListPostsRequest req, v1::ListPostsResponse* out) {
    return env_.stub().ListPosts(env_.With(token).get(), req, out);
  };
  v1::ListPostsRequest req;
  req.set_org_id(env_.west);
  v1::ListPostsResponse listed;
  ASSERT_TRUE(list(rider, req, &listed).ok());
  ASSERT_EQ(listed.posts_size(), 2);
  EXPECT_EQ(listed.posts(0).post_id(), big.post_id());  // newest first
  EXPECT_EQ(listed.posts(1).post_id(), made.post_id());
  req.set_org_id(env_.street);
  ASSERT_TRUE(list(env_.street_staff, req, &listed).ok());
  EXPECT_EQ(listed.posts_size(), 3);
  req.set_org_id(env_.district);
  ASSERT_TRUE(list(env_.identity().admin_token(), req, &listed).ok());
  EXPECT_EQ(listed.posts_size(), 3);
  req.set_org_id(env_.street);
  req.set_kind(v1::POST_KIND_ELDERLY_HELPER);
  ASSERT_TRUE(list(rider, req, &listed).ok());
  ASSERT_EQ(listed.posts_size(), 1);
  EXPECT_EQ(listed.posts(0).post_id(), gongnong_post.post_id());
  req.clear_kind();
  // One page at a time.
  req.set_page_size(1);
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    ASSERT_TRUE(list(rider, req, &listed).ok());
    for (const auto& p : listed.posts()) seen.push_back(p.post_id());
    if (listed.next_page_token().empty()) break;
    req.set_page_token(listed.next_page_token());
  }
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2], made.post_id());
  // A token for other filters, a malformed token, no org, an unknown org, another's scope.
  req.set_page_size(1);
  req.clear_page_token();
  ASSERT_TRUE(list(rider, req, &listed).ok());
  v1::ListPostsRequest other = req;
  other.set_page_token(listed.next_page_token());
  other.set_kind(v1::POST_KIND_ELDERLY_HELPER);
  EXPECT_EQ(list(rider, other, &listed).error_code(), StatusCode::INVALID_ARGUMENT);
  other = req;
  other.set_page_token("not-a-token");
  EXPECT_EQ(list(rider, other, &listed).error_code(), StatusCode::INVALID_ARGUMENT);
  other = req;
  other.clear_org_id();
  EXPECT_EQ(list(rider, other, &listed).error_code(), StatusCode::INVALID_ARGUMENT);
  other.set_org_id("org_nowhere");
  EXPECT_EQ(list(rider, other, &listed).error_code(), StatusCode::NOT_FOUND);
  other.set_org_id(env_.west);
  EXPECT_EQ(list(env_.gongnong_staff, other, &listed).error_code(), StatusCode::PERMISSION_DENIED);
  other.set_org_id(env_.street);
  EXPECT_EQ(list(env_.gongnong_staff, other, &listed).error_code(), StatusCode::PERMISSION_DENIED);

  // Closing: no longer listed as open, listed as closed; closing again changes nothing.
  v1::Post closed;
  ASSERT_TRUE(Close(env_.west_staff, made.post_id(), &closed).ok());
  EXPECT_EQ(closed.status(), v1::POST_STATUS_CLOSED);
  v1::Post closed_again;
  ASSERT_TRUE(Close(env_.street_staff, made.post_id(), &closed_again).ok());
  EXPECT_EQ(closed_again.etag(), closed.etag());
  EXPECT_EQ(Close(env_.gongnong_staff, big.post_id()).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Close(rider, big.post_id()).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Close(env_.west_staff, "post_nope").error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Close(env_.west_staff, "").error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Count("posts", "status = 2"), "1");
  req = v1::ListPostsRequest();
  req.set_org_id(env_.west);
  ASSERT_TRUE(list(rider, req, &listed).ok());
  ASSERT_EQ(listed.posts_size(), 1);
  EXPECT_EQ(listed.posts(0).post_id(), big.post_id());
  req.set_status(v1::POST_STATUS_CLOSED);
  ASSERT_TRUE(list(rider, req, &listed).ok());
  ASSERT_EQ(listed.posts_size(), 1);
  EXPECT_EQ(listed.posts(0).post_id(), made.post_id());
}

TEST_F(PostTest, RidersCheckedInAtTheCommunityClaimSeatsAndStaffDecide) {
  const std::string post = MakePost(/*seats=*/2);
  auto [a_id, a] = env_.Rider(env_.west);
  auto [b_id, b] = env_.Rider(env_.west);
  auto [c_id, c] = env_.Rider(env_.west);
  const std::string elsewhere = env_.Rider(env_.gongnong).second;
  const std::string nowhere = env_.Rider("").second;

  // Riders not checked in at 清远西街 cannot claim.
  grpc::Status s = Claim(elsewhere, post);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "NOT_CHECKED_IN_AT_COMMUNITY");
  s = Claim(nowhere, post);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "NOT_CHECKED_IN_AT_COMMUNITY");
  // Bad input.
  EXPECT_EQ(Claim(a, "").error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Claim(a, post, nullptr, "", std::string(201, 'x')).error_code(),
            StatusCode::INVALID_ARGUMENT);
  {
    v1::ClaimPostRequest req;
    req.set_post_id(post);
    v1::ClaimPostResponse resp;
    EXPECT_EQ(env_.stub().ClaimPost(env_.With(a).get(), req, &resp).error_code(),
              StatusCode::INVALID_ARGUMENT);  // no idempotency key
  }
  EXPECT_EQ(Claim(a, "post_nope").error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Claim(env_.west_staff, post).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Count("post_claims"), "0");

  // A claims (twice under one key: one claim); then again under another key: refused.
  v1::ClaimPostResponse a_claim, replay;
  ASSERT_TRUE(Claim(a, post, &a_claim, "a-claim", "我每天都在清远西街送餐").ok());
  EXPECT_EQ(a_claim.claim().status(), v1::POST_CLAIM_STATUS_PENDING);
  EXPECT_EQ(a_claim.claim().rider_id(), a_id);
  EXPECT_EQ(a_claim.claim().post_kind(), v1::POST_KIND_MOBILE_GRID_MONITOR);
  EXPECT_EQ(a_claim.claim().org_path().community_id(), env_.west);
  EXPECT_EQ(a_claim.claim().note(), "我每天都在清远西街送餐");
  EXPECT_TRUE(a_claim.claim().decided_by().empty());
  EXPECT_FALSE(a_claim.claim().has_decide_time());
  EXPECT_EQ(a_claim.post().seats_taken(), 1);
  ASSERT_TRUE(Claim(a, post, &replay, "a-claim", "我每天都在清远西街送餐").ok());
  EXPECT_EQ(replay.claim().claim_id(), a_claim.claim().claim_id());
  EXPECT_EQ(Claim(a, post, nullptr, "a-claim", "changed").error_code(),
            StatusCode::FAILED_PRECONDITION);
  s = Claim(a, post);
  EXPECT_EQ(s.error_code(), StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(ReasonOf(s), "ALREADY_CLAIMED");
  // B takes the last seat; C finds the post full.
  v1::ClaimPostResponse b_claim;
  ASSERT_TRUE(Claim(b, post, &b_claim).ok());
  EXPECT_EQ(b_claim.post().seats_taken(), 2);
  s = Claim(c, post);
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ReasonOf(s), "POST_FULL");
  EXPECT_EQ(Count("post_claims"), "2");
  EXPECT_EQ(env_.Sql("SELECT seats_taken FROM posts"), "2");
  // A full post drops out of the list of posts with free seats.
  v1::ListPostsRequest free_seats;
  free_seats.set_org_id(env_.west);
  free_seats.set_only_with_free_seats(true);
  v1::ListPostsResponse with_free;
  ASSERT_TRUE(env_.stub().ListPosts(env_.With(c).get(), free_seats, &with_free).ok());
  EXPECT_EQ(with_free.posts_size(), 0);
  free_seats.set_only_with_free_seats(false);
  ASSERT_TRUE(env_.stub().ListPosts(env_.With(c).get(), free_seats, &with_free).ok());
  EXPECT_EQ(with_free.posts_size(), 1);

  // The rider sees their own claim on the post; staff see none of theirs.
  v1::GetPostResponse got;
  ASSERT_TRUE(Get(a, post, &got).ok());
  EXPECT_EQ(got.my_claim().claim_id(), a_claim.claim().claim_id());
  ASSERT_TRUE(Get(env_.west_staff, post, &got).ok());
  EXPECT_FALSE(got.has_my_claim());
  // Seats cannot fall below those taken.
  v1::UpdatePostRequest shrink;
  shrink.set_post_id(post);
  shrink.mutable_post()->set_seats_total(1);
  shrink.mutable_update_mask()->add_paths("seats_total");
  v1::UpdatePostResponse shrunk;
  EXPECT_EQ(env_.stub().UpdatePost(env_.With(env_.west_staff).get(), shrink, &shrunk).error_code(),
            StatusCode::FAILED_PRECONDITION);

  // Approving A: staff of the community; again changes nothing; not staff elsewhere.
  const std::string a_cid = a_claim.claim().claim_id(), b_cid = b_claim.claim().claim_id();
  EXPECT_EQ(Approve(env_.gongnong_staff, post, a_cid).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Approve(a, post, a_cid).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Approve(env_.west_staff, post, "claim_nope").error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Approve(env_.west_staff, "post_nope", a_cid).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Approve(env_.west_staff, post, "").error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Approve(env_.west_staff, "", a_cid).error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Count("post_claims", "status = 1"), "2");
  v1::PostClaim approved, approved_again;
  ASSERT_TRUE(Approve(env_.west_staff, post, a_cid, &approved).ok());
  EXPECT_EQ(approved.status(), v1::POST_CLAIM_STATUS_APPROVED);
  EXPECT_EQ(approved.decided_by(), env_.west_staff_id);
  EXPECT_TRUE(approved.has_decide_time());
  ASSERT_TRUE(Approve(env_.street_staff, post, a_cid, &approved_again).ok());
  EXPECT_EQ(approved_again.decided_by(), env_.west_staff_id);
  EXPECT_EQ(approved_again.decide_time().seconds(), approved.decide_time().seconds());

  // Rejecting B frees a seat; the reason is required and bounded; an approved claim is removed
  // with WithdrawPostClaim instead.
  EXPECT_EQ(Reject(env_.west_staff, post, b_cid, "").error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Reject(env_.west_staff, post, b_cid, std::string(501, 'x')).error_code(),
            StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Reject(env_.gongnong_staff, post, b_cid, "不合适").error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Reject(env_.west_staff, post, "claim_nope", "不合适").error_code(),
            StatusCode::NOT_FOUND);
  s = Reject(env_.west_staff, post, a_cid, "不合适");
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "WRONG_STATE");
  v1::PostClaim rejected, rejected_again;
  ASSERT_TRUE(Reject(env_.west_staff, post, b_cid, "本月名额已满，请下月再报", &rejected).ok());
  EXPECT_EQ(rejected.status(), v1::POST_CLAIM_STATUS_REJECTED);
  EXPECT_EQ(rejected.reason(), "本月名额已满，请下月再报");
  EXPECT_EQ(rejected.decided_by(), env_.west_staff_id);
  ASSERT_TRUE(Reject(env_.west_staff, post, b_cid, "another reason", &rejected_again).ok());
  EXPECT_EQ(rejected_again.reason(), "本月名额已满，请下月再报");
  s = Approve(env_.west_staff, post, b_cid);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "WRONG_STATE");
  EXPECT_EQ(env_.Sql("SELECT seats_taken FROM posts"), "1");

  // C takes the freed seat and withdraws; withdrawing again changes nothing.
  v1::ClaimPostResponse c_claim;
  ASSERT_TRUE(Claim(c, post, &c_claim).ok());
  const std::string c_cid = c_claim.claim().claim_id();
  EXPECT_EQ(Withdraw(b, post, c_cid).error_code(), StatusCode::NOT_FOUND);  // another's claim
  v1::PostClaim withdrawn;
  ASSERT_TRUE(Withdraw(c, post, c_cid, "", &withdrawn).ok());
  EXPECT_EQ(withdrawn.status(), v1::POST_CLAIM_STATUS_WITHDRAWN);
  EXPECT_TRUE(withdrawn.decided_by().empty());
  EXPECT_TRUE(withdrawn.has_decide_time());
  ASSERT_TRUE(Withdraw(c, post, c_cid).ok());
  // A withdrawn claim is neither approved nor rejected.
  EXPECT_EQ(ReasonOf(Approve(env_.west_staff, post, c_cid)), "WRONG_STATE");
  s = Reject(env_.west_staff, post, c_cid, "不合适");
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "WRONG_STATE");
  EXPECT_EQ(env_.Sql("SELECT seats_taken FROM posts"), "1");
  // A rejected claim cannot be withdrawn.
  s = Withdraw(b, post, b_cid);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "WRONG_STATE");
  // Staff remove A: with a reason, from within their scope.
  EXPECT_EQ(Withdraw(env_.west_staff, post, a_cid).error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Withdraw(env_.west_staff, post, a_cid, std::string(501, 'x')).error_code(),
            StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Withdraw(env_.gongnong_staff, post, a_cid, "长期未履职").error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Withdraw(env_.west_staff, post, "claim_nope", "长期未履职").error_code(),
            StatusCode::NOT_FOUND);
  EXPECT_EQ(Withdraw(env_.west_staff, "", a_cid, "长期未履职").error_code(),
            StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(env_.Sql("SELECT status FROM post_claims WHERE claim_id = '" + a_cid + "'"), "2");
  ASSERT_TRUE(Withdraw(env_.west_staff, post, a_cid, "长期未履职", &withdrawn).ok());
  EXPECT_EQ(withdrawn.status(), v1::POST_CLAIM_STATUS_WITHDRAWN);
  EXPECT_EQ(withdrawn.decided_by(), env_.west_staff_id);
  EXPECT_EQ(withdrawn.reason(), "长期未履职");
  EXPECT_EQ(env_.Sql("SELECT seats_taken FROM posts"), "0");

  // A may claim again; closing the post turns the pending claim down and frees its seat.
  v1::ClaimPostResponse a_again;
  ASSERT_TRUE(Claim(a, post, &a_again).ok());
  EXPECT_NE(a_again.claim().claim_id(), a_cid);
  ASSERT_TRUE(Get(a, post, &got).ok());
  EXPECT_EQ(got.my_claim().claim_id(), a_again.claim().claim_id());  // the latest
  v1::Post closed;
  ASSERT_TRUE(Close(env_.west_staff, post, &closed).ok());
  EXPECT_EQ(closed.seats_taken(), 0);
  EXPECT_EQ(env_.Sql("SELECT status || ' ' || reason FROM post_claims WHERE claim_id = '" +
                     a_again.claim().claim_id() + "'"),
            "3 post closed");
  s = Claim(c, post);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "POST_CLOSED");

  // The review queue: oldest first, by status, page by page; a rider sees only their own.
  auto list = [&](const std::string& token, const v1::ListPostClaimsRequest& req,
                  v1::ListPostClaimsResponse* out) {
    return env_.stub().ListPostClaims(env_.With(token).get(), req, out);
  };
  v1::ListPostClaimsRequest req;
  req.set_post_id(post);
  v1::ListPostClaimsResponse listed;
  ASSERT_TRUE(list(env_.west_staff, req, &listed).ok());
  ASSERT_EQ(listed.claims_size(), 4);
  EXPECT_EQ(listed.claims(0).claim_id(), a_cid);
  EXPECT_EQ(listed.claims(1).claim_id(), b_cid);
  EXPECT_EQ(listed.claims(2).claim_id(), c_cid);
  req.set_status(v1::POST_CLAIM_STATUS_REJECTED);
  ASSERT_TRUE(list(env_.west_staff, req, &listed).ok());
  EXPECT_EQ(listed.claims_size(), 2);
  req.clear_status();
  req.set_page_size(3);
  ASSERT_TRUE(list(env_.west_staff, req, &listed).ok());
  EXPECT_EQ(listed.claims_size(), 3);
  ASSERT_FALSE(listed.next_page_token().empty());
  req.set_page_token(listed.next_page_token());
  ASSERT_TRUE(list(env_.west_staff, req, &listed).ok());
  ASSERT_EQ(listed.claims_size(), 1);
  EXPECT_EQ(listed.claims(0).claim_id(), a_again.claim().claim_id());
  EXPECT_TRUE(listed.next_page_token().empty());
  v1::ListPostClaimsRequest mine;
  mine.set_post_id(post);
  mine.set_rider_id(b_id);  // ignored for a rider
  ASSERT_TRUE(list(a, mine, &listed).ok());
  ASSERT_EQ(listed.claims_size(), 2);
  for (const auto& cl : listed.claims()) EXPECT_EQ(cl.rider_id(), a_id);
  mine.set_post_id("-");
  ASSERT_TRUE(list(c, mine, &listed).ok());
  ASSERT_EQ(listed.claims_size(), 1);
  EXPECT_EQ(listed.claims(0).claim_id(), c_cid);
  // Across a subtree, or one rider's across the staff member's scope.
  v1::ListPostClaimsRequest subtree;
  subtree.set_post_id("-");
  subtree.set_org_id(env_.street);
  ASSERT_TRUE(list(env_.street_staff, subtree, &listed).ok());
  EXPECT_EQ(listed.claims_size(), 4);
  subtree.set_org_id(env_.gongnong);
  ASSERT_TRUE(list(env_.gongnong_staff, subtree, &listed).ok());
  EXPECT_EQ(listed.claims_size(), 0);
  v1::ListPostClaimsRequest by_rider;
  by_rider.set_post_id("-");
  by_rider.set_rider_id(b_id);
  ASSERT_TRUE(list(env_.west_staff, by_rider, &listed).ok());
  EXPECT_EQ(listed.claims_size(), 1);
  ASSERT_TRUE(list(env_.gongnong_staff, by_rider, &listed).ok());
  EXPECT_EQ(listed.claims_size(), 0);  // outside their scope
  // Refusals.
  v1::ListPostClaimsRequest bad;
  EXPECT_EQ(list(env_.west_staff, bad, &listed).error_code(), StatusCode::INVALID_ARGUMENT);
  bad.set_post_id("-");
  EXPECT_EQ(list(env_.west_staff, bad, &listed).error_code(), StatusCode::INVALID_ARGUMENT);
  bad.set_post_id("post_nope");
  EXPECT_EQ(list(env_.west_staff, bad, &listed).error_code(), StatusCode::NOT_FOUND);
  bad.set_post_id(post);
  EXPECT_EQ(list(env_.gongnong_staff, bad, &listed).error_code(), StatusCode::PERMISSION_DENIED);
  bad.set_page_token("garbage");
  EXPECT_EQ(list(env_.west_staff, bad, &listed).error_code(), StatusCode::INVALID_ARGUMENT);
  bad = subtree;
  bad.set_org_id("org_nowhere");
  EXPECT_EQ(list(env_.street_staff, bad, &listed).error_code(), StatusCode::NOT_FOUND);
  bad.set_org_id(env_.west);
  EXPECT_EQ(list(env_.gongnong_staff, bad, &listed).error_code(), StatusCode::PERMISSION_DENIED);
}

TEST_F(PostTest, StaffCannotDecideTheirOwnClaimOrShift) {
  const std::string post = MakePost();
  auto [me_id, me] = StaffRider(env_.west);
  v1::ClaimPostResponse claimed;
  ASSERT_TRUE(Claim(me, post, &claimed).ok());
  const std::string cid = claimed.claim().claim_id();
  grpc::Status s = Approve(me, post, cid);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "SELF_CONFIRMATION");
  s = Reject(me, post, cid, "我自己");
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "SELF_CONFIRMATION");
  EXPECT_EQ(Count("post_claims", "status = 1"), "1");
  ASSERT_TRUE(Approve(env_.west_staff, post, cid).ok());
  const std::string shift = LogOk(me, post, Yesterday(0));
  s = Confirm(me, post, shift);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "SELF_CONFIRMATION");
  s = RejectShift(me, post, shift, "我自己");
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "SELF_CONFIRMATION");
  EXPECT_EQ(Count("duty_shifts", "status = 1"), "1");
  EXPECT_EQ(Count("awards"), "0");
  // Their own claim they may leave without a reason, as a rider.
  v1::PostClaim left;
  ASSERT_TRUE(Withdraw(me, post, cid, "", &left).ok());
  EXPECT_TRUE(left.decided_by().empty());
  // Another staff member confirms the shift logged before leaving.
  v1::DutyShift confirmed;
  ASSERT_TRUE(Confirm(env_.west_staff, post, shift, &confirmed).ok());
  EXPECT_EQ(confirmed.status(), v1::DUTY_SHIFT_STATUS_CONFIRMED);
}

TEST_F(PostTest, RidersOnAPostLogShiftsThatDoNotOverlap) {
  const std::string post = MakePost(/*seats=*/3);
  const std::string other_post = MakePost(/*seats=*/3, env_.west, v1::POST_KIND_SAFETY_PATROLLER);
  Holder a = OnPost(post);
  auto [p_id, pending] = env_.Rider(env_.west);
  ASSERT_TRUE(Claim(pending, post).ok());
  const std::string stranger = env_.Rider(env_.west).second;

  // Without an approved claim, no shift.
  grpc::Status s = Log(stranger, Shift(post, Yesterday(0)));
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "CLAIM_NOT_APPROVED");
  s = Log(pending, Shift(post, Yesterday(0)));
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "CLAIM_NOT_APPROVED");
  s = Log(a.token, Shift(other_post, Yesterday(0)));
  EXPECT_EQ(ReasonOf(s), "CLAIM_NOT_APPROVED");
  EXPECT_EQ(Log(a.token, Shift("post_nope", Yesterday(0))).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Log(env_.west_staff, Shift(post, Yesterday(0))).error_code(),
            StatusCode::PERMISSION_DENIED);

  // Bad input.
  const absl::Time now = absl::Now();
  std::vector<v1::LogDutyShiftRequest> bad;
  bad.push_back(Shift(post, Yesterday(0)));
  bad.back().clear_start_time();
  bad.push_back(Shift(post, Yesterday(0)));
  bad.back().clear_end_time();
  bad.push_back(Shift(post, Yesterday(0), absl::Minutes(29)));
  bad.push_back(Shift(post, Yesterday(0), absl::Hours(12) + absl::Minutes(1)));
  bad.push_back(Shift(post, Yesterday(0), -absl::Hours(1)));
  bad.push_back(Shift(post, now - absl::Hours(1), absl::Hours(2)));  // ends in the future
  bad.push_back(Shift(post, now - absl::Hours(24 * 7 + 1)));         // more than 7 days ago
  bad.push_back(Shift(post, Yesterday(0)));
  bad.back().set_summary("");
  bad.push_back(Shift(post, Yesterday(0)));
  bad.back().set_summary(std::string(501, 'x'));
  bad.push_back(Shift(post, Yesterday(0)));
  bad.back().mutable_location()->set_latitude(95);
  bad.back().mutable_location()->set_longitude(kLon);
  bad.push_back(Shift(post, Yesterday(0)));
  bad.back().mutable_location()->set_latitude(kLat);
  bad.back().mutable_location()->set_longitude(-181);
  bad.push_back(Shift(post, Yesterday(0)));
  for (int i = 0; i < 10; ++i) bad.back().add_attachment_refs(absl::StrCat("oss://photos/", i));
  bad.push_back(Shift(post, Yesterday(0)));
  bad.back().add_attachment_refs("");
  bad.push_back(Shift(post, Yesterday(0)));
  bad.back().add_attachment_refs(std::string(513, 'x'));
  bad.push_back(Shift(post, Yesterday(0)));
  bad.back().clear_idempotency_key();
  bad.push_back(Shift("", Yesterday(0)));
  for (size_t i = 0; i < bad.size(); ++i) {
    s = Log(a.token, bad[i]);
    EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << i << ": " << s.error_message();
  }
  EXPECT_EQ(ReasonOf(Log(a.token, bad[9])), "COORDINATES_OUT_OF_RANGE");
  EXPECT_EQ(Count("duty_shifts"), "0");

  // A shift with everything: location, nine attachments at the length limit, exactly 12 hours.
  v1::LogDutyShiftRequest full = Shift(post, Yesterday(-10), absl::Hours(12));
  full.mutable_location()->set_latitude(kLat);
  full.mutable_location()->set_longitude(kLon);
  for (int i = 0; i < 8; ++i) full.add_attachment_refs(absl::StrCat("oss://photos/shift-", i));
  full.add_attachment_refs(std::string(512, 'p'));
  full.set_idempotency_key("full-shift");
  v1::DutyShift logged, replayed;
  ASSERT_TRUE(Log(a.token, full, &logged).ok());
  EXPECT_EQ(logged.status(), v1::DUTY_SHIFT_STATUS_SUBMITTED);
  EXPECT_EQ(logged.post_id(), post);
  EXPECT_EQ(logged.claim_id(), a.claim);
  EXPECT_EQ(logged.rider_id(), a.id);
  EXPECT_EQ(logged.post_kind(), v1::POST_KIND_MOBILE_GRID_MONITOR);
  EXPECT_EQ(logged.org_path().community_id(), env_.west);
  EXPECT_EQ(logged.start_time().seconds(), full.start_time().seconds());
  EXPECT_EQ(logged.end_time().seconds(), full.end_time().seconds());
  EXPECT_EQ(logged.summary(), full.summary());
  EXPECT_NEAR(logged.location().latitude(), kLat, 1e-9);
  EXPECT_NEAR(logged.location().longitude(), kLon, 1e-9);
  ASSERT_EQ(logged.attachment_refs_size(), 9);
  EXPECT_EQ(logged.attachment_refs(0), "oss://photos/shift-0");
  EXPECT_EQ(logged.attachment_refs(8), std::string(512, 'p'));
  EXPECT_FALSE(logged.has_award());
  EXPECT_TRUE(logged.reviewed_by().empty());
  // The same key: the same shift; another request under it: refused.
  ASSERT_TRUE(Log(a.token, full, &replayed).ok());
  EXPECT_EQ(replayed.shift_id(), logged.shift_id());
  v1::LogDutyShiftRequest changed = full;
  changed.set_summary("另一件事");
  EXPECT_EQ(Log(a.token, changed).error_code(), StatusCode::FAILED_PRECONDITION);

  // Overlaps are refused, on any post; touching ends are fine. 30 minutes is the shortest.
  s = Log(a.token, Shift(post, Yesterday(1), absl::Hours(1)));
  EXPECT_EQ(s.error_code(), StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(ReasonOf(s), "SHIFT_OVERLAP");
  s = Log(a.token, Shift(post, Yesterday(-11), absl::Hours(2)));
  EXPECT_EQ(ReasonOf(s), "SHIFT_OVERLAP");
  const std::string next = LogOk(a.token, post, Yesterday(2), absl::Minutes(30));
  EXPECT_FALSE(next.empty());
  EXPECT_EQ(Count("duty_shifts"), "2");
  // A rejected shift no longer blocks its time.
  ASSERT_TRUE(RejectShift(env_.west_staff, post, next, "时间填错").ok());
  EXPECT_FALSE(LogOk(a.token, post, Yesterday(2), absl::Hours(1)).empty());

  // The post closed: riders on it keep logging. Withdrawn: they stop.
  ASSERT_TRUE(Close(env_.west_staff, post).ok());
  EXPECT_FALSE(LogOk(a.token, post, Yesterday(4)).empty());
  ASSERT_TRUE(Withdraw(a.token, post, a.claim).ok());
  s = Log(a.token, Shift(post, Yesterday(7)));
  EXPECT_EQ(ReasonOf(s), "CLAIM_NOT_APPROVED");
  EXPECT_EQ(Count("duty_shifts"), "4");
  // Shifts logged before keep their state.
  EXPECT_EQ(Count("duty_shifts", "status = 1"), "3");
}

TEST_F(PostTest, ConfirmedShiftsReachTheLedgerExactlyOnce) {
  const std::string post = MakePost();
  Holder a = OnPost(post);
  const std::string first = LogOk(a.token, post, Yesterday(0));
  const std::string second = LogOk(a.token, post, Yesterday(3));

  // Refusals, none of which confirms anything.
  EXPECT_EQ(Confirm(env_.gongnong_staff, post, first).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Confirm(a.token, post, first).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Confirm(env_.west_staff, post, "shift_nope").error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Confirm(env_.west_staff, "post_nope", first).error_code(), StatusCode::NOT_FOUND);
  const std::string other_post = MakePost();
  EXPECT_EQ(Confirm(env_.west_staff, other_post, first).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Confirm(env_.west_staff, post, "").error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Confirm(env_.west_staff, "", first).error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Count("duty_shifts", "status = 1"), "2");
  EXPECT_EQ(Count("awards"), "0");

  // Confirmed: the city default of 5 points, counted at the rider's home community.
  v1::DutyShift confirmed;
  ASSERT_TRUE(Confirm(env_.west_staff, post, first, &confirmed).ok());
  EXPECT_EQ(confirmed.status(), v1::DUTY_SHIFT_STATUS_CONFIRMED);
  EXPECT_EQ(confirmed.reviewed_by(), env_.west_staff_id);
  EXPECT_TRUE(confirmed.has_review_time());
  ASSERT_TRUE(confirmed.has_award());
  const v1::Award& award = confirmed.award();
  EXPECT_EQ(award.source_kind(), v1::AWARD_SOURCE_KIND_POST_SHIFT);
  EXPECT_EQ(award.source_id(), first);
  EXPECT_EQ(award.idempotency_key(), "post-shift/" + first);
  EXPECT_EQ(award.rider_id(), a.id);
  EXPECT_EQ(award.points(), 5);
  EXPECT_EQ(award.rule_org_id(), "city");
  EXPECT_EQ(award.verified_by(), env_.west_staff_id);
  EXPECT_EQ(award.rider_org_path().community_id(), env_.west);
  EXPECT_EQ(award.rider_org_path().street_id(), env_.street);
  // Confirming again (by anyone in scope) returns the same shift and award.
  v1::DutyShift again;
  ASSERT_TRUE(Confirm(env_.street_staff, post, first, &again).ok());
  EXPECT_EQ(again.reviewed_by(), env_.west_staff_id);
  EXPECT_EQ(again.award().idempotency_key(), award.idempotency_key());
  EXPECT_EQ(again.award().points(), 5);
  EXPECT_EQ(Count("awards"), "1");
  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(10)));
  EXPECT_EQ(Balance(a.id), 5);
  // Once delivered, the shift shows it; confirming once more adds nothing.
  ASSERT_TRUE(Confirm(env_.west_staff, post, first, &again).ok());
  EXPECT_EQ(again.award().status(), v1::AWARD_STATUS_AWARDED);
  EXPECT_FALSE(again.award().ledger_entry_id().empty());
  EXPECT_EQ(Count("awards"), "1");
  absl::SleepFor(absl::Milliseconds(200));  // a relay pass, had there been anything to send
  EXPECT_EQ(Balance(a.id), 5);
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.entries"), 1);

  // A confirmed shift is not rejected (a ledger reversal corrects it).
  grpc::Status s = RejectShift(env_.west_staff, post, first, "搞错了");
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "WRONG_STATE");
  // Rejecting the second: the reason is required; again changes nothing; it cannot be confirmed.
  EXPECT_EQ(RejectShift(env_.west_staff, post, second, "").error_code(),
            StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(RejectShift(env_.west_staff, post, second, std::string(501, 'x')).error_code(),
            StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(RejectShift(env_.gongnong_staff, post, second, "不实").error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(RejectShift(env_.west_staff, post, "shift_nope", "不实").error_code(),
            StatusCode::NOT_FOUND);
  EXPECT_EQ(RejectShift(env_.west_staff, "", second, "不实").error_code(),
            StatusCode::INVALID_ARGUMENT);
  v1::DutyShift rejected, rejected_again;
  ASSERT_TRUE(RejectShift(env_.west_staff, post, second, "当天未见到在岗", &rejected).ok());
  EXPECT_EQ(rejected.status(), v1::DUTY_SHIFT_STATUS_REJECTED);
  EXPECT_EQ(rejected.reject_reason(), "当天未见到在岗");
  EXPECT_EQ(rejected.reviewed_by(), env_.west_staff_id);
  EXPECT_FALSE(rejected.has_award());
  ASSERT_TRUE(RejectShift(env_.street_staff, post, second, "其他", &rejected_again).ok());
  EXPECT_EQ(rejected_again.reject_reason(), "当天未见到在岗");
  s = Confirm(env_.west_staff, post, second);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "WRONG_STATE");
  EXPECT_EQ(Count("awards"), "1");
  EXPECT_EQ(Balance(a.id), 5);
  // The confirmation, and only it, announced: the claim approved earlier and the shift.
  EXPECT_EQ(env_.Sql("SELECT string_agg(type || ' ' || subject, ', ' ORDER BY seq) FROM "
                     "outbox_events"),
            absl::StrCat("civicpoints.activity.v1.post_claim_decided post-claims/", a.claim,
                         ", civicpoints.activity.v1.shift_confirmed duty-shifts/", first));
}

TEST_F(PostTest, ShiftPointsFollowTheRulesTheCapsAndTheRidersHome) {
  // The street pays 8 for a grid monitor's shift; the rider may earn from two shifts a day (the
  // city default).
  v1::UpdatePointsRulesRequest rules;
  rules.set_org_id(env_.street);
  auto* e = rules.mutable_rules()->add_post_shift_points();
  e->set_post_kind(v1::POST_KIND_MOBILE_GRID_MONITOR);
  e->set_points(8);
  v1::UpdatePointsRulesResponse updated;
  ASSERT_TRUE(
      env_.stub().UpdatePointsRules(env_.With(env_.street_staff).get(), rules, &updated).ok());
  const std::string post = MakePost();
  const std::string helper_post = MakePost(2, env_.west, v1::POST_KIND_ELDERLY_HELPER);
  Holder a = OnPost(post);
  Holder b = OnPost(helper_post);
  std::vector<std::string> shifts;
  for (int i = 0; i < 3; ++i) shifts.push_back(LogOk(a.token, post, Yesterday(3 * i)));
  int64_t total = 0;
  std::vector<v1::Award> awards;
  for (const std::string& shift : shifts) {
    v1::DutyShift confirmed;
    ASSERT_TRUE(Confirm(env_.west_staff, post, shift, &confirmed).ok());
    awards.push_back(confirmed.award());
    total += confirmed.award().points();
  }
  EXPECT_EQ(awards[0].points(), 8);
  EXPECT_EQ(awards[0].rule_org_id(), env_.street);
  EXPECT_EQ(awards[1].points(), 8);
  EXPECT_EQ(awards[2].points(), 0);  // the third shift of the day
  EXPECT_EQ(awards[2].points_before_cap(), 8);
  EXPECT_EQ(awards[2].status(), v1::AWARD_STATUS_CAPPED);
  EXPECT_EQ(total, 16);

  // B moves home to 工农路 after logging: the award counts there, priced where the duty was done.
  const std::string shift = LogOk(b.token, helper_post, Yesterday(0));
  identity::v1::GetCheckInCodeRequest code_req;
  code_req.set_org_id(env_.gongnong);
  identity::v1::GetCheckInCodeResponse code;
  ASSERT_TRUE(env_.identity()
                  .stub()
                  .GetCheckInCode(env_.With(env_.identity().admin_token()).get(), code_req, &code)
                  .ok());
  identity::v1::CheckInWithCodeRequest move;
  move.set_idempotency_key("move-home");
  move.set_code(code.code().code());
  identity::v1::CheckInWithCodeResponse moved;
  grpc::Status s = env_.identity().stub().CheckInWithCode(env_.With(b.token).get(), move, &moved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::DutyShift confirmed;
  ASSERT_TRUE(Confirm(env_.west_staff, helper_post, shift, &confirmed).ok());
  EXPECT_EQ(confirmed.award().points(), 5);
  EXPECT_EQ(confirmed.award().rule_org_id(), "city");
  EXPECT_EQ(confirmed.award().rider_org_path().community_id(), env_.gongnong);
  EXPECT_EQ(confirmed.org_path().community_id(), env_.west);

  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(10)));
  EXPECT_EQ(Balance(a.id), 16);
  EXPECT_EQ(Balance(b.id), 5);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM awards WHERE status = 2"), "3");
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.entries"), 3);
}

TEST_F(PostTest, ShiftListsServeTheReviewQueueAndTheRider) {
  const std::string post = MakePost();
  const std::string gongnong_post = MakePost(2, env_.gongnong);
  Holder a = OnPost(post);
  Holder b = OnPost(post);
  auto [g_id, g] = env_.Rider(env_.gongnong);
  v1::ClaimPostResponse g_claim;
  ASSERT_TRUE(Claim(g, gongnong_post, &g_claim).ok());
  ASSERT_TRUE(Approve(env_.gongnong_staff, gongnong_post, g_claim.claim().claim_id()).ok());
  const std::string a1 = LogOk(a.token, post, Yesterday(0));
  const std::string a2 = LogOk(a.token, post, Yesterday(3));
  const std::string b1 = LogOk(b.token, post, Yesterday(1));
  const std::string g1 = LogOk(g, gongnong_post, Yesterday(0));
  ASSERT_TRUE(Confirm(env_.west_staff, post, a1).ok());

  auto list = [&](const std::string& token, const v1::ListDutyShiftsRequest& req,
                  v1::ListDutyShiftsResponse* out) {
    return env_.stub().ListDutyShifts(env_.With(token).get(), req, out);
  };
  auto ids = [](const v1::ListDutyShiftsResponse& r) {
    std::vector<std::string> out;
    for (const auto& s : r.shifts()) out.push_back(s.shift_id());
    return out;
  };
  using V = std::vector<std::string>;
  // One post, newest start first, with the award of the confirmed one.
  v1::ListDutyShiftsRequest req;
  req.set_post_id(post);
  v1::ListDutyShiftsResponse listed;
  ASSERT_TRUE(list(env_.west_staff, req, &listed).ok());
  EXPECT_EQ(ids(listed), (V{a2, b1, a1}));
  ASSERT_TRUE(listed.shifts(2).has_award());
  EXPECT_EQ(listed.shifts(2).award().points(), 5);
  // The review queue: submitted ones.
  req.set_status(v1::DUTY_SHIFT_STATUS_SUBMITTED);
  ASSERT_TRUE(list(env_.west_staff, req, &listed).ok());
  EXPECT_EQ(ids(listed), (V{a2, b1}));
  req.clear_status();
  // A time range: [yesterday 10:30, yesterday 13:00).
  SetTime(req.mutable_time_range()->mutable_start_time(), Us(Yesterday(0) + absl::Minutes(30)));
  SetTime(req.mutable_time_range()->mutable_end_time(), Us(Yesterday(3)));
  ASSERT_TRUE(list(env_.west_staff, req, &listed).ok());
  EXPECT_EQ(ids(listed), (V{b1}));
  v1::ListDutyShiftsRequest inverted = req;
  SetTime(inverted.mutable_time_range()->mutable_start_time(), Us(Yesterday(5)));
  EXPECT_EQ(list(env_.west_staff, inverted, &listed).error_code(), StatusCode::INVALID_ARGUMENT);
  req.clear_time_range();
  // Page by page.
  req.set_page_size(2);
  ASSERT_TRUE(list(env_.west_staff, req, &listed).ok());
  EXPECT_EQ(ids(listed), (V{a2, b1}));
  ASSERT_FALSE(listed.next_page_token().empty());
  req.set_page_token(listed.next_page_token());
  ASSERT_TRUE(list(env_.west_staff, req, &listed).ok());
  EXPECT_EQ(ids(listed), (V{a1}));
  EXPECT_TRUE(listed.next_page_token().empty());
  v1::ListDutyShiftsRequest swapped = req;
  swapped.set_status(v1::DUTY_SHIFT_STATUS_CONFIRMED);
  EXPECT_EQ(list(env_.west_staff, swapped, &listed).error_code(), StatusCode::INVALID_ARGUMENT);

  // A rider sees only their own, on a post or across posts, whatever rider_id says.
  v1::ListDutyShiftsRequest mine;
  mine.set_post_id(post);
  mine.set_rider_id(b.id);
  ASSERT_TRUE(list(a.token, mine, &listed).ok());
  EXPECT_EQ(ids(listed), (V{a2, a1}));
  mine.set_post_id("-");
  mine.clear_rider_id();
  ASSERT_TRUE(list(b.token, mine, &listed).ok());
  EXPECT_EQ(ids(listed), (V{b1}));
  ASSERT_TRUE(list(g, mine, &listed).ok());
  EXPECT_EQ(ids(listed), (V{g1}));

  // Staff across a subtree, or one rider's within their scope.
  v1::ListDutyShiftsRequest subtree;
  subtree.set_post_id("-");
  subtree.set_org_id(env_.street);
  ASSERT_TRUE(list(env_.street_staff, subtree, &listed).ok());
  EXPECT_EQ(listed.shifts_size(), 4);
  ASSERT_TRUE(list(env_.identity().admin_token(), subtree, &listed).ok());
  EXPECT_EQ(listed.shifts_size(), 4);
  subtree.set_org_id(env_.gongnong);
  ASSERT_TRUE(list(env_.gongnong_staff, subtree, &listed).ok());
  EXPECT_EQ(ids(listed), (V{g1}));
  v1::ListDutyShiftsRequest by_rider;
  by_rider.set_post_id("-");
  by_rider.set_rider_id(g_id);
  ASSERT_TRUE(list(env_.gongnong_staff, by_rider, &listed).ok());
  EXPECT_EQ(ids(listed), (V{g1}));
  ASSERT_TRUE(list(env_.west_staff, by_rider, &listed).ok());
  EXPECT_EQ(listed.shifts_size(), 0);  // outside their scope
  ASSERT_TRUE(list(env_.street_staff, by_rider, &listed).ok());
  EXPECT_EQ(ids(listed), (V{g1}));

  // Refusals.
  v1::ListDutyShiftsRequest bad;
  EXPECT_EQ(list(env_.west_staff, bad, &listed).error_code(), StatusCode::INVALID_ARGUMENT);
  bad.set_post_id("-");
  EXPECT_EQ(list(env_.west_staff, bad, &listed).error_code(), StatusCode::INVALID_ARGUMENT);
  bad.set_post_id("post_nope");
  EXPECT_EQ(list(env_.west_staff, bad, &listed).error_code(), StatusCode::NOT_FOUND);
  bad.set_post_id(post);
  EXPECT_EQ(list(env_.gongnong_staff, bad, &listed).error_code(), StatusCode::PERMISSION_DENIED);
  bad.set_page_token("garbage");
  EXPECT_EQ(list(env_.west_staff, bad, &listed).error_code(), StatusCode::INVALID_ARGUMENT);
  bad = subtree;
  bad.set_org_id("org_nowhere");
  EXPECT_EQ(list(env_.street_staff, bad, &listed).error_code(), StatusCode::NOT_FOUND);
  bad.set_org_id(env_.west);
  EXPECT_EQ(list(env_.gongnong_staff, bad, &listed).error_code(), StatusCode::PERMISSION_DENIED);
}

TEST_F(PostTest, RacingClaimsShiftsAndConfirmationsKeepSeatsShiftsAndAwardsExact) {
  // Twenty riders race for five seats: five get one, the rest find the post full.
  constexpr int kRiders = 20, kSeats = 5;
  const std::string post = MakePost(kSeats);
  std::vector<std::string> tokens;
  for (int i = 0; i < kRiders; ++i) tokens.push_back(env_.Rider(env_.west).second);
  std::atomic<int> ok{0}, full{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kRiders; ++i) {
    threads.emplace_back([&, i] {
      grpc::Status s = Claim(tokens[i], post, nullptr, absl::StrCat("race-", i));
      if (s.ok()) ++ok;
      if (ReasonOf(s) == "POST_FULL") ++full;
    });
  }
  for (auto& t : threads) t.join();
  threads.clear();
  EXPECT_EQ(ok.load(), kSeats);
  EXPECT_EQ(full.load(), kRiders - kSeats);
  EXPECT_EQ(env_.Sql("SELECT seats_taken FROM posts"), std::to_string(kSeats));
  EXPECT_EQ(Count("post_claims"), std::to_string(kSeats));

  // One rider sends the same stretch of duty eight times at once under different keys: one shift.
  const std::string claim = env_.Sql("SELECT claim_id FROM post_claims LIMIT 1");
  const std::string rider = env_.Sql("SELECT rider_id FROM post_claims LIMIT 1");
  ASSERT_TRUE(Approve(env_.west_staff, post, claim).ok());
  std::string token;
  for (int i = 0; i < kRiders; ++i) {
    v1::GetPostResponse got;
    if (Get(tokens[i], post, &got).ok() && got.my_claim().claim_id() == claim) token = tokens[i];
  }
  ASSERT_FALSE(token.empty());
  constexpr int kCopies = 8;
  std::vector<v1::LogDutyShiftRequest> copies;
  for (int i = 0; i < kCopies; ++i) copies.push_back(Shift(post, Yesterday(0)));
  std::atomic<int> logged{0}, overlapped{0};
  for (int i = 0; i < kCopies; ++i) {
    threads.emplace_back([&, i] {
      grpc::Status s = Log(token, copies[i]);
      if (s.ok()) ++logged;
      if (ReasonOf(s) == "SHIFT_OVERLAP") ++overlapped;
    });
  }
  for (auto& t : threads) t.join();
  threads.clear();
  EXPECT_EQ(logged.load(), 1);
  EXPECT_EQ(overlapped.load(), kCopies - 1);
  ASSERT_EQ(Count("duty_shifts"), "1");

  // Staff confirm it eight times at once: one award, delivered once.
  const std::string shift = env_.Sql("SELECT shift_id FROM duty_shifts");
  std::atomic<int> confirmed{0};
  for (int i = 0; i < kCopies; ++i) {
    threads.emplace_back([&, i] {
      v1::DutyShift out;
      if (Confirm(i % 2 ? env_.west_staff : env_.street_staff, post, shift, &out).ok() &&
          out.award().idempotency_key() == "post-shift/" + shift && out.award().points() == 5) {
        ++confirmed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(confirmed.load(), kCopies);
  EXPECT_EQ(Count("awards"), "1");
  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(10)));
  EXPECT_EQ(Balance(rider), 5);
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.entries"), 1);
}

}  // namespace
}  // namespace civicpoints::activity
