// The event feed as a city system meets it through the gateway (ctest fixture cp_suite): a
// subscription on the gRPC face streams what a rider and staff do in its community, in order and
// once; a cancelled subscription resumes from its saved cursor with nothing lost or repeated; the
// same feed answers a REST long poll; and bad requests are refused with the contract's statuses.
#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>
#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/activity/v1/events.pb.h"
#include "civicpoints/events/v1/events_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/ledger/v1/events.pb.h"
#include "tests/e2e/suite_client.h"
#include "tests/peers/identity_calls.h"

namespace civicpoints::e2e {
namespace {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

constexpr char kSubmitted[] = "civicpoints.activity.v1.service_record_submitted";
constexpr char kVerified[] = "civicpoints.activity.v1.service_record_verified";

std::unique_ptr<grpc::ClientContext> As(const std::string& token, absl::Duration timeout) {
  auto ctx = testing::IdentityCalls::With(token);
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  return ctx;
}

class EventsFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string addr = SuiteSetting("CP_SUITE_GATEWAY_ADDR");
    ASSERT_FALSE(addr.empty()) << "run under ctest (fixture cp_suite sets CP_SUITE_*)";
    auto channel = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
    identity_ = identity::v1::IdentityService::NewStub(channel);
    activity_ = activity::v1::ActivityService::NewStub(channel);
    events_ = events::v1::EventService::NewStub(channel);
    // Each test of the program makes its own tree and people.
    static int tests_run = 0;
    const int n = tests_run++;
    RunNames names = NamesOfThisRun("ev", 8);
    names.tag = absl::StrCat(names.tag, "t", n);
    names.phone_base += n * 10;
    identity::v1::GetPrivacyPolicyResponse policy;
    ASSERT_TRUE(identity_
                    ->GetPrivacyPolicy(As("", absl::Seconds(10)).get(),
                                       identity::v1::GetPrivacyPolicyRequest(), &policy)
                    .ok());
    calls_ = std::make_unique<testing::IdentityCalls>(identity_.get(), policy.policy_version());
    admin_ = calls_->Login(SuiteSetting("CP_SUITE_ADMIN_PHONE"),
                           SuiteSetting("CP_SUITE_ADMIN_PASSWORD"));
    ASSERT_FALSE(admin_.empty());
    calls_->set_admin_token(admin_);
    const std::string district =
        calls_->MakeOrg("root", ORG_LEVEL_DISTRICT, names.tag + "d", "事件区" + names.tag);
    const std::string street =
        calls_->MakeOrg(district, ORG_LEVEL_STREET, names.tag + "s", "事件街道" + names.tag);
    community_ =
        calls_->MakeOrg(street, ORG_LEVEL_COMMUNITY, names.tag + "c", "事件社区" + names.tag);
    ASSERT_FALSE(community_.empty());
    auto phone = [&](int i) {
      return absl::StrCat("159", absl::Dec(names.phone_base + i, absl::kZeroPad8));
    };
    staff_ = calls_->Staff(phone(0), common::v1::ROLE_COMMUNITY_STAFF, community_).token;
    identity::v1::GetCheckInCodeRequest code_req;
    code_req.set_org_id(community_);
    identity::v1::GetCheckInCodeResponse code;
    ASSERT_TRUE(
        identity_->GetCheckInCode(As(admin_, absl::Seconds(10)).get(), code_req, &code).ok());
    rider_ = calls_->Register(phone(1), "骑手", code.code().code()).tokens().access_token();
    ASSERT_FALSE(rider_.empty() || staff_.empty());
  }

  // A service record the rider reports and staff verify: two events.
  std::string ReportAndVerify(const std::string& key) {
    activity::v1::SubmitServiceRecordRequest submit;
    submit.set_idempotency_key(key);
    activity::v1::ServiceRecord* r = submit.mutable_service_record();
    r->set_kind(activity::v1::SERVICE_RECORD_KIND_ROAD_OCCUPATION);
    r->set_description("菜市场门口占道经营");
    r->mutable_location()->set_latitude(40.0937);
    r->mutable_location()->set_longitude(113.2956);
    r->set_community_id(community_);
    activity::v1::SubmitServiceRecordResponse submitted;
    grpc::Status s =
        activity_->SubmitServiceRecord(As(rider_, absl::Seconds(10)).get(), submit, &submitted);
    EXPECT_TRUE(s.ok()) << s.error_message();
    activity::v1::VerifyServiceRecordRequest verify;
    verify.set_service_record_id(submitted.service_record().service_record_id());
    activity::v1::VerifyServiceRecordResponse verified;
    s = activity_->VerifyServiceRecord(As(staff_, absl::Seconds(10)).get(), verify, &verified);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return submitted.service_record().service_record_id();
  }

  // A subscription to this run's community, after `cursor` (from the oldest retained when
  // empty).
  events::v1::SubscribeRequest Subscription(const std::string& cursor) {
    events::v1::SubscribeRequest req;
    req.add_types(kSubmitted);
    req.add_types(kVerified);
    req.set_org_id(community_);
    req.set_after(cursor);
    req.set_from_oldest(cursor.empty());
    req.mutable_heartbeat_interval()->set_seconds(1);
    return req;
  }

