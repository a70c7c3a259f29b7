// The district dashboard's overview through the gateway (ctest fixture cp_suite): a street with
// two communities, eight riders (six and two), staff of the street see every count exact, a viewer
// of the street sees the community of two withheld and its sibling withheld with it, a viewer is
// refused outside their node and on every write and exact-statistics method, and a bad day range
// is refused naming the field, on the gRPC and the REST faces.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <grpcpp/grpcpp.h>
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/insights/v1/errors.pb.h"
#include "civicpoints/insights/v1/insights_service.grpc.pb.h"
#include "common/status/grpc_status.h"
#include "tests/e2e/suite_client.h"
#include "tests/peers/identity_calls.h"

namespace civicpoints::e2e {
namespace {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
  auto ctx = testing::IdentityCalls::With(token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return ctx;
}

class OverviewTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string addr = SuiteSetting("CP_SUITE_GATEWAY_ADDR");
    ASSERT_FALSE(addr.empty()) << "run under ctest (fixture cp_suite sets CP_SUITE_*)";
    auto channel = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
    identity_ = identity::v1::IdentityService::NewStub(channel).release();
    activity_ = activity::v1::ActivityService::NewStub(channel).release();
    insights_ = insights::v1::InsightsService::NewStub(channel).release();
    const RunNames names = NamesOfThisRun("ov", 7);
    identity::v1::GetPrivacyPolicyResponse policy;
    ASSERT_TRUE(
        identity_->GetPrivacyPolicy(As("").get(), identity::v1::GetPrivacyPolicyRequest(), &policy)
            .ok());
    testing::IdentityCalls calls(identity_, policy.policy_version());
    const std::string admin =
        calls.Login(SuiteSetting("CP_SUITE_ADMIN_PHONE"), SuiteSetting("CP_SUITE_ADMIN_PASSWORD"));
    ASSERT_FALSE(admin.empty());
    calls.set_admin_token(admin);
    admin_ = admin;
    district_ = calls.MakeOrg("root", ORG_LEVEL_DISTRICT, names.tag + "d", "概览区" + names.tag);
    street_ = calls.MakeOrg(district_, ORG_LEVEL_STREET, names.tag + "s", "概览街道" + names.tag);
    big_ = calls.MakeOrg(street_, ORG_LEVEL_COMMUNITY, names.tag + "c1", "大社区" + names.tag);
    small_ = calls.MakeOrg(street_, ORG_LEVEL_COMMUNITY, names.tag + "c2", "小社区" + names.tag);
    ASSERT_FALSE(small_.empty());
    auto phone = [&](int i) {
      return absl::StrCat("158", absl::Dec(names.phone_base + i, absl::kZeroPad8));
    };
    staff_ = calls.Staff(phone(0), common::v1::ROLE_STREET_STAFF, street_).token;
    viewer_ = calls.Staff(phone(1), common::v1::ROLE_ORG_VIEWER, street_).token;
    ASSERT_FALSE(staff_.empty() || viewer_.empty());
    int next = 10;
    for (const auto& [community, riders] : {std::pair{big_, 6}, std::pair{small_, 2}}) {
      identity::v1::GetCheckInCodeRequest req;
      req.set_org_id(community);
      identity::v1::GetCheckInCodeResponse code;
      ASSERT_TRUE(identity_->GetCheckInCode(As(admin).get(), req, &code).ok());
      for (int i = 0; i < riders; ++i) {
        const auto registered = calls.Register(phone(next++), "骑手", code.code().code());
        ASSERT_FALSE(registered.tokens().access_token().empty());
      }
    }
  }

  static grpc::Status Overview(const std::string& token, const std::string& org_id,
                               insights::v1::GetOrgOverviewResponse* out,
                               const std::string& from_day = "") {
    insights::v1::GetOrgOverviewRequest req;
    req.set_org_id(org_id);
    req.set_from_day(from_day);
    return insights_->GetOrgOverview(As(token).get(), req, out);
  }

  static const insights::v1::NodeFigures& Child(const insights::v1::GetOrgOverviewResponse& o,
                                                const std::string& id) {
    for (const auto& c : o.children()) {
      if (c.org_id() == id) return c;
    }
    ADD_FAILURE() << "no child " << id;
    return o.node();
  }

  static inline identity::v1::IdentityService::Stub* identity_ = nullptr;
  static inline activity::v1::ActivityService::Stub* activity_ = nullptr;
  static inline insights::v1::InsightsService::Stub* insights_ = nullptr;
  static inline std::string district_, street_, big_, small_, staff_, viewer_, admin_;
};

TEST_F(OverviewTest, StaffOfTheStreetSeeEveryCountExact) {
  insights::v1::GetOrgOverviewResponse o;
  grpc::Status s = Overview(staff_, street_, &o);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(o.small_cell_rule().applied());
  EXPECT_EQ(o.small_cell_rule().threshold(), 5);
  EXPECT_EQ(o.node().org_id(), street_);
  EXPECT_EQ(o.node().riders_checked_in().value(), 8);
  ASSERT_EQ(o.children_size(), 2);
  EXPECT_EQ(Child(o, big_).riders_checked_in().value(), 6);
  EXPECT_EQ(Child(o, small_).riders_checked_in().value(), 2);
  EXPECT_FALSE(Child(o, small_).riders_checked_in().withheld());
  EXPECT_EQ(o.node().communities_total(), 2);
  EXPECT_EQ(o.coverage_size(), 2);
  EXPECT_EQ(o.daily().points_issued_size(), 30) << "every day of the default range";
  EXPECT_EQ(o.org_path().district_id(), district_);
}

