// The story of SEED-STORY.md end to end, against the running suite (ctest fixture cp_suite) and
// only through the gateway, once over gRPC and once over REST/JSON: the admin builds a street, its
// staff open a rider station, a governance post and an activity; a rider registers, checks in at
// the community, claims the post, enrols, checks in with the rotating code inside the geofence, is
// confirmed, sees the points arrive in the ledger and overtakes a rider who reported a problem in
// the ranking, redeems a gift in an exchange window and picks it up at the station. On the way,
// the refusals a real user meets.
//
// An activity must start some time after it is created (10 minutes in production) and attendance
// is confirmed from its start: the fixture shortens that lead to seconds
// (CP_ACTIVITY_MIN_START_LEAD), and the test waits for the start. Every step is a public call.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/activity_service.pb.h"
#include "civicpoints/app/v1/app_service.pb.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "civicpoints/ledger/v1/ledger_service.pb.h"
#include "civicpoints/rewards/v1/rewards_service.pb.h"
#include "common/base/geo_datum.h"
#include "tests/e2e/face.h"
#include "tests/e2e/suite_client.h"

namespace civicpoints::e2e {
namespace {

namespace gp = google::protobuf;
using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;
using gp::util::TimeUtil;
using grpc::StatusCode;

const std::string kIdentity = "civicpoints.identity.v1.IdentityService.";
const std::string kApp = "civicpoints.app.v1.AppService.";
const std::string kActivity = "civicpoints.activity.v1.ActivityService.";
const std::string kLedger = "civicpoints.ledger.v1.LedgerService.";
const std::string kRewards = "civicpoints.rewards.v1.RewardsService.";

// 清远西街 in 大同: the station, a phone 50 m from it and one 2 km away.
constexpr double kLat = 40.0937, kLon = 113.2956;
constexpr double kNearLat = 40.0941, kFarLat = 40.1117;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

class StoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string grpc_addr = Env("CP_SUITE_GATEWAY_ADDR");
    const std::string http_url = Env("CP_SUITE_HTTP_URL");
    ASSERT_FALSE(grpc_addr.empty() || http_url.empty())
        << "run under ctest (fixture cp_suite sets CP_SUITE_*)";
    face_ = GetParam() == "grpc" ? MakeGrpcFace(grpc_addr) : MakeRestFace(http_url);
    // Names, codes and phone numbers of this run: the suite is shared with other tests.
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    run_ = absl::StrCat(GetParam(), now % 1000000);
    phone_base_ = (now % 10000) * 1000 + (GetParam() == "grpc" ? 0 : 500);
  }

  // Calls `method` of `service` and expects OK.
  template <typename Resp, typename Req>
  Resp Ok(const std::string& method, const std::string& token, const Req& req) {
    Resp resp;
    grpc::Status s = face_->Call(method, token, req, &resp);
    EXPECT_TRUE(s.ok()) << face_->name() << " " << method << ": " << s.error_code() << " "
                        << s.error_message();
    return resp;
  }

  // Calls `method` and returns its status (the response is dropped).
  template <typename Resp, typename Req>
  grpc::Status Try(const std::string& method, const std::string& token, const Req& req) {
    Resp resp;
    return face_->Call(method, token, req, &resp);
  }

  // Expects the last call to have been refused with `code` and, when given, the ErrorInfo
  // `reason`; on REST also the matching HTTP status.
  // Every refusal also carries its sentence for the person, in the language asked for.
  void ExpectRefused(const grpc::Status& s, StatusCode code, const std::string& reason = "") {
    EXPECT_EQ(s.error_code(), code) << face_->name() << ": " << s.error_message();
    if (!reason.empty()) {
      EXPECT_EQ(face_->last_reason(), reason) << s.error_message();
    }
    const LocalizedText localized = face_->last_localized();
    EXPECT_EQ(localized.locale, locale_) << s.error_message();
    EXPECT_FALSE(localized.message.empty()) << s.error_message();
    if (face_->name() == "rest") {
      const std::map<StatusCode, int> http = {
          {StatusCode::INVALID_ARGUMENT, 400},    {StatusCode::UNAUTHENTICATED, 401},
          {StatusCode::PERMISSION_DENIED, 403},   {StatusCode::NOT_FOUND, 404},
          {StatusCode::FAILED_PRECONDITION, 400}, {StatusCode::RESOURCE_EXHAUSTED, 429}};
      EXPECT_EQ(face_->last_http_status(), http.at(code));
    }
  }

  // Asks for `accept_language` from now on, expecting refusals' sentences in `locale`.
  void SpeakTo(const std::string& accept_language, const std::string& locale) {
    face_->set_accept_language(accept_language);
    locale_ = locale;
  }

  std::string Key(const std::string& what) { return absl::StrCat(run_, "-", what); }
  // A phone number no other test of this run uses (158 + 8 digits).
  std::string Phone() {
    return absl::StrCat("158", absl::Dec(phone_base_ + phones_++, absl::kZeroPad8));
  }

  std::string Login(const std::string& phone, const std::string& password) {
    identity::v1::LoginRequest req;
    req.set_phone(phone);
    req.set_password(password);
    auto resp = Ok<identity::v1::LoginResponse>(kIdentity + "Login", "", req);
    return resp.tokens().access_token();
  }

  identity::v1::OrgNode MakeOrg(const std::string& parent, common::v1::OrgLevel level,
                                const std::string& code, const std::string& name) {
    identity::v1::CreateOrgNodeRequest req;
    req.set_parent_id(parent);
    req.set_level(level);
    req.set_code(Key(code));
    req.set_name(absl::StrCat(name, "·", run_));
    return Ok<identity::v1::CreateOrgNodeResponse>(kIdentity + "CreateOrgNode", admin_, req).node();
  }