  // The next event of `stream`, skipping heartbeats; false when the stream ends first.
  static bool NextEvent(grpc::ClientReader<events::v1::SubscribeResponse>& stream,
                        events::v1::Event* out) {
    events::v1::SubscribeResponse item;
    while (stream.Read(&item)) {
      if (item.has_event()) {
        *out = item.event();
        return true;
      }
    }
    return false;
  }

  static std::string RecordOf(const events::v1::Event& e) {
    activity::v1::ServiceRecordChanged data;
    EXPECT_TRUE(e.data().UnpackTo(&data)) << e.data().type_url();
    return data.service_record_id();
  }

  std::unique_ptr<identity::v1::IdentityService::Stub> identity_;
  std::unique_ptr<activity::v1::ActivityService::Stub> activity_;
  std::unique_ptr<events::v1::EventService::Stub> events_;
  std::unique_ptr<testing::IdentityCalls> calls_;
  std::string admin_, staff_, rider_, community_;
};

TEST_F(EventsFeedTest, ASubscriptionStreamsTheCommunitysEventsInOrderAndResumesFromItsCursor) {
  const std::string first = ReportAndVerify("ev-1");
  auto ctx = As(staff_, absl::Seconds(60));
  auto stream = events_->Subscribe(ctx.get(), Subscription(""));
  events::v1::Event e;
  ASSERT_TRUE(NextEvent(*stream, &e));
  EXPECT_EQ(e.type(), kSubmitted);
  EXPECT_EQ(RecordOf(e), first);
  EXPECT_EQ(e.org_path().community_id(), community_);
  EXPECT_EQ(e.source(), "/civicpoints/activity");
  ASSERT_TRUE(NextEvent(*stream, &e));
  EXPECT_EQ(e.type(), kVerified);
  EXPECT_EQ(RecordOf(e), first);
  const std::string saved = e.cursor();

  // Live: the next record's events arrive on the open stream.
  const std::string second = ReportAndVerify("ev-2");
  ASSERT_TRUE(NextEvent(*stream, &e));
  EXPECT_EQ(RecordOf(e), second);
  ctx->TryCancel();
  events::v1::SubscribeResponse rest;
  while (stream->Read(&rest)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // Disconnected while a third record happens; resuming from the saved cursor gives exactly the
  // events after it: the second record's two, then the third's.
  const std::string third = ReportAndVerify("ev-3");
  auto ctx2 = As(staff_, absl::Seconds(60));
  auto resumed = events_->Subscribe(ctx2.get(), Subscription(saved));
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(NextEvent(*resumed, &e));
    seen.push_back(absl::StrCat(e.type() == kSubmitted ? "submitted " : "verified ", RecordOf(e)));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"submitted " + second, "verified " + second,
                                            "submitted " + third, "verified " + third}));
  ctx2->TryCancel();
  while (resumed->Read(&rest)) {
  }
  resumed->Finish();

  // Each verified record was paid by the ledger, which announces it from its journal: three
  // points_awarded events for the rider, each naming its service record.
  events::v1::SubscribeRequest paid;
  paid.add_types("civicpoints.ledger.v1.points_awarded");
  paid.set_org_id(community_);
  paid.set_from_oldest(true);
  auto ctx3 = As(staff_, absl::Seconds(60));
  auto awards = events_->Subscribe(ctx3.get(), paid);
  std::set<std::string> sources;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(NextEvent(*awards, &e));
    ledger::v1::PointsPosted posted;
    ASSERT_TRUE(e.data().UnpackTo(&posted));
    EXPECT_EQ(posted.source_kind(), ledger::v1::SOURCE_KIND_SERVICE_RECORD);
    EXPECT_GT(posted.amount(), 0);
    sources.insert(posted.source_id());
  }
  EXPECT_EQ(sources, (std::set<std::string>{first, second, third}));
  ctx3->TryCancel();
  while (awards->Read(&rest)) {
  }
  awards->Finish();
}

TEST_F(EventsFeedTest, TheSameFeedAnswersARestLongPoll) {
  const std::string record = ReportAndVerify("ev-rest-1");
  httplib::Client http(SuiteSetting("CP_SUITE_HTTP_URL"));
  http.set_read_timeout(20, 0);
  const httplib::Headers auth = {{"Authorization", "Bearer " + staff_}};
  httplib::Result first = http.Get(
      // The events reach the feed through activity's relay a moment after the commit: wait.
      absl::StrCat("/v1/events?fromOldest=true&wait=10s&orgId=", community_, "&types=", kVerified),
      auth);
  ASSERT_TRUE(first) << httplib::to_string(first.error());
  ASSERT_EQ(first->status, 200) << first->body;
  nlohmann::json page = nlohmann::json::parse(first->body);
  ASSERT_EQ(page["events"].size(), 1u) << first->body;
  EXPECT_EQ(page["events"][0]["type"], kVerified);
  EXPECT_EQ(page["events"][0]["data"]["@type"],
            "type.googleapis.com/civicpoints.activity.v1.ServiceRecordChanged");
  EXPECT_EQ(page["events"][0]["data"]["serviceRecordId"], record);
  const std::string cursor = page["nextCursor"];

  // Nothing new: the poll waits, and answers as soon as the next event commits.
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ReportAndVerify("ev-rest-2");
  });
  const absl::Time asked = absl::Now();
  httplib::Result next =
      http.Get(absl::StrCat("/v1/events?after=", cursor, "&wait=15s&orgId=", community_,
                            "&types=", kVerified),
               auth);
  later.join();
  ASSERT_TRUE(next) << httplib::to_string(next.error());
  ASSERT_EQ(next->status, 200) << next->body;
  page = nlohmann::json::parse(next->body);
  ASSERT_EQ(page["events"].size(), 1u) << next->body;
  EXPECT_LT(absl::Now() - asked, absl::Seconds(12));

  // Bad input over REST: a malformed cursor is a 400 naming it.
  httplib::Result bad = http.Get("/v1/events?after=yesterday", auth);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_NE(bad->body.find("after"), std::string::npos) << bad->body;
}

