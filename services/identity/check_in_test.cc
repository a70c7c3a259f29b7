// Community check-in: by the station's code, by request and approval, one home community with its
// history, rejections and cancellations, and staff confined to their own communities.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

class CheckInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    district_ = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
    street_ = env_.MakeOrg(district_, ORG_LEVEL_STREET, "qingyuan", "清远街道");
    west_ = env_.MakeOrg(street_, ORG_LEVEL_COMMUNITY, "qyxj", "清远西街社区");
    gongnong_ = env_.MakeOrg(street_, ORG_LEVEL_COMMUNITY, "gnl", "工农路社区");
    west_staff_ = env_.Staff("13900000021", common::v1::ROLE_COMMUNITY_STAFF, west_);
    gongnong_staff_ = env_.Staff("13900000022", common::v1::ROLE_COMMUNITY_STAFF, gongnong_);
    rider_ = env_.Register("13800138000", "小王").tokens().access_token();
  }

  std::string CodeOf(const std::string& community, const std::string& token) {
    v1::GetCheckInCodeRequest req;
    req.set_org_id(community);
    v1::GetCheckInCodeResponse resp;
    grpc::Status s = env_.stub().GetCheckInCode(env_.With(token).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.code().code();
  }

  grpc::Status WithCode(const std::string& key, const std::string& code,
                        v1::CheckInWithCodeResponse* resp) {
    v1::CheckInWithCodeRequest req;
    req.set_idempotency_key(key);
    req.set_code(code);
    return env_.stub().CheckInWithCode(env_.With(rider_).get(), req, resp);
  }

  grpc::Status Request(const std::string& key, const std::string& community,
                       v1::RequestCheckInResponse* resp) {
    v1::RequestCheckInRequest req;
    req.set_idempotency_key(key);
    req.set_community_id(community);
    req.set_note("我在附近送餐");
    return env_.stub().RequestCheckIn(env_.With(rider_).get(), req, resp);
  }

  IdentityTestEnv env_;
  std::string district_, street_, west_, gongnong_, west_staff_, gongnong_staff_, rider_;
};