TEST_F(OverviewTest, AViewerSeesSmallCountsWithheldAndTheirSiblingWithThem) {
  insights::v1::GetOrgOverviewResponse o;
  grpc::Status s = Overview(viewer_, street_, &o);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(o.small_cell_rule().applied());
  EXPECT_EQ(o.node().riders_checked_in().value(), 8);
  EXPECT_TRUE(Child(o, small_).riders_checked_in().withheld());
  EXPECT_EQ(Child(o, small_).riders_checked_in().value(), 0);
  EXPECT_TRUE(Child(o, big_).riders_checked_in().withheld()) << "8 - 6 would give the 2 away";
  // A community of the street: the viewer's grant covers it too.
  s = Overview(viewer_, small_, &o);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(o.node().riders_checked_in().withheld());
  EXPECT_EQ(o.children_size(), 0);
}

TEST_F(OverviewTest, TheCityRootsAdminReadsTheWholeCity) {
  insights::v1::GetOrgOverviewResponse o;
  grpc::Status s = Overview(admin_, "root", &o);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(o.small_cell_rule().applied());
  EXPECT_EQ(o.node().org_level(), common::v1::ORG_LEVEL_CITY);
  EXPECT_GE(o.node().riders_registered().value(), 8);
  bool has_district = false;
  for (const auto& c : o.children()) has_district |= c.org_id() == district_;
  EXPECT_TRUE(has_district) << "the run's district is a child of the city";
  // A street's staff may not read the city.
  s = Overview(staff_, "root", &o);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
}

TEST_F(OverviewTest, AViewerIsRefusedOutsideTheirNode) {
  insights::v1::GetOrgOverviewResponse o;
  grpc::Status s = Overview(viewer_, district_, &o);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_EQ(ErrorReasonOf(FromGrpcStatus(s)), "OUTSIDE_ORG_SCOPE");
  s = Overview(viewer_, "no-such-node", &o);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
}

TEST_F(OverviewTest, AViewerMayReadButNotWriteNorReadExactStatistics) {
  activity::v1::ListActivitiesRequest list;
  list.set_org_id(street_);
  activity::v1::ListActivitiesResponse activities;
  grpc::Status s = activity_->ListActivities(As(viewer_).get(), list, &activities);
  EXPECT_TRUE(s.ok()) << s.error_message();

  activity::v1::CreateActivityRequest create;
  create.set_idempotency_key("viewer-writes");
  activity::v1::CreateActivityResponse created;
  s = activity_->CreateActivity(As(viewer_).get(), create, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();

  identity::v1::GetOrgStatsRequest stats;
  stats.set_org_id(street_);
  identity::v1::GetOrgStatsResponse exact;
  s = identity_->GetOrgStats(As(viewer_).get(), stats, &exact);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
}

TEST_F(OverviewTest, ABadDayRangeIsRefusedNamingTheField) {
  insights::v1::GetOrgOverviewRequest req;
  req.set_org_id(street_);
  req.set_from_day("2026-12-10");
  req.set_to_day("2026-12-01");
  insights::v1::GetOrgOverviewResponse o;
  grpc::Status s = insights_->GetOrgOverview(As(staff_).get(), req, &o);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "from_day")) << s.error_message();
  req.set_from_day("2025-01-01");
  req.set_to_day("2026-01-02");
  s = insights_->GetOrgOverview(As(staff_).get(), req, &o);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "to_day")) << s.error_message();
}

TEST_F(OverviewTest, TheRestFaceAnswersTheSameWithTheStandardErrorBody) {
  httplib::Client http(SuiteSetting("CP_SUITE_HTTP_URL"));
  const httplib::Headers viewer = {{"Authorization", "Bearer " + viewer_}};
  auto res = http.Get(absl::StrCat("/v1/orgs/", street_, "/overview"), viewer);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const nlohmann::json body = nlohmann::json::parse(res->body);
  EXPECT_EQ(body["smallCellRule"]["applied"], true) << res->body;
  bool small_withheld = false;
  for (const auto& c : body["children"]) {
    if (c["orgId"] == small_) small_withheld = c["ridersCheckedIn"]["withheld"] == true;
  }
  EXPECT_TRUE(small_withheld) << res->body;

  res = http.Get(absl::StrCat("/v1/orgs/", district_, "/overview"), viewer);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  const nlohmann::json denied = nlohmann::json::parse(res->body);
  EXPECT_EQ(denied["status"], "PERMISSION_DENIED") << res->body;
  EXPECT_TRUE(absl::StrContains(res->body, "OUTSIDE_ORG_SCOPE")) << res->body;

  res = http.Get(
      absl::StrCat("/v1/orgs/", street_, "/overview?fromDay=2026-12-10&toDay=2026-12-01"), viewer);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
  EXPECT_TRUE(absl::StrContains(res->body, "from_day")) << res->body;
}

}  // namespace
}  // namespace civicpoints::e2e