// A city system that prefers push registers a webhook over REST; the suite (a development one)
// lets it point at a receiver on loopback. What the rider and staff do arrives there, signed.
TEST_F(EventsFeedTest, AWebhookRegisteredOverRestReceivesTheCommunitysEventsSigned) {
  httplib::Server receiver;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> got;  // (webhook-signature, body)
  receiver.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    got.emplace_back(req.get_header_value("webhook-signature"), req.body);
    res.status = 200;
  });
  const int port = receiver.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { receiver.listen_after_bind(); });

  httplib::Client http(SuiteSetting("CP_SUITE_HTTP_URL"));
  const httplib::Headers auth = {{"Authorization", "Bearer " + admin_}};
  const nlohmann::json body = {{"webhook",
                                {{"url", absl::StrCat("http://127.0.0.1:", port, "/hook")},
                                 {"orgId", community_},
                                 {"types", {kVerified}},
                                 {"description", "网格平台"}}},
                               {"idempotencyKey", absl::StrCat("hook-", community_)}};
  httplib::Result made = http.Post("/v1/webhooks", auth, body.dump(), "application/json");
  ASSERT_TRUE(made) << httplib::to_string(made.error());
  ASSERT_EQ(made->status, 200) << made->body;
  const nlohmann::json created = nlohmann::json::parse(made->body);
  const std::string secret = created["secret"];
  const std::string id = created["webhook"]["webhookId"];
  EXPECT_EQ(secret.rfind("whsec_", 0), 0u) << made->body;

  const std::string record = ReportAndVerify("ev-hook-1");
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  auto received = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return got.size();
  };
  while (received() == 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(50));
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(got.size(), 1u);
    const nlohmann::json event = nlohmann::json::parse(got[0].second);
    EXPECT_EQ(event["type"], kVerified);
    EXPECT_EQ(event["data"]["serviceRecordId"], record);
    EXPECT_EQ(got[0].first.rfind("v1,", 0), 0u);
  }
  httplib::Result state = http.Get(absl::StrCat("/v1/webhooks/", id), auth);
  ASSERT_TRUE(state);
  EXPECT_EQ(nlohmann::json::parse(state->body)["webhook"]["failedAttempts"], 0) << state->body;
  httplib::Result removed = http.Delete(absl::StrCat("/v1/webhooks/", id), auth);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->status, 200) << removed->body;
  // A URL on a private network is refused: 400 naming the rule.
  nlohmann::json inward = body;
  inward["webhook"]["url"] = "https://10.0.0.8/hook";
  inward["idempotencyKey"] = absl::StrCat("hook-in-", community_);
  httplib::Result refused = http.Post("/v1/webhooks", auth, inward.dump(), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << refused->body;
  EXPECT_NE(refused->body.find("WEBHOOK_URL_NOT_ALLOWED"), std::string::npos) << refused->body;
  receiver.stop();
  serving.join();
}

TEST_F(EventsFeedTest, BadSubscriptionsAreRefusedWithTheContractsStatuses) {
  struct Case {
    std::string name;
    std::string token;
    std::function<void(events::v1::SubscribeRequest&)> edit;
    grpc::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"unknown type", staff_, [](auto& r) { r.add_types("civicpoints.activity.v1.nope"); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"malformed cursor", staff_, [](auto& r) { r.set_after("not-a-cursor"); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"another scope", staff_, [](auto& r) { r.set_org_id("root"); },
       grpc::StatusCode::PERMISSION_DENIED},
      {"a rider", rider_, [](auto&) {}, grpc::StatusCode::PERMISSION_DENIED},
      {"no token", "", [](auto&) {}, grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const Case& c : cases) {
    events::v1::SubscribeRequest req = Subscription("");
    c.edit(req);
    auto ctx = As(c.token, absl::Seconds(10));
    auto stream = events_->Subscribe(ctx.get(), req);
    events::v1::SubscribeResponse item;
    EXPECT_FALSE(stream->Read(&item)) << c.name;
    grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), c.code) << c.name << ": " << s.error_message();
  }
}

}  // namespace
}  // namespace civicpoints::e2e