  // A staff member holding `role` at `org`, signed in after the first-login password change.
  StaffMember MakeStaff(const std::string& name, common::v1::Role role, const std::string& org) {
    return e2e::MakeStaff(
        [&](const std::string& m, const std::string& token, const gp::Message& req,
            gp::Message* resp) { return face_->Call(m, token, req, resp); },
        admin_, Phone(), name, role, org, Key(""));
  }

  // The rider's available balance once it equals `want`, or the last one seen after 30 s: the
  // award reaches the ledger through activity's relay, asynchronously.
  ledger::v1::Account WaitForBalance(const std::string& rider, const std::string& token,
                                     int64_t want) {
    ledger::v1::GetBalanceRequest req;
    req.set_person_id(rider);
    ledger::v1::GetBalanceResponse resp;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      resp.Clear();
      grpc::Status s = face_->Call(kLedger + "GetBalance", token, req, &resp);
      if (s.ok() && resp.account().available() == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return resp.account();
  }

  ledger::v1::GetRankResponse Rank(const std::string& rider, const std::string& token,
                                   const std::string& community) {
    ledger::v1::GetRankRequest req;
    req.set_person_id(rider);
    req.mutable_scope()->set_level(ORG_LEVEL_COMMUNITY);
    req.mutable_scope()->set_org_id(community);
    req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
    return Ok<ledger::v1::GetRankResponse>(kLedger + "GetRank", token, req);
  }

  // The SMS code identity's log sender wrote last for `phone` ("" after 5 s without one).
  static std::string SmsCodeFromLog(const std::string& phone) {
    const std::string masked = absl::StrCat(phone.substr(0, 3), "****", phone.substr(7));
    const std::string path = SuiteSetting("CP_SUITE_RUN_DIR") + "/logs/identity.log";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream log(path);
      std::string line, code;
      while (std::getline(log, line)) {
        if (!absl::StrContains(line, "sms sent (log sender)") ||
            !absl::StrContains(line, absl::StrCat("\"phone\":\"", masked, "\""))) {
          continue;
        }
        const size_t at = line.find("\"code\":\"");
        if (at != std::string::npos) code = line.substr(at + 8, 6);
      }
      if (!code.empty()) return code;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
  }

  // The display name at `place` (0-based) of the top, once it is `want` or after 10 s: a name
  // reaches the ledger by identity's feed, which the ledger reads every second.
  // With `prefix`, once it starts with `want`.
  std::string TopName(const std::string& token, const ledger::v1::GetTopRankingRequest& req,
                      int place, const std::string& want, bool prefix = false) {
    std::string name;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto top = Ok<ledger::v1::GetTopRankingResponse>(kLedger + "GetTopRanking", token, req);
      if (top.entries_size() > place) name = top.entries(place).display_name();
      if (prefix ? absl::StartsWith(name, want) : name == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return name;
  }

  // Waits until `start` has passed (the activity's start: attendance is confirmed from then).
  static void WaitUntil(const gp::Timestamp& start) {
    while (TimeUtil::GetCurrentTime() < start + TimeUtil::MillisecondsToDuration(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  std::unique_ptr<Face> face_;
  // The language refusals' sentences come in: the default while no Accept-Language is sent.
  std::string locale_ = "zh-CN";
  std::string run_;
  int64_t phone_base_ = 0;
  int phones_ = 0;
  std::string admin_;
};

TEST_P(StoryTest, RiderEarnsPointsClimbsTheRankingAndPicksUpAGift) {
  // The city's first admin (the fixture already made the first-login password change).
  admin_ = Login(Env("CP_SUITE_ADMIN_PHONE"), Env("CP_SUITE_ADMIN_PASSWORD"));
  ASSERT_FALSE(admin_.empty());

  // The org tree: 平城区 / 清远街道 / 清远西街社区, with names unique to this run.
  const auto district = MakeOrg("root", ORG_LEVEL_DISTRICT, "pc", "平城区");
  const auto street = MakeOrg(district.org_id(), ORG_LEVEL_STREET, "qy", "清远街道");
  const auto west = MakeOrg(street.org_id(), ORG_LEVEL_COMMUNITY, "qyxj", "清远西街社区");
  ASSERT_FALSE(west.org_id().empty());
  EXPECT_EQ(west.path().street_id(), street.org_id());
  const StaffMember west_staff =
      MakeStaff("清远西街社工", common::v1::ROLE_COMMUNITY_STAFF, west.org_id());
  const StaffMember street_staff =
      MakeStaff("清远街道干部", common::v1::ROLE_STREET_STAFF, street.org_id());
  const StaffMember keeper = MakeStaff("驿站站长", common::v1::ROLE_STATION_KEEPER, west.org_id());
  ASSERT_FALSE(west_staff.token.empty() || street_staff.token.empty() || keeper.token.empty());

  // The rider station, kept by the keeper.
  activity::v1::CreatePlaceRequest place_req;
  activity::v1::Place* p = place_req.mutable_place();
  p->set_kind(activity::v1::PLACE_KIND_RIDER_STATION);
  p->set_name("清远西街小哥驿站");
  p->set_address("大同市平城区清远西街12号");
  p->mutable_location()->set_latitude(kLat);
  p->mutable_location()->set_longitude(kLon);
  p->set_community_id(west.org_id());
  p->mutable_opening_hours()->set_always_open(true);
  p->set_keeper_person_id(keeper.person_id);
  place_req.set_idempotency_key(Key("station"));
  const std::string station =
      Ok<activity::v1::CreatePlaceResponse>(kActivity + "CreatePlace", west_staff.token, place_req)
          .place()
          .place_id();
  ASSERT_FALSE(station.empty());

  // A governance post with two seats.
  activity::v1::CreatePostRequest post_req;
  post_req.mutable_post()->set_community_id(west.org_id());
  post_req.mutable_post()->set_kind(activity::v1::POST_KIND_MOBILE_GRID_MONITOR);
  post_req.mutable_post()->set_title("清远西街流动网格员");
  post_req.mutable_post()->set_seats_total(2);
  post_req.set_idempotency_key(Key("post"));
  const std::string post =
      Ok<activity::v1::CreatePostResponse>(kActivity + "CreatePost", west_staff.token, post_req)
          .post()
          .post_id();

  // The clean-up, starting in 12 seconds (the fixture's shortest lead is 5 s; check-in opens 30
  // minutes before the start).
  activity::v1::CreateActivityRequest act_req;
  activity::v1::Activity* a = act_req.mutable_activity();
  a->set_title("大西街一号小区环境整治");
  a->set_category(activity::v1::ACTIVITY_CATEGORY_ENVIRONMENTAL_CLEANUP);
  a->set_place_id(station);
  a->set_organiser_org_id(west.org_id());
  const gp::Timestamp start = TimeUtil::GetCurrentTime() + TimeUtil::SecondsToDuration(12);
  *a->mutable_start_time() = start;
  *a->mutable_end_time() = start + TimeUtil::HoursToDuration(2);
  a->set_capacity(30);
  act_req.set_idempotency_key(Key("activity"));
  const activity::v1::Activity cleanup =
      Ok<activity::v1::CreateActivityResponse>(kActivity + "CreateActivity", west_staff.token,
                                               act_req)
          .activity();
  ASSERT_FALSE(cleanup.activity_id().empty());
  const int64_t points = cleanup.effective_points();
  EXPECT_GT(points, 0);

  // A rider registers with the current privacy policy...
  auto policy = Ok<identity::v1::GetPrivacyPolicyResponse>(kIdentity + "GetPrivacyPolicy", "",
                                                           identity::v1::GetPrivacyPolicyRequest());
  identity::v1::RegisterRiderRequest reg;
  const std::string rider_phone = Phone();
  reg.set_idempotency_key(Key("register"));
  reg.set_phone(rider_phone);
  reg.set_password("Rider-pass-2026");
  reg.set_display_name("李师傅");
  reg.mutable_consent()->set_policy_version(policy.policy_version());
  for (const auto& purpose : policy.purposes())
    reg.mutable_consent()->add_purposes(purpose.purpose());
  auto registered = Ok<identity::v1::RegisterRiderResponse>(kIdentity + "RegisterRider", "", reg);
  const std::string rider = registered.person().person_id();
  ASSERT_FALSE(rider.empty() || registered.tokens().access_token().empty());

  // The rider forgets the password: a code by SMS (the suite's identity writes it to its log,
  // where this test reads it), a new password, and every earlier session ends.
  identity::v1::RequestSmsCodeRequest sms;
  sms.set_phone(rider_phone);
  EXPECT_EQ(Ok<identity::v1::RequestSmsCodeResponse>(kIdentity + "RequestSmsCode", "", sms)
                .expire_seconds(),
            300);
  const std::string sms_code = SmsCodeFromLog(rider_phone);
  ASSERT_EQ(sms_code.size(), 6u);
  identity::v1::ResetPasswordRequest reset;
  reset.set_idempotency_key(Key("reset"));
  reset.set_phone(rider_phone);
  reset.set_code(sms_code == "000000" ? "000001" : "000000");
  reset.set_new_password("Rider-pass-2027");
  ExpectRefused(Try<identity::v1::ResetPasswordResponse>(kIdentity + "ResetPassword", "", reset),
                StatusCode::UNAUTHENTICATED, "SMS_CODE_INVALID");
  reset.set_code(sms_code);
  const std::string rider_token =
      Ok<identity::v1::ResetPasswordResponse>(kIdentity + "ResetPassword", "", reset)
          .tokens()
          .access_token();
  identity::v1::RefreshTokenRequest old_session;
  old_session.set_refresh_token(registered.tokens().refresh_token());
  ExpectRefused(
      Try<identity::v1::RefreshTokenResponse>(kIdentity + "RefreshToken", "", old_session),
      StatusCode::UNAUTHENTICATED);

  // ...and checks in at 清远西街社区 with the code shown at its station.
  identity::v1::GetCheckInCodeRequest code_req;
  code_req.set_org_id(west.org_id());
  const std::string community_code =
      Ok<identity::v1::GetCheckInCodeResponse>(kIdentity + "GetCheckInCode", keeper.token, code_req)
          .code()
          .code();
  identity::v1::CheckInWithCodeRequest checkin;
  checkin.set_idempotency_key(Key("community-checkin"));
  checkin.set_code(community_code);
  auto checked_in = Ok<identity::v1::CheckInWithCodeResponse>(kIdentity + "CheckInWithCode",
                                                              rider_token, checkin);
  EXPECT_EQ(checked_in.check_in().community_id(), west.org_id());

  // The rider claims the post; the community's staff approve.
  activity::v1::ClaimPostRequest claim_req;
  claim_req.set_post_id(post);
  claim_req.set_note("我每天都在清远西街送餐");
  claim_req.set_idempotency_key(Key("claim"));
  auto claim = Ok<activity::v1::ClaimPostResponse>(kActivity + "ClaimPost", rider_token, claim_req);
  EXPECT_EQ(claim.claim().status(), activity::v1::POST_CLAIM_STATUS_PENDING);
  activity::v1::ApprovePostClaimRequest approve;
  approve.set_post_id(post);
  approve.set_claim_id(claim.claim().claim_id());
  EXPECT_EQ(Ok<activity::v1::ApprovePostClaimResponse>(kActivity + "ApprovePostClaim",
                                                       west_staff.token, approve)
                .claim()
                .status(),
            activity::v1::POST_CLAIM_STATUS_APPROVED);

  // Enrols in the clean-up.
  activity::v1::EnrolInActivityRequest enrol;
  enrol.set_activity_id(cleanup.activity_id());
  enrol.set_idempotency_key(Key("enrol"));
  EXPECT_EQ(
      Ok<activity::v1::EnrolInActivityResponse>(kActivity + "EnrolInActivity", rider_token, enrol)
          .enrolment()
          .status(),
      activity::v1::ENROLMENT_STATUS_ENROLLED);

  // Another rider, checked in at registration with the same code, already earned points for a
  // problem they reported and staff verified: they lead the community, our rider is unranked.
  identity::v1::RegisterRiderRequest reg2 = reg;
  reg2.set_idempotency_key(Key("register-2"));
  reg2.set_phone(Phone());
  reg2.set_display_name("张师傅");
  reg2.set_check_in_code(community_code);
  auto second = Ok<identity::v1::RegisterRiderResponse>(kIdentity + "RegisterRider", "", reg2);
  EXPECT_EQ(second.check_in().community_id(), west.org_id());
  activity::v1::SubmitServiceRecordRequest report;
  activity::v1::ServiceRecord* r = report.mutable_service_record();
  r->set_kind(activity::v1::SERVICE_RECORD_KIND_ROAD_OCCUPATION);
  r->set_description("清远西街菜市场门口占道经营，影响通行");
  // Each face's report at a spot of its own (about 70 m apart, and from the other tests' reports),
  // so each opens a case of its own rather than joining one of the same problem nearby.
  r->mutable_location()->set_latitude(kLat + (face_->name() == "rest" ? 0.0012 : 0.0006));
  r->mutable_location()->set_longitude(kLon);
  r->set_address("清远西街12号");
  r->set_community_id(west.org_id());
  report.set_idempotency_key(Key("report"));
  auto reported = Ok<activity::v1::SubmitServiceRecordResponse>(
      kActivity + "SubmitServiceRecord", second.tokens().access_token(), report);
  activity::v1::VerifyServiceRecordRequest verify;
  verify.set_service_record_id(reported.service_record().service_record_id());
  verify.set_note("已核实，感谢");
  const activity::v1::ServiceRecord verified_report =
      Ok<activity::v1::VerifyServiceRecordResponse>(kActivity + "VerifyServiceRecord",
                                                    west_staff.token, verify)
          .service_record();
  const int64_t second_points = verified_report.award().points();
  ASSERT_GT(second_points, 0);
  EXPECT_EQ(
      WaitForBalance(second.person().person_id(), second.tokens().access_token(), second_points)
          .available(),
      second_points);
  EXPECT_EQ(Rank(rider, rider_token, west.org_id()).entry().rank(), 0);

  // The rider's app labels its screens and errors from the catalogue: in Chinese when it says
  // nothing, in English when it asks; public, one version for both languages.
  const auto labels_zh =
      Ok<app::v1::ListLabelsResponse>(kApp + "ListLabels", "", app::v1::ListLabelsRequest());
  app::v1::ListLabelsRequest labels_req;
  labels_req.set_locale("en-GB");
  const auto labels_en = Ok<app::v1::ListLabelsResponse>(kApp + "ListLabels", "", labels_req);
  EXPECT_EQ(labels_zh.locale(), "zh-CN");
  EXPECT_EQ(labels_en.locale(), "en");
  EXPECT_EQ(labels_zh.version(), labels_en.version());
  EXPECT_EQ(labels_zh.enums_size(), labels_en.enums_size());
  // The label of the first value `matches` (enum, value) picks.
  const auto label_where = [](const app::v1::ListLabelsResponse& labels, const auto& matches) {
    for (const app::v1::EnumLabels& e : labels.enums()) {
      for (const app::v1::ValueLabel& v : e.values()) {
        if (matches(e, v)) return v.label();
      }
    }
    return std::string();
  };
  const auto label_of = [&](const app::v1::ListLabelsResponse& labels, const std::string& type,
                            const std::string& value) {
    return label_where(labels, [&](const app::v1::EnumLabels& e, const app::v1::ValueLabel& v) {
      return e.enum_name() == type && v.name() == value;
    });
  };
  const auto reason_label = [&](const app::v1::ListLabelsResponse& labels,
                                const std::string& domain, const std::string& reason) {
    return label_where(labels, [&](const app::v1::EnumLabels& e, const app::v1::ValueLabel& v) {
      return e.error_domain() == domain && v.reason() == reason;
    });
  };
  EXPECT_EQ(
      label_of(labels_zh, "civicpoints.activity.v1.PostKind", "POST_KIND_MOBILE_GRID_MONITOR"),
      "流动网格员");
  EXPECT_EQ(label_of(labels_en, "civicpoints.activity.v1.ServiceRecordKind",
                     "SERVICE_RECORD_KIND_GRID_PATROL"),
            "Grid patrol");
  for (const app::v1::ListLabelsResponse* labels : {&labels_zh, &labels_en}) {
    for (const app::v1::EnumLabels& e : labels->enums()) {
      for (const app::v1::ValueLabel& v : e.values()) {
        EXPECT_FALSE(v.label().empty() || v.label() == v.name())
            << e.enum_name() << " " << v.name();
      }
    }
  }
  const std::string code_wrong_zh =
      reason_label(labels_zh, "activity.civicpoints", "CHECK_IN_CODE_WRONG");
  const std::string geofence_en =
      reason_label(labels_en, "activity.civicpoints", "OUTSIDE_GEOFENCE");
  ASSERT_FALSE(code_wrong_zh.empty() || geofence_en.empty());
  SpeakTo("fr-FR, en;q=0.8, zh;q=0.5", "en");
  EXPECT_EQ(Ok<app::v1::ListLabelsResponse>(kApp + "ListLabels", "", app::v1::ListLabelsRequest())
                .locale(),
            "en");
  SpeakTo("", "zh-CN");
  labels_req.set_locale("fr");
  ExpectRefused(Try<app::v1::ListLabelsResponse>(kApp + "ListLabels", "", labels_req),
                StatusCode::INVALID_ARGUMENT);

  // At the activity: the staff device shows the rotating code; the rider types it in.
  activity::v1::GetCheckInCodeRequest act_code_req;
  act_code_req.set_activity_id(cleanup.activity_id());
  const std::string code = Ok<activity::v1::GetCheckInCodeResponse>(kActivity + "GetCheckInCode",
                                                                    west_staff.token, act_code_req)
                               .code();
  ASSERT_EQ(code.size(), 6u);
  auto check_in = [&](const std::string& c, double lat, const std::string& key, double lon = kLon,
                      common::v1::GeoDatum datum = common::v1::GEO_DATUM_UNSPECIFIED) {
    activity::v1::CheckInToActivityRequest req;
    req.set_activity_id(cleanup.activity_id());
    req.set_code(c);
    req.mutable_location()->set_latitude(lat);
    req.mutable_location()->set_longitude(lon);
    req.mutable_location()->set_datum(datum);
    req.set_location_accuracy_meters(10);
    req.set_idempotency_key(Key(key));
    activity::v1::CheckInToActivityResponse resp;
    grpc::Status s = face_->Call(kActivity + "CheckInToActivity", rider_token, req, &resp);
    return std::make_pair(s, resp);
  };
  // A mistyped code, then the right code from 2 km away: both refused.
  std::string wrong = code;
  wrong[0] = static_cast<char>('0' + (wrong[0] - '0' + 5) % 10);
  ExpectRefused(check_in(wrong, kNearLat, "checkin-wrong").first, StatusCode::INVALID_ARGUMENT,
                "CHECK_IN_CODE_WRONG");
  EXPECT_EQ(face_->last_localized().message, code_wrong_zh);
  SpeakTo("en-GB,en;q=0.9,zh-CN;q=0.8", "en");  // a phone set to English
  ExpectRefused(check_in(code, kFarLat, "checkin-far").first, StatusCode::FAILED_PRECONDITION,
                "OUTSIDE_GEOFENCE");
  EXPECT_EQ(face_->last_localized().message, geofence_en);
  SpeakTo("", "zh-CN");
  // The right code at the station, from a phone whose map reports GCJ-02 (Amap, Tencent): the
  // same spot is hundreds of metres off in WGS-84, so taken as WGS-84 it is outside the geofence,
  // and with its datum named it is where the rider stands.
  const geo::LatLon gcj = geo::Wgs84ToGcj02({kNearLat, kLon});
  grpc::Status unnamed = check_in(code, gcj.lat, "checkin-gcj-unnamed", gcj.lon).first;
  ExpectRefused(unnamed, StatusCode::FAILED_PRECONDITION, "OUTSIDE_GEOFENCE");
  EXPECT_NE(unnamed.error_message().find(" m from "), std::string::npos) << unnamed.error_message();
  ExpectRefused(
      check_in(code, gcj.lat, "checkin-bad-datum", gcj.lon, static_cast<common::v1::GeoDatum>(9))
          .first,
      StatusCode::INVALID_ARGUMENT, "COORDINATES_OUT_OF_RANGE");
  auto [checkin_status, checkin_resp] =
      check_in(code, gcj.lat, "checkin", gcj.lon, common::v1::GEO_DATUM_GCJ02);
  ASSERT_TRUE(checkin_status.ok()) << checkin_status.error_message();
  EXPECT_EQ(checkin_resp.enrolment().status(), activity::v1::ENROLMENT_STATUS_CHECKED_IN);
  EXPECT_NEAR(checkin_resp.distance_meters(), 44, 2) << "kNearLat is 0.0004° (44 m) north";
  EXPECT_GT(checkin_resp.geofence_radius_meters(), checkin_resp.distance_meters());

  // The activity has begun; staff confirm everyone checked in.
  WaitUntil(cleanup.start_time());
  activity::v1::ConfirmAttendanceRequest confirm;
  confirm.set_activity_id(cleanup.activity_id());
  confirm.set_all_checked_in(true);
  // A rider cannot confirm their own attendance: the method is for staff.
  grpc::Status refused = Try<activity::v1::ConfirmAttendanceResponse>(
      kActivity + "ConfirmAttendance", rider_token, confirm);
  ExpectRefused(refused, StatusCode::PERMISSION_DENIED);
  auto confirmed = Ok<activity::v1::ConfirmAttendanceResponse>(kActivity + "ConfirmAttendance",
                                                               west_staff.token, confirm);
  ASSERT_EQ(confirmed.confirmed_size(), 1);
  EXPECT_EQ(confirmed.confirmed(0).rider_id(), rider);

  // The award reaches the ledger; the rider now leads the community.
  ledger::v1::Account account = WaitForBalance(rider, rider_token, points);
  EXPECT_EQ(account.available(), points);
  EXPECT_EQ(account.lifetime_earned(), points);
  EXPECT_EQ(account.org_path().community_id(), west.org_id());
  ASSERT_GT(points, second_points);
  ledger::v1::GetRankResponse rank = Rank(rider, rider_token, west.org_id());
  EXPECT_EQ(rank.entry().rank(), 1);
  EXPECT_EQ(rank.entry().score(), points);
  EXPECT_EQ(rank.total_ranked(), 2);
  ledger::v1::GetTopRankingRequest top_req;
  top_req.mutable_scope()->set_level(ORG_LEVEL_STREET);
  top_req.mutable_scope()->set_org_id(street.org_id());
  top_req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  top_req.set_top_n(15);
  auto top =
      Ok<ledger::v1::GetTopRankingResponse>(kLedger + "GetTopRanking", street_staff.token, top_req);
  ASSERT_EQ(top.entries_size(), 2);
  EXPECT_EQ(top.entries(0).person_id(), rider);
  EXPECT_EQ(top.entries(0).score(), points);
  EXPECT_EQ(top.entries(1).person_id(), second.person().person_id());
  EXPECT_EQ(top.entries(1).rank(), 2);

  // The leaderboard names riders as they chose: masked by default. Our rider takes a nickname,
  // and the rider app, reading the board as the rider, shows it within seconds.
  EXPECT_EQ(TopName(rider_token, top_req, 0, "李*傅"), "李*傅");
  EXPECT_EQ(TopName(rider_token, top_req, 1, "张*傅"), "张*傅");
  identity::v1::UpdateMyRiderProfileRequest nick;
  nick.set_ranking_name_choice(identity::v1::RANKING_NAME_CHOICE_NICKNAME);
  nick.set_nickname("清远飞毛腿");
  nick.mutable_update_mask()->add_paths("ranking_name_choice");
  nick.mutable_update_mask()->add_paths("nickname");
  EXPECT_EQ(Ok<identity::v1::UpdateMyRiderProfileResponse>(kIdentity + "UpdateMyRiderProfile",
                                                           rider_token, nick)
                .person()
                .rider()
                .ranking_name(),
            "清远飞毛腿");
  EXPECT_EQ(TopName(rider_token, top_req, 0, "清远飞毛腿"), "清远飞毛腿");
  nick.set_nickname(std::string(13, 'x'));  // too long: refused, naming the field
  const grpc::Status long_nick = Try<identity::v1::UpdateMyRiderProfileResponse>(
      kIdentity + "UpdateMyRiderProfile", rider_token, nick);
  ExpectRefused(long_nick, StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(long_nick.error_message(), "nickname:"))
      << long_nick.error_message();

  // No token: refused before anything else.
  ledger::v1::GetBalanceRequest balance_req;
  balance_req.set_person_id(rider);
  ExpectRefused(Try<ledger::v1::GetBalanceResponse>(kLedger + "GetBalance", "", balance_req),
                StatusCode::UNAUTHENTICATED);

  // The street's gifts, stocked at the station.
  auto make_gift = [&](const std::string& name, int64_t cost) {
    rewards::v1::CreateGiftRequest req;
    req.set_name(name);
    req.set_category(rewards::v1::GIFT_CATEGORY_DAILY_NECESSITIES);
    req.set_points_cost(cost);
    req.set_owner_org_id(street.org_id());
    req.set_idempotency_key(Key("gift-" + std::to_string(cost)));
    const std::string gift =
        Ok<rewards::v1::CreateGiftResponse>(kRewards + "CreateGift", street_staff.token, req)
            .gift()
            .gift_id();
    rewards::v1::AddStationStockRequest stock;
    stock.set_station_id(station);
    stock.set_gift_id(gift);
    stock.set_quantity(5);
    stock.set_reason("街道办配送");
    stock.set_idempotency_key(Key("stock-" + std::to_string(cost)));
    Ok<rewards::v1::AddStationStockResponse>(kRewards + "AddStationStock", street_staff.token,
                                             stock);
    return gift;
  };
  const int64_t cost = points - 2;
  const std::string towel = make_gift("毛巾", cost);
  const std::string helmet = make_gift("头盔", points + 100);
  const std::string water = make_gift("矿泉水", 1);

  // An exchange window for the street's top 15, opened by hand (which freezes the cut).
  rewards::v1::CreateExchangeWindowRequest window_req;
  rewards::v1::ExchangeWindow* w = window_req.mutable_window();
  w->set_title("清远西街驿站积分兑换日");
  w->set_owner_org_id(street.org_id());
  w->add_station_ids(station);
  *w->mutable_start_time() = TimeUtil::GetCurrentTime() + TimeUtil::MinutesToDuration(1);
  *w->mutable_end_time() = TimeUtil::GetCurrentTime() + TimeUtil::HoursToDuration(8);
  for (const std::string& g : {towel, helmet, water}) {
    rewards::v1::WindowGift* wg = w->add_gifts();
    wg->set_gift_id(g);
    wg->set_max_per_rider(1);
  }
  auto* ranking = w->mutable_eligibility()->mutable_ranking();
  ranking->mutable_scope()->set_level(ORG_LEVEL_STREET);
  ranking->mutable_scope()->set_org_id(street.org_id());
  ranking->mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  ranking->set_top_n(15);
  window_req.set_idempotency_key(Key("window"));
  const std::string window = Ok<rewards::v1::CreateExchangeWindowResponse>(
                                 kRewards + "CreateExchangeWindow", street_staff.token, window_req)
                                 .window()
                                 .window_id();
  rewards::v1::OpenExchangeWindowRequest open;
  open.set_window_id(window);
  auto opened = Ok<rewards::v1::OpenExchangeWindowResponse>(kRewards + "OpenExchangeWindow",
                                                            street_staff.token, open);
  EXPECT_EQ(opened.window().state(), rewards::v1::EXCHANGE_WINDOW_STATE_OPEN);
  EXPECT_EQ(opened.window().snapshot().eligible_count(), 2);

  auto redeem = [&](const std::string& gift, const std::string& key) {
    rewards::v1::CreateRedemptionRequest req;
    req.set_window_id(window);
    req.set_station_id(station);
    req.set_gift_id(gift);
    req.set_quantity(1);
    req.set_idempotency_key(Key(key));
    rewards::v1::CreateRedemptionResponse resp;
    grpc::Status s = face_->Call(kRewards + "CreateRedemption", rider_token, req, &resp);
    return std::make_pair(s, resp.redemption());
  };
  // The helmet costs more than the rider holds: refused, nothing held.
  ExpectRefused(redeem(helmet, "redeem-helmet").first, StatusCode::FAILED_PRECONDITION,
                "INSUFFICIENT_POINTS");
  EXPECT_EQ(WaitForBalance(rider, rider_token, points).held(), 0);
  // The towel: held, ready with a pickup code.
  auto [redeemed, order] = redeem(towel, "redeem-towel");
  ASSERT_TRUE(redeemed.ok()) << redeemed.error_message();
  EXPECT_EQ(order.state(), rewards::v1::REDEMPTION_STATE_READY);
  ASSERT_EQ(order.pickup_code().size(), 6u);
  account = WaitForBalance(rider, rider_token, points - cost);
  EXPECT_EQ(account.held(), cost);

  // The rider app's home screen, in one call, from the phone at the station (GCJ-02).
  app::v1::GetMyHomeRequest home_req;
  const geo::LatLon here = geo::Wgs84ToGcj02({kNearLat, kLon});
  home_req.mutable_location()->set_latitude(here.lat);
  home_req.mutable_location()->set_longitude(here.lon);
  home_req.mutable_location()->set_datum(common::v1::GEO_DATUM_GCJ02);
  auto home = Ok<app::v1::GetMyHomeResponse>(kApp + "GetMyHome", rider_token, home_req);
  EXPECT_EQ(home.unavailable_size(), 0);
  EXPECT_EQ(home.points().available(), points - cost);
  EXPECT_EQ(home.points().held(), cost);
  EXPECT_EQ(home.standing().community_id(), west.org_id());
  EXPECT_EQ(home.standing().all_time().rank(), 1);
  EXPECT_EQ(home.standing().all_time().display_name(), "清远飞毛腿");
  EXPECT_EQ(home.standing().this_month().score(), points);
  EXPECT_EQ(home.standing().ranked_all_time(), 2);
  // Ours, or another run's at the same spot: the suite is shared.
  EXPECT_EQ(home.nearest_station().place().kind(), activity::v1::PLACE_KIND_RIDER_STATION);
  EXPECT_NEAR(home.nearest_station().distance_meters(), 44, 2);
  EXPECT_TRUE(home.nearest_station().open_now());
  bool window_listed = false;
  for (const auto& w : home.open_windows()) {
    EXPECT_TRUE(w.eligibility().eligible()) << w.window().window_id();
    window_listed |= w.window().window_id() == window;
  }
  EXPECT_TRUE(window_listed) << home.open_windows_size() << " windows";
  ASSERT_EQ(home.ready_pickups_size(), 1);
  EXPECT_EQ(home.ready_pickups(0).pickup_code(), order.pickup_code());
  EXPECT_TRUE(home.ready_pickups(0).has_expire_time());
  home_req.mutable_location()->set_latitude(91);
  const grpc::Status bad_home =
      Try<app::v1::GetMyHomeResponse>(kApp + "GetMyHome", rider_token, home_req);
  ExpectRefused(bad_home, StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(bad_home.error_message(), "location")) << bad_home.error_message();
  // Staff have no home screen.
  ExpectRefused(Try<app::v1::GetMyHomeResponse>(kApp + "GetMyHome", street_staff.token,
                                                app::v1::GetMyHomeRequest()),
                StatusCode::PERMISSION_DENIED);

  // At the station the keeper enters the code the rider reads out.
  // A named copy: clang 14 cannot capture a structured binding in a lambda.
  const std::string pickup_code = order.pickup_code();
  auto fulfil = [&](const std::string& key) {
    rewards::v1::FulfilRedemptionRequest req;
    req.set_station_id(station);
    req.set_pickup_code(pickup_code);
    req.set_idempotency_key(Key(key));
    rewards::v1::FulfilRedemptionResponse resp;
    grpc::Status s = face_->Call(kRewards + "FulfilRedemption", keeper.token, req, &resp);
    return std::make_pair(s, resp.redemption());
  };
  auto [fulfilled, done] = fulfil("fulfil");
  ASSERT_TRUE(fulfilled.ok()) << fulfilled.error_message();
  EXPECT_EQ(done.state(), rewards::v1::REDEMPTION_STATE_FULFILLED);
  // The same code again, from another tap: refused.
  ExpectRefused(fulfil("fulfil-again").first, StatusCode::FAILED_PRECONDITION,
                "PICKUP_CODE_ALREADY_USED");

  // The rider's balance shows the capture: the hold is gone and the points are spent.
  account = WaitForBalance(rider, rider_token, points - cost);
  EXPECT_EQ(account.available(), points - cost);
  EXPECT_EQ(account.held(), 0);
  EXPECT_EQ(account.lifetime_spent(), cost);
  rewards::v1::ListStationStockRequest stock_req;
  stock_req.set_station_id(station);
  auto stock = Ok<rewards::v1::ListStationStockResponse>(kRewards + "ListStationStock",
                                                         keeper.token, stock_req);
  for (const auto& s : stock.stock()) {
    if (s.gift_id() == towel) {
      EXPECT_EQ(s.available_quantity(), 4);
    }
    if (s.gift_id() == helmet) {
      EXPECT_EQ(s.available_quantity(), 5);
    }
  }

  // The other rider's report became a case: the street hands it to its enforcement team (not to
  // another street's), which serves the notice and closes it fixed; the reporter's bonus arrives.
  const std::string second_id = second.person().person_id();
  const std::string second_token = second.tokens().access_token();
  const std::string case_id = verified_report.problem_case_id();
  ASSERT_FALSE(case_id.empty());
  const auto team =
      MakeOrg(street.org_id(), common::v1::ORG_LEVEL_DEPARTMENT, "qyzfd", "清远街道综合行政执法队");
  const auto other_street = MakeOrg(district.org_id(), ORG_LEVEL_STREET, "xw", "新旺街道");
  const auto other_team = MakeOrg(other_street.org_id(), common::v1::ORG_LEVEL_DEPARTMENT, "xwzfd",
                                  "新旺街道综合行政执法队");
  const StaffMember officer =
      MakeStaff("执法队员", common::v1::ROLE_DEPARTMENT_STAFF, team.org_id());
  activity::v1::AssignProblemCaseRequest assign;
  assign.set_case_id(case_id);
  assign.set_department_id(other_team.org_id());
  assign.set_notice_number("平清执法〔2026〕第118号");
  *assign.mutable_deadline() = TimeUtil::GetCurrentTime() + TimeUtil::HoursToDuration(72);
  ExpectRefused(Try<activity::v1::AssignProblemCaseResponse>(kActivity + "AssignProblemCase",
                                                             street_staff.token, assign),
                StatusCode::FAILED_PRECONDITION, "DEPARTMENT_OUTSIDE_STREET");
  assign.set_department_id(team.org_id());
  EXPECT_EQ(Ok<activity::v1::AssignProblemCaseResponse>(kActivity + "AssignProblemCase",
                                                        street_staff.token, assign)
                .problem_case()
                .status(),
            activity::v1::PROBLEM_CASE_STATUS_ASSIGNED);
  activity::v1::RecordProblemCaseProgressRequest progress;
  progress.set_case_id(case_id);
  progress.set_note("已向车行下达整改通知书");
  progress.set_idempotency_key(Key("case-progress"));
  Ok<activity::v1::RecordProblemCaseProgressResponse>(kActivity + "RecordProblemCaseProgress",
                                                      officer.token, progress);
  activity::v1::CloseProblemCaseRequest fix;
  fix.set_case_id(case_id);
  fix.set_outcome(activity::v1::PROBLEM_CASE_OUTCOME_FIXED);
  fix.set_note("车行已将电动车搬回店铺，道路恢复通行");
  fix.mutable_after_photo()->set_ref("uploads/story/road-clear.jpg");
  EXPECT_EQ(
      Ok<activity::v1::CloseProblemCaseResponse>(kActivity + "CloseProblemCase", officer.token, fix)
          .problem_case()
          .outcome(),
      activity::v1::PROBLEM_CASE_OUTCOME_FIXED);
  // The reporter follows the case to its end and sees the bonus (the department does not).
  activity::v1::GetProblemCaseRequest get_case;
  get_case.set_case_id(case_id);
  const auto followed = Ok<activity::v1::GetProblemCaseResponse>(kActivity + "GetProblemCase",
                                                                 second_token, get_case);
  const int64_t bonus = followed.problem_case().bonus().points();
  EXPECT_GT(bonus, 0);
  EXPECT_EQ(followed.problem_case().status(), activity::v1::PROBLEM_CASE_STATUS_CLOSED);
  EXPECT_EQ(followed.problem_case().steps_size(), 4);  // opened, assigned, progress, closed
  EXPECT_EQ(WaitForBalance(second_id, second_token, second_points + bonus).available(),
            second_points + bonus);
  fix.set_note("再次整改");
  ExpectRefused(Try<activity::v1::CloseProblemCaseResponse>(kActivity + "CloseProblemCase",
                                                            officer.token, fix),
                StatusCode::FAILED_PRECONDITION, "CASE_CLOSED");

  // The other rider orders a bottle of water, then closes their account from the app: the order
  // is cancelled first (points released, the bottle back on the shelf), then the account erased.
  rewards::v1::CreateRedemptionRequest water_req;
  water_req.set_window_id(window);
  water_req.set_station_id(station);
  water_req.set_gift_id(water);
  water_req.set_quantity(1);
  water_req.set_idempotency_key(Key("redeem-water"));
  const auto water_order = Ok<rewards::v1::CreateRedemptionResponse>(kRewards + "CreateRedemption",
                                                                     second_token, water_req);
  EXPECT_EQ(water_order.redemption().state(), rewards::v1::REDEMPTION_STATE_READY);
  identity::v1::CloseMyAccountRequest close_req;
  close_req.set_password("wrong-pass-1");
  ExpectRefused(Try<identity::v1::CloseMyAccountResponse>(kIdentity + "CloseMyAccount",
                                                          second_token, close_req),
                StatusCode::UNAUTHENTICATED);
  close_req.set_password("Rider-pass-2026");
  close_req.set_reason("不再跑外卖了");
  const auto closed = Ok<identity::v1::CloseMyAccountResponse>(kIdentity + "CloseMyAccount",
                                                               second_token, close_req);
  EXPECT_EQ(closed.orders_cancelled(), 1);
  EXPECT_EQ(closed.person().status(), identity::v1::PERSON_STATUS_CLOSED);
  EXPECT_TRUE(closed.person().phone_masked().empty());
  ledger::v1::GetBalanceRequest second_balance;
  second_balance.set_person_id(second_id);
  const auto after_close = Ok<ledger::v1::GetBalanceResponse>(kLedger + "GetBalance",
                                                              street_staff.token, second_balance);
  EXPECT_EQ(after_close.account().held(), 0);
  EXPECT_EQ(after_close.account().available(), second_points + bonus) << "the points history stays";
  // On the leaderboard the closed account is anonymous.
  EXPECT_TRUE(absl::StartsWith(TopName(rider_token, top_req, 1, "小哥 #", true), "小哥 #"));
}

INSTANTIATE_TEST_SUITE_P(Faces, StoryTest, ::testing::Values("grpc", "rest"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace civicpoints::e2e
