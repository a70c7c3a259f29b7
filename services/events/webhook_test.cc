// Webhooks against real PostgreSQL, with identity as its binary and a receiver on loopback: what
// passes a webhook's filters arrives once, in feed order, signed as Standard Webhooks do; a
// failing endpoint is retried with backoff, turns FAILING when failures last, and resumes where it
// stopped; registration refuses what the contract names and writes nothing; and the URL rules and
// the signature hold on their own.
#include <arpa/inet.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "civicpoints/events/v1/errors.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/status/grpc_status.h"
#include "common/status/refusal.h"
#include "services/events/events_test_env.h"
#include "services/events/webhook_sender.h"
#include "services/events/webhook_signature.h"

namespace civicpoints::events {
namespace {

// An HTTP endpoint on loopback that keeps what it is sent and answers `status` (503 for the first
// `fail_first` requests when set).
class Receiver {
 public:
  struct Request {
    std::string id, timestamp, signature, body;
  };

  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      absl::MutexLock lock(&mu_);
      ++attempts_;
      if (fail_first_ > 0 || failing_) {
        if (fail_first_ > 0) --fail_first_;
        res.status = 503;
        return;
      }
      received_.push_back({req.get_header_value("webhook-id"),
                           req.get_header_value("webhook-timestamp"),
                           req.get_header_value("webhook-signature"), req.body});
      res.status = 204;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/hook"); }
  void FailFirst(int n) {
    absl::MutexLock lock(&mu_);
    fail_first_ = n;
  }
  void SetFailing(bool failing) {
    absl::MutexLock lock(&mu_);
    failing_ = failing;
  }
  std::vector<Request> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  int attempts() {
    absl::MutexLock lock(&mu_);
    return attempts_;
  }
  bool Reaches(size_t n) {
    return civicpoints::testing::WaitFor([&] { return received().size() >= n; }, absl::Seconds(10));
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<Request> received_ ABSL_GUARDED_BY(mu_);
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_first_ ABSL_GUARDED_BY(mu_) = 0;
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
};

WebhookDispatcher::Options QuickRetries() {
  return {.workers = 2,
          .first_retry = absl::Milliseconds(100),
          .max_retry = absl::Milliseconds(400),
          .give_up_after = absl::Seconds(2),
          .timeout = absl::Seconds(2),
          .poll = absl::Milliseconds(100)};
}

v1::CreateWebhookResponse Create(EventsEnv& env, const std::string& token, const std::string& url,
                                 const std::string& org_id, std::vector<std::string> types,
                                 const std::string& key, grpc::Status* status = nullptr) {
  v1::CreateWebhookRequest req;
  req.mutable_webhook()->set_url(url);
  req.mutable_webhook()->set_org_id(org_id);
  req.mutable_webhook()->set_description("网格平台 测试");
  for (const std::string& t : types) req.mutable_webhook()->add_types(t);
  req.set_idempotency_key(key);
  v1::CreateWebhookResponse resp;
  grpc::Status s = env.stub().CreateWebhook(With(token).get(), req, &resp);
  if (status != nullptr) {
    *status = s;
  } else {
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  return resp;
}

v1::Webhook Get(EventsEnv& env, const std::string& token, const std::string& id) {
  v1::GetWebhookRequest req;
  req.set_webhook_id(id);
  v1::GetWebhookResponse resp;
  grpc::Status s = env.stub().GetWebhook(With(token).get(), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.webhook();
}

// A city system's token, its account at `org_id`, with `scopes`.
std::string CitySystem(EventsEnv& env, const std::string& org_id,
                       const std::vector<std::string>& scopes, std::string* account_id = nullptr) {
  return env.identity().CitySystem(org_id, scopes, account_id);
}

std::string ActivityInBody(const std::string& body) {
  return nlohmann::json::parse(body)["data"]["activityId"].get<std::string>();
}

constexpr char kAttendance[] = "civicpoints.activity.v1.attendance_confirmed";

TEST(Webhooks, DeliveriesArriveSignedInFeedOrderAndOnlyWhatTheFiltersPass) {
  EventsEnv env;
  ASSERT_TRUE(env.ok());
  env.StartRelay();
  env.StartDispatcher(QuickRetries());
  Receiver receiver;
  const std::string city = CitySystem(env, env.street, {"events.webhooks"});
  v1::CreateWebhookResponse made =
      Create(env, city, receiver.url(), env.west, {kAttendance}, "hook-1");
  ASSERT_TRUE(absl::StartsWith(made.secret(), "whsec_")) << made.secret();
  const v1::Webhook& hook = made.webhook();
  EXPECT_TRUE(absl::StartsWith(hook.webhook_id(), "wh_"));
  EXPECT_EQ(hook.state(), v1::WEBHOOK_STATE_ACTIVE);
  EXPECT_EQ(hook.secret_prefix(), made.secret().substr(0, 10));
  EXPECT_EQ(hook.org_id(), env.west);
  // A retry answers the same webhook, without the secret.
  v1::CreateWebhookResponse again =
      Create(env, city, receiver.url(), env.west, {kAttendance}, "hook-1");
  EXPECT_EQ(again.webhook().webhook_id(), hook.webhook_id());
  EXPECT_TRUE(again.secret().empty());
  EXPECT_EQ(env.Sql("events", "SELECT count(*) FROM webhooks"), "1");

  env.Record("a1", env.west);
  env.Record("a2", env.gongnong);  // outside the webhook's subtree
  env.Record("a3", env.west);
  ASSERT_TRUE(receiver.Reaches(2));
  ASSERT_TRUE(env.FeedReaches(3));
  absl::SleepFor(absl::Milliseconds(300));  // nothing more comes
  const std::vector<Receiver::Request> got = receiver.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(ActivityInBody(got[0].body), "a1");
  EXPECT_EQ(ActivityInBody(got[1].body), "a3");
  const std::optional<std::string> key = WebhookKeyOf(made.secret());
  ASSERT_TRUE(key.has_value());
  for (const Receiver::Request& r : got) {
    const nlohmann::json event = nlohmann::json::parse(r.body);
    EXPECT_EQ(r.id, event["id"].get<std::string>());
    EXPECT_EQ(event["type"], kAttendance);
    EXPECT_EQ(event["data"]["@type"],
              "type.googleapis.com/civicpoints.activity.v1.AttendanceConfirmed");
    EXPECT_NEAR(std::stoll(r.timestamp), absl::ToUnixSeconds(absl::Now()), 30);
    EXPECT_EQ(r.signature, SignWebhook(*key, r.id, std::stoll(r.timestamp), r.body));
    EXPECT_NE(r.signature, SignWebhook("another key", r.id, std::stoll(r.timestamp), r.body));
  }
  const v1::Webhook state = Get(env, city, hook.webhook_id());
  EXPECT_TRUE(state.has_last_delivery_time());
  EXPECT_EQ(state.failed_attempts(), 0);
  EXPECT_EQ(state.cursor(), nlohmann::json::parse(got[1].body)["cursor"].get<std::string>());

  // Another caller does not see it; its owner lists it; deleted, nothing more is sent.
  v1::GetWebhookRequest get;
  get.set_webhook_id(hook.webhook_id());
  v1::GetWebhookResponse other;
  grpc::Status s = env.stub().GetWebhook(With(env.admin()).get(), get, &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ListWebhooksResponse listed;
  ASSERT_TRUE(env.stub().ListWebhooks(With(city).get(), {}, &listed).ok());
  ASSERT_EQ(listed.webhooks_size(), 1);
  v1::DeleteWebhookRequest del;
  del.set_webhook_id(hook.webhook_id());
  v1::DeleteWebhookResponse deleted;
  ASSERT_TRUE(env.stub().DeleteWebhook(With(city).get(), del, &deleted).ok());
  EXPECT_EQ(env.stub().DeleteWebhook(With(city).get(), del, &deleted).error_code(),
            grpc::StatusCode::NOT_FOUND);
  env.Record("a4", env.west);
  ASSERT_TRUE(env.FeedReaches(4));
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(receiver.received().size(), 2u);
}

TEST(Webhooks, AFailingEndpointIsRetriedThenMarkedFailingAndResumesWhereItStopped) {
  EventsEnv env;
  ASSERT_TRUE(env.ok());
  env.StartRelay();
  env.StartDispatcher(QuickRetries());
  Receiver receiver;
  const std::string id =
      Create(env, env.admin(), receiver.url(), "", {}, "hook-1").webhook().webhook_id();

  // Two refusals, then it takes them: e1 arrives once, before e2.
  receiver.FailFirst(2);
  env.Record("e1", env.west);
  env.Record("e2", env.west);
  ASSERT_TRUE(receiver.Reaches(2));
  EXPECT_EQ(receiver.attempts(), 4);
  EXPECT_EQ(ActivityInBody(receiver.received()[0].body), "e1");
  EXPECT_EQ(ActivityInBody(receiver.received()[1].body), "e2");
  EXPECT_EQ(Get(env, env.admin(), id).failed_attempts(), 0);

  // Down for good: retried with growing gaps, then FAILING after give_up_after (2 s here).
  receiver.SetFailing(true);
  env.Record("e3", env.west);
  ASSERT_TRUE(civicpoints::testing::WaitFor(
      [&] { return Get(env, env.admin(), id).state() == v1::WEBHOOK_STATE_FAILING; },
      absl::Seconds(10)));
  v1::Webhook failing = Get(env, env.admin(), id);
  EXPECT_EQ(failing.last_error(), "HTTP 503");
  EXPECT_GE(failing.failed_attempts(), 3);
  EXPECT_TRUE(failing.has_failing_since());
  const int attempts = receiver.attempts();
  env.Record("e4", env.west);
  ASSERT_TRUE(env.FeedReaches(4));
  absl::SleepFor(absl::Milliseconds(600));
  EXPECT_EQ(receiver.attempts(), attempts);  // nothing is tried while FAILING

  // Resumed once the endpoint is back: e3 then e4, nothing skipped.
  receiver.SetFailing(false);
  v1::ResumeWebhookRequest resume;
  resume.set_webhook_id(id);
  v1::ResumeWebhookResponse resumed;
  ASSERT_TRUE(env.stub().ResumeWebhook(With(env.admin()).get(), resume, &resumed).ok());
  EXPECT_EQ(resumed.webhook().state(), v1::WEBHOOK_STATE_ACTIVE);
  EXPECT_EQ(resumed.webhook().failed_attempts(), 0);
  ASSERT_TRUE(receiver.Reaches(4));
  EXPECT_EQ(ActivityInBody(receiver.received()[2].body), "e3");
  EXPECT_EQ(ActivityInBody(receiver.received()[3].body), "e4");
}

TEST(Webhooks, NothingMoreIsSentOnceTheOwnersAccessIsRevoked) {
  EventsEnv env;
  ASSERT_TRUE(env.ok());
  env.StartRelay();
  env.StartDispatcher(QuickRetries());
  Receiver receiver;
  std::string account;
  const std::string city = CitySystem(env, env.street, {"events.webhooks"}, &account);
  Create(env, city, receiver.url(), env.west, {}, "hook-1");
  env.Record("a1", env.west);
  ASSERT_TRUE(receiver.Reaches(1));

  // The city's admin disables the account: its keys stop, and so do its webhooks.
  identity::v1::DisableServiceAccountRequest disable;
  disable.set_service_account_id(account);
  disable.set_reason("平台下线");
  identity::v1::DisableServiceAccountResponse disabled;
  auto stub = identity::v1::IdentityService::NewStub(
      grpc::CreateChannel(env.identity().address(), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(stub->DisableServiceAccount(With(env.admin()).get(), disable, &disabled).ok());
  // The feed learns of it from identity's revocation list within its poll (3 s); events keep
  // coming meanwhile, and the first lease after it stops the webhook.
  int n = 1;
  ASSERT_TRUE(civicpoints::testing::WaitFor(
      [&] {
        env.Record(absl::StrCat("a", ++n), env.west);
        absl::SleepFor(absl::Milliseconds(200));
        return env.Sql("events", "SELECT state FROM webhooks") == "2";
      },
      absl::Seconds(15)));
  EXPECT_EQ(env.Sql("events", "SELECT left(last_error, 39) FROM webhooks"),
            "stopped: the owner's access was revoked");
  const size_t delivered = receiver.received().size();
  env.Record("after", env.west);
  ASSERT_TRUE(env.FeedReaches(n + 1));
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(receiver.received().size(), delivered);
}

TEST(Webhooks, RegistrationRefusesWhatTheContractNamesAndWritesNothing) {
  EventsEnv env;
  ASSERT_TRUE(env.ok());
  Receiver receiver;
  const std::string city = CitySystem(env, env.west, {"events.webhooks"});
  const std::string reader = CitySystem(env, env.gongnong, {"events.read"});
  struct Case {
    std::string what, token, url, org_id;
    std::vector<std::string> types;
    grpc::StatusCode code;
    std::string reason = "";
  };
  const std::string ok_url = receiver.url();
  const std::vector<Case> cases = {
      {"no url", city, "", "", {}, grpc::StatusCode::INVALID_ARGUMENT},
      {"not a url", city, "hook", "", {}, grpc::StatusCode::INVALID_ARGUMENT},
      {"ftp",
       city,
       "ftp://example.org/x",
       "",
       {},
       grpc::StatusCode::INVALID_ARGUMENT,
       "WEBHOOK_URL_NOT_ALLOWED"},
      {"credentials",
       city,
       "https://user:pw@example.org/x",
       "",
       {},
       grpc::StatusCode::INVALID_ARGUMENT,
       "WEBHOOK_URL_NOT_ALLOWED"},
      {"private",
       city,
       "https://10.1.2.3/hook",
       "",
       {},
       grpc::StatusCode::INVALID_ARGUMENT,
       "WEBHOOK_URL_NOT_ALLOWED"},
      {"metadata address",
       city,
       "http://169.254.169.254/latest",
       "",
       {},
       grpc::StatusCode::INVALID_ARGUMENT,
       "WEBHOOK_URL_NOT_ALLOWED"},
      {"http elsewhere",
       city,
       "http://8.8.8.8/hook",
       "",
       {},
       grpc::StatusCode::INVALID_ARGUMENT,
       "WEBHOOK_URL_NOT_ALLOWED"},
      {"too long",
       city,
       "https://example.org/" + std::string(2000, 'a'),
       "",
       {},
       grpc::StatusCode::INVALID_ARGUMENT},
      {"unknown type",
       city,
       ok_url,
       "",
       {"civicpoints.activity.v1.nothing"},
       grpc::StatusCode::INVALID_ARGUMENT,
       "UNKNOWN_EVENT_TYPE"},
      {"outside scope",
       city,
       ok_url,
       env.gongnong,
       {},
       grpc::StatusCode::PERMISSION_DENIED,
       "OUTSIDE_ORG_SCOPE"},
      {"no such org", city, ok_url, "nosuchnode", {}, grpc::StatusCode::NOT_FOUND},
      {"without the scope", reader, ok_url, "", {}, grpc::StatusCode::PERMISSION_DENIED},
      {"staff", env.west_staff, ok_url, "", {}, grpc::StatusCode::PERMISSION_DENIED},
      {"anonymous", "", ok_url, "", {}, grpc::StatusCode::UNAUTHENTICATED},
  };
  int n = 0;
  for (const Case& c : cases) {
    grpc::Status s;
    Create(env, c.token, c.url, c.org_id, c.types, absl::StrCat("bad-", ++n), &s);
    EXPECT_EQ(s.error_code(), c.code) << c.what << ": " << s.error_message();
    if (!c.reason.empty()) {
      EXPECT_EQ(ErrorReasonOf(FromGrpcStatus(s)), c.reason) << c.what;
    }
  }
  grpc::Status s;
  Create(env, city, ok_url, "", {}, "a key with spaces", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(env.Sql("events", "SELECT count(*) FROM webhooks"), "0");
  EXPECT_EQ(env.Sql("events", "SELECT count(*) FROM idempotency_keys"), "0");

  // Three per owner here (the deployment's default is 20); a key reused for another request.
  for (int i = 0; i < 3; ++i) Create(env, city, ok_url, "", {}, absl::StrCat("hook-", i));
  Create(env, city, ok_url, "", {}, "hook-3", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ErrorReasonOf(FromGrpcStatus(s)), "TOO_MANY_WEBHOOKS");
  Create(env, city, ok_url + "?other", "", {}, "hook-0", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorReasonOf(FromGrpcStatus(s)), "IDEMPOTENCY_KEY_REUSED");
  EXPECT_EQ(env.Sql("events", "SELECT count(*) FROM webhooks"), "3");
  v1::GetWebhookRequest get;
  v1::GetWebhookResponse got;
  EXPECT_EQ(env.stub().GetWebhook(With(city).get(), get, &got).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  get.set_webhook_id("wh_nosuchhook");
  EXPECT_EQ(env.stub().GetWebhook(With(city).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST(WebhookRules, SignaturesFollowStandardWebhooks) {
  // The example of the Standard Webhooks specification.
  const std::optional<std::string> key = WebhookKeyOf("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(
      SignWebhook(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_EQ(WebhookKeyOf(WebhookSecret("\x01\x02key")), "\x01\x02key");
  EXPECT_FALSE(WebhookKeyOf("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").has_value());
  EXPECT_FALSE(WebhookKeyOf("whsec_").has_value());
  EXPECT_NE(NewWebhookKey(), NewWebhookKey());
  EXPECT_EQ(NewWebhookKey().size(), 24u);
}

bool Internal(const std::string& ip, bool allow_loopback = false) {
  sockaddr_storage ss{};
  if (inet_pton(AF_INET, ip.c_str(), &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr) == 1) {
    ss.ss_family = AF_INET;
  } else if (inet_pton(AF_INET6, ip.c_str(), &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr) ==
             1) {
    ss.ss_family = AF_INET6;
  } else {
    ADD_FAILURE() << ip;
  }
  return IsInternalAddress(reinterpret_cast<const sockaddr*>(&ss), allow_loopback);
}

TEST(WebhookRules, InternalAddressesAreRefusedAndLoopbackOnlyWhenAllowed) {
  for (const char* ip :
       {"127.0.0.1", "10.0.0.5", "172.16.3.4", "172.31.255.255", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "::", "fe80::1", "fd00::1", "::ffff:10.0.0.1",
        "::ffff:127.0.0.1", "64:ff9b::a00:1", "ff02::1"}) {
    EXPECT_TRUE(Internal(ip)) << ip;
  }
  for (const char* ip : {"8.8.8.8", "172.32.0.1", "223.5.5.5", "2400:3200::1", "::ffff:8.8.8.8"}) {
    EXPECT_FALSE(Internal(ip)) << ip;
  }
  EXPECT_FALSE(Internal("127.0.0.1", true));
  EXPECT_FALSE(Internal("::1", true));
  EXPECT_TRUE(Internal("10.0.0.5", true));

  // Registration in production refuses loopback; development takes http to loopback only.
  EXPECT_EQ(CheckWebhookUrl("https://127.0.0.1/hook", {}, "url").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("http://8.8.8.8/hook", {.allow_loopback = true}, "url").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckWebhookUrl("https://8.8.8.8/hook", {}, "url").ok());
  EXPECT_TRUE(CheckWebhookUrl("http://127.0.0.1:9/hook", {.allow_loopback = true}, "url").ok());
}

TEST(WebhookRules, TheSenderChecksTheAddressItDials) {
  Receiver receiver;
  const WebhookDelivery d{
      .url = receiver.url(), .id = "e-1", .timestamp = 1, .signature = "v1,x", .body = "{}"};
  DeliveryResult refused = WebhookSender({}, absl::Seconds(2)).Post(d);
  EXPECT_FALSE(refused.delivered);
  EXPECT_EQ(receiver.attempts(), 0);
  EXPECT_NE(refused.error.find("internal address"), std::string::npos) << refused.error;
  DeliveryResult sent = WebhookSender({.allow_loopback = true}, absl::Seconds(2)).Post(d);
  EXPECT_TRUE(sent.delivered) << sent.error;
  EXPECT_EQ(sent.http_status, 204);
  ASSERT_EQ(receiver.received().size(), 1u);
  EXPECT_EQ(receiver.received()[0].id, "e-1");
  EXPECT_EQ(receiver.received()[0].signature, "v1,x");

  // Backoff doubles from the first retry to the cap, within its jitter.
  WebhookDispatcher::Options o{.first_retry = absl::Seconds(5), .max_retry = absl::Hours(1)};
  EXPECT_GE(WebhookDispatcher::Backoff(1, o), absl::Seconds(3.75));
  EXPECT_LE(WebhookDispatcher::Backoff(1, o), absl::Seconds(6.25));
  EXPECT_GE(WebhookDispatcher::Backoff(4, o), absl::Seconds(30));
  EXPECT_LE(WebhookDispatcher::Backoff(4, o), absl::Seconds(50));
  EXPECT_LE(WebhookDispatcher::Backoff(30, o), absl::Minutes(75));
}

}  // namespace
}  // namespace civicpoints::events