TEST_F(CheckInTest, ACodeFromTheStationChecksTheRiderInAtOnceAndMovesTheirHome) {
  const std::string west_code = CodeOf(west_, west_staff_);
  EXPECT_EQ(CodeOf(west_, west_staff_), west_code);  // stable until rotated
  v1::CheckInWithCodeResponse first;
  grpc::Status s = WithCode("ci-1", "civicpoints:checkin:" + west_code, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(first.check_in().status(), v1::CHECK_IN_STATUS_ACTIVE);
  EXPECT_EQ(first.check_in().community_name(), "清远西街社区");
  EXPECT_EQ(first.check_in().path().street_id(), street_);
  EXPECT_FALSE(first.has_ended_check_in());
  // Same key again: the same answer, nothing new.
  v1::CheckInWithCodeResponse again;
  ASSERT_TRUE(WithCode("ci-1", west_code, &again).ok());
  EXPECT_EQ(again.check_in().check_in_id(), first.check_in().check_in_id());
  // Already home there.
  EXPECT_EQ(WithCode("ci-2", west_code, &again).error_code(), grpc::StatusCode::ALREADY_EXISTS);

  v1::CheckInWithCodeResponse moved;
  ASSERT_TRUE(WithCode("ci-3", CodeOf(gongnong_, gongnong_staff_), &moved).ok());
  EXPECT_EQ(moved.ended_check_in().check_in_id(), first.check_in().check_in_id());
  EXPECT_EQ(moved.ended_check_in().status(), v1::CHECK_IN_STATUS_ENDED);
  EXPECT_EQ(moved.ended_check_in().superseded_by_check_in_id(), moved.check_in().check_in_id());

  v1::ListMyCheckInsResponse mine;
  ASSERT_TRUE(env_.stub().ListMyCheckIns(env_.With(rider_).get(), {}, &mine).ok());
  ASSERT_EQ(mine.check_ins_size(), 2);
  EXPECT_EQ(mine.check_ins(0).community_id(), gongnong_);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM check_ins WHERE status = 2"), "1");
}

TEST_F(CheckInTest, WrongCodesAreNotFoundAndThrottled) {
  v1::CheckInWithCodeResponse resp;
  EXPECT_EQ(WithCode("bad-0", "short", &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(WithCode("bad-" + std::to_string(i + 1), "ZZZZZZZZ", &resp).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_EQ(WithCode("bad-11", CodeOf(west_, west_staff_), &resp).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(CheckInTest, ARotatedCodeKeepsWorkingForTenMinutesThenStops) {
  const std::string old_code = CodeOf(west_, west_staff_);
  v1::RotateCheckInCodeRequest rotate;
  rotate.set_org_id(west_);
  rotate.set_idempotency_key("rot-1");
  v1::RotateCheckInCodeResponse rotated;
  ASSERT_TRUE(env_.stub().RotateCheckInCode(env_.With(west_staff_).get(), rotate, &rotated).ok());
  EXPECT_NE(rotated.code().code(), old_code);
  EXPECT_EQ(CodeOf(west_, west_staff_), rotated.code().code());
  env_.Sql(
      "UPDATE check_in_codes SET replaced_at = now() - interval '11 minutes' "
      "WHERE replaced_at IS NOT NULL");
  v1::CheckInWithCodeResponse resp;
  EXPECT_EQ(WithCode("old", old_code, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(WithCode("new", rotated.code().code(), &resp).ok());
  // Another community's staff cannot rotate this one's code.
  rotate.set_idempotency_key("rot-2");
  EXPECT_EQ(env_.stub()
                .RotateCheckInCode(env_.With(gongnong_staff_).get(), rotate, &rotated)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CheckInTest, ARequestIsApprovedOnlyByStaffOfThatCommunity) {
  v1::RequestCheckInResponse requested;
  ASSERT_TRUE(Request("req-1", west_, &requested).ok());
  EXPECT_EQ(requested.check_in().status(), v1::CHECK_IN_STATUS_PENDING);
  v1::RequestCheckInResponse second;
  EXPECT_EQ(Request("req-2", gongnong_, &second).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // The queue of the right community shows it; the other community's does not.
  v1::ListCheckInsRequest queue;
  queue.set_org_id(west_);
  queue.add_statuses(v1::CHECK_IN_STATUS_PENDING);
  v1::ListCheckInsResponse listed;
  ASSERT_TRUE(env_.stub().ListCheckIns(env_.With(west_staff_).get(), queue, &listed).ok());
  ASSERT_EQ(listed.check_ins_size(), 1);
  EXPECT_EQ(listed.check_ins(0).rider_phone_masked(), "138****8000");
  queue.set_org_id(west_);
  EXPECT_EQ(env_.stub().ListCheckIns(env_.With(gongnong_staff_).get(), queue, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  v1::ApproveCheckInRequest approve;
  approve.set_check_in_id(requested.check_in().check_in_id());
  v1::ApproveCheckInResponse approved;
  EXPECT_EQ(
      env_.stub().ApproveCheckIn(env_.With(gongnong_staff_).get(), approve, &approved).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(env_.Sql("SELECT status FROM check_ins"), "1");
  ASSERT_TRUE(env_.stub().ApproveCheckIn(env_.With(west_staff_).get(), approve, &approved).ok());
  EXPECT_EQ(approved.check_in().status(), v1::CHECK_IN_STATUS_ACTIVE);
  EXPECT_FALSE(approved.check_in().decided_by_person_id().empty());
  // Approving again returns it unchanged; rejecting it now is refused.
  ASSERT_TRUE(env_.stub().ApproveCheckIn(env_.With(west_staff_).get(), approve, &approved).ok());
  v1::RejectCheckInRequest reject;
  reject.set_check_in_id(approve.check_in_id());
  reject.set_reason("重复");
  v1::RejectCheckInResponse rejected;
  EXPECT_EQ(env_.stub().RejectCheckIn(env_.With(west_staff_).get(), reject, &rejected).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Street staff above both communities see it too.
  const std::string street_staff =
      env_.Staff("13900000023", common::v1::ROLE_STREET_STAFF, street_);
  v1::GetCheckInRequest get;
  get.set_check_in_id(approve.check_in_id());
  v1::GetCheckInResponse got;
  EXPECT_TRUE(env_.stub().GetCheckIn(env_.With(street_staff).get(), get, &got).ok());
  EXPECT_TRUE(env_.stub().GetCheckIn(env_.With(rider_).get(), get, &got).ok());
  const std::string other_rider = env_.Register("13800138001", "小赵").tokens().access_token();
  EXPECT_EQ(env_.stub().GetCheckIn(env_.With(other_rider).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(CheckInTest, RejectedAndCancelledRequestsStayInTheHistory) {
  v1::RequestCheckInResponse requested;
  ASSERT_TRUE(Request("req-1", west_, &requested).ok());
  v1::RejectCheckInRequest reject;
  reject.set_check_in_id(requested.check_in().check_in_id());
  v1::RejectCheckInResponse rejected;
  EXPECT_EQ(env_.stub().RejectCheckIn(env_.With(west_staff_).get(), reject, &rejected).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // a reason is required
  reject.set_reason("请到站点扫码报到");
  ASSERT_TRUE(env_.stub().RejectCheckIn(env_.With(west_staff_).get(), reject, &rejected).ok());
  EXPECT_EQ(rejected.check_in().reject_reason(), "请到站点扫码报到");

  ASSERT_TRUE(Request("req-2", gongnong_, &requested).ok());
  v1::CancelCheckInRequestRequest cancel;
  cancel.set_check_in_id(requested.check_in().check_in_id());
  v1::CancelCheckInRequestResponse cancelled;
  ASSERT_TRUE(env_.stub().CancelCheckInRequest(env_.With(rider_).get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.check_in().status(), v1::CHECK_IN_STATUS_CANCELLED);
  ASSERT_TRUE(env_.stub().CancelCheckInRequest(env_.With(rider_).get(), cancel, &cancelled).ok());

  v1::ListMyCheckInsRequest page;
  page.set_page_size(1);
  v1::ListMyCheckInsResponse first, second;
  ASSERT_TRUE(env_.stub().ListMyCheckIns(env_.With(rider_).get(), page, &first).ok());
  ASSERT_EQ(first.check_ins_size(), 1);
  EXPECT_EQ(first.check_ins(0).status(), v1::CHECK_IN_STATUS_CANCELLED);
  page.set_page_token(first.next_page_token());
  ASSERT_TRUE(env_.stub().ListMyCheckIns(env_.With(rider_).get(), page, &second).ok());
  ASSERT_EQ(second.check_ins_size(), 1);
  EXPECT_EQ(second.check_ins(0).status(), v1::CHECK_IN_STATUS_REJECTED);
  EXPECT_TRUE(second.next_page_token().empty());
}

TEST_F(CheckInTest, RetiredCommunitiesTakeNoCheckInsAndBadRequestsAreRefused) {
  v1::RequestCheckInResponse resp;
  EXPECT_EQ(Request("r1", street_, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Request("r2", "c_nowhere", &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::RequestCheckInRequest long_note;
  long_note.set_idempotency_key("r3");
  long_note.set_community_id(west_);
  long_note.set_note(std::string(201, 'x'));
  grpc::Status s = env_.stub().RequestCheckIn(env_.With(rider_).get(), long_note, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("note"), std::string::npos);

  const std::string code = CodeOf(gongnong_, gongnong_staff_);
  v1::RetireOrgNodeRequest retire;
  retire.set_org_id(gongnong_);
  v1::RetireOrgNodeResponse retired;
  ASSERT_TRUE(
      env_.stub().RetireOrgNode(env_.With(env_.admin_token()).get(), retire, &retired).ok());
  EXPECT_EQ(Request("r4", gongnong_, &resp).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::CheckInWithCodeResponse with_code;
  EXPECT_EQ(WithCode("r5", code, &with_code).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM check_ins"), "0");
}

TEST_F(CheckInTest, RegistrationWithAStationCodeChecksInInTheSameStep) {
  const std::string code = CodeOf(west_, west_staff_);
  v1::RegisterRiderResponse reg = env_.Register("13800138009", "小孙", code);
  EXPECT_EQ(reg.check_in().community_id(), west_);
  EXPECT_EQ(reg.person().rider().home_community().community_id(), west_);
  EXPECT_EQ(reg.person().rider().origin_community_id(), west_);
  // Announced in that order, at the community, naming the person and nothing personal.
  const std::string person = reg.person().person_id();
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT string_agg(type || ' ' || community_id, ', ' ORDER BY "
                                  "seq) FROM outbox_events WHERE subject = 'people/",
                                  person, "'")),
            absl::StrCat("civicpoints.identity.v1.rider_registered ", west_,
                         ", civicpoints.identity.v1.rider_checked_in ", west_));
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM outbox_events WHERE "
                     "position(convert_to('13800138009', 'UTF8') IN data) > 0"),
            "0");
}

}  // namespace
}  // namespace civicpoints::identity
