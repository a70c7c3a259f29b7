// The gateway end to end, in process: the real route table, gatekeeper, forwarder and both faces,
// hosted the way civicpoints-gateway hosts them, in front of a backend that accepts any method
// generically (it records what reached it and answers what a test tells it). Tokens are minted
// with a test key the gateway trusts.
#include "services/gateway/gateway.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "civicpoints/ledger/v1/ledger_service.pb.h"
#include "common/auth/jwt.h"
#include "common/auth/method_policy.h"
#include "common/labels/label_catalogue.h"
#include "common/server/service_host.h"
#include "common/status/grpc_status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "services/gateway/http_server.h"

namespace civicpoints::gateway {
namespace {

namespace gp = ::google::protobuf;
using common::v1::Role;
using nlohmann::json;

constexpr char kGoodApiKey[] = "cpk_ak1_secretsecretsecretsecretsecretsecretsecret";
constexpr char kExchange[] = "/civicpoints.identity.v1.IdentityService/ExchangeApiKey";
constexpr char kTopRanking[] = "/civicpoints.ledger.v1.LedgerService/GetTopRanking";

// What reached the backend.
struct Seen {
  std::string method;
  std::string request;
  std::map<std::string, std::string> metadata;
  absl::Time deadline = absl::InfiniteFuture();
};

// Answers a call: status, response bytes, trailing metadata.
struct Answer {
  grpc::Status status;
  std::string response;
  std::vector<std::pair<std::string, std::string>> trailers;
  absl::Duration delay;  // answered this much later (a slow identity), holding no thread
};
using Script = std::function<Answer(const Seen&)>;

// A gRPC server taking any method: records each call and answers by the script (default: OK
// with an empty message, which parses as every response type).
class AnyMethodBackend final : public grpc::CallbackGenericService {
 public:
  AnyMethodBackend() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterCallbackGenericService(this);
    server_ = builder.BuildAndStart();
  }
  ~AnyMethodBackend() override { server_->Shutdown(); }

  int port() const { return port_; }
  void SetScript(Script script) {
    absl::MutexLock lock(&mu_);
    script_ = std::move(script);
  }
  std::vector<Seen> Calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    calls_.clear();
  }
  int CountOf(const std::string& method) {
    absl::MutexLock lock(&mu_);
    int n = 0;
    for (const Seen& s : calls_) n += s.method == method;
    return n;
  }

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    class Reactor final : public grpc::ServerGenericBidiReactor {
     public:
      Reactor(AnyMethodBackend* backend, grpc::GenericCallbackServerContext* ctx)
          : backend_(backend), ctx_(ctx) {
        StartRead(&request_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no message"));
          return;
        }
        Seen seen;
        seen.method = ctx_->method();
        std::vector<grpc::Slice> slices;
        (void)request_.Dump(&slices);
        for (const grpc::Slice& s : slices) {
          seen.request.append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
        for (const auto& [k, v] : ctx_->client_metadata()) {
          seen.metadata[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
        }
        if (ctx_->deadline() != std::chrono::system_clock::time_point::max()) {
          seen.deadline = absl::FromChrono(ctx_->deadline());
        }
        Answer answer;
        {
          absl::MutexLock lock(&backend_->mu_);
          backend_->calls_.push_back(seen);
          if (backend_->script_) answer = backend_->script_(seen);
        }
        for (const auto& [k, v] : answer.trailers) ctx_->AddTrailingMetadata(k, v);
        if (answer.delay > absl::ZeroDuration()) {
          std::thread([this, answer] {
            absl::SleepFor(answer.delay);
            Reply(answer);
          }).detach();
          return;
        }
        Reply(answer);
      }
      void Reply(const Answer& answer) {
        if (!answer.status.ok()) {
          Finish(answer.status);
          return;
        }
        grpc::Slice slice(answer.response);
        response_ = grpc::ByteBuffer(&slice, 1);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      AnyMethodBackend* backend_;
      grpc::GenericCallbackServerContext* ctx_;
      grpc::ByteBuffer request_;
      grpc::ByteBuffer response_;
    };
    return new Reactor(this, ctx);
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  absl::Mutex mu_;
  Script script_ ABSL_GUARDED_BY(mu_);
  std::vector<Seen> calls_ ABSL_GUARDED_BY(mu_);
};

struct CallResult {
  grpc::Status status;
  std::string response;
  std::multimap<std::string, std::string> trailers;
};

// A gateway (both faces) in front of an AnyMethodBackend serving all four services.
class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override { StartGateway(Limits{}); }

  struct Limits {
    RateLimit per_principal{.per_second = 1e6, .burst = 1e6};
    RateLimit per_address{.per_second = 1e6, .burst = 1e6};
    std::string ledger_address;  // empty: the test backend
    std::string trusted_proxies;
    int max_connections = 10000;
    absl::Duration request_timeout = absl::Seconds(10);
  };

  void StartGateway(const Limits& limits) {
    rest_client_.reset();
    if (gateway_ != nullptr) gateway_->StopRest();
    host_.reset();
    gateway_.reset();
    auth::TokenSigner::GenerateKeyPair(&pk_, &sk_);
    auth::KeySet keys;
    keys.Add("test", pk_);
    authorizer_ = std::make_unique<auth::Authorizer>(std::make_shared<const auth::TokenVerifier>(
        std::make_shared<auth::StaticKeyProvider>(keys)));
    const std::string backend = absl::StrCat("127.0.0.1:", backend_.port());
    GatewaySettings settings;
    settings.backends = {
        {"identity", {backend, absl::Seconds(5)}},
        {"activity", {backend, absl::Seconds(5)}},
        {"ledger",
         {limits.ledger_address.empty() ? backend : limits.ledger_address, absl::Seconds(5)}},
        {"rewards", {backend, absl::Seconds(5)}},
        {"events", {backend, absl::Seconds(5)}}};
    settings.per_principal = limits.per_principal;
    settings.per_address = limits.per_address;
    absl::StatusOr<TrustedProxies> proxies = TrustedProxies::Parse(limits.trusted_proxies);
    ASSERT_TRUE(proxies.ok()) << proxies.status();
    settings.trusted_proxies = *std::move(proxies);
    absl::StatusOr<std::unique_ptr<Gateway>> gw = Gateway::Create(settings, authorizer_.get());
    ASSERT_TRUE(gw.ok()) << gw.status();
    gateway_ = *std::move(gw);
    absl::StatusOr<std::unique_ptr<server::ServiceHost>> host = server::ServiceHost::Start(
        {.service_name = "gateway", .generic_service = gateway_->grpc_face(), .log_calls = false},
        {});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
    ASSERT_TRUE(gateway_
                    ->StartRest({.port = 0,
                                 .max_body_bytes = 64 * 1024,
                                 .io_threads = 2,
                                 .max_connections = limits.max_connections,
                                 .request_timeout = limits.request_timeout,
                                 .cors_origins = {"https://dashboard.example.cn"}},
                                &host_->metrics().registry())
                    .ok());
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
    rest_client_ = std::make_unique<httplib::Client>("127.0.0.1", gateway_->rest_port());
    rest_client_->set_read_timeout(10, 0);
    backend_.Clear();
  }

  void TearDown() override {
    rest_client_.reset();
    if (gateway_ != nullptr) gateway_->StopRest();
    host_.reset();
  }

  std::string Token(Role role, std::vector<std::string> scopes = {}) {
    auth::Principal p;
    p.subject = absl::StrCat("p-", auth::RoleName(role));
    p.roles = {
        {role, role == common::v1::ROLE_CITY_SYSTEM || role == common::v1::ROLE_INTERNAL_SERVICE
                   ? ""
                   : "c1"}};
    p.scopes = std::move(scopes);
    p.issued_at = absl::Now();
    p.expires_at = absl::Now() + absl::Minutes(15);
    return absl::StrCat("Bearer ", auth::TokenSigner("test", sk_).Sign(p));
  }

  CallResult CallGrpc(const std::string& method, const std::string& request,
                      const std::vector<std::pair<std::string, std::string>>& metadata = {},
                      absl::Duration timeout = absl::Seconds(10)) {
    grpc::ClientContext ctx;
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    grpc::Slice slice(request);
    grpc::ByteBuffer req(&slice, 1);
    grpc::ByteBuffer resp;
    absl::Mutex mu;
    bool done = false;
    CallResult result;
    stub_->UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp, [&](grpc::Status s) {
      absl::MutexLock lock(&mu);
      result.status = std::move(s);
      done = true;
    });
    {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(&done));
    }
    std::vector<grpc::Slice> slices;
    if (result.status.ok() && resp.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        result.response.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    for (const auto& [k, v] : ctx.GetServerTrailingMetadata()) {
      result.trailers.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
    return result;
  }

  httplib::Result CallRest(const std::string& verb, const std::string& path,
                           const std::string& body = "", httplib::Headers headers = {}) {
    if (verb == "GET") return rest_client_->Get(path, headers);
    if (verb == "DELETE") return rest_client_->Delete(path, headers, body, "application/json");
    if (verb == "POST") return rest_client_->Post(path, headers, body, "application/json");
    if (verb == "PUT") return rest_client_->Put(path, headers, body, "application/json");
    if (verb == "PATCH") return rest_client_->Patch(path, headers, body, "application/json");
    return rest_client_->Options(path, headers);
  }

  AnyMethodBackend backend_;
  auth::Ed25519PublicKey pk_;
  auth::Ed25519SecretKey sk_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<server::ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
  std::unique_ptr<httplib::Client> rest_client_;
};

// A concrete URL for a route: each path variable replaced by "v1x".
std::string UrlFor(const Route& route) {
  std::string path;
  for (const std::string& s : route.segments) {
    absl::StrAppend(&path, "/", s.front() == '{' ? "v1x" : s);
  }
  if (!route.custom_verb.empty()) absl::StrAppend(&path, ":", route.custom_verb);
  return path;
}

std::vector<Role> AllRoles() {
  std::vector<Role> roles;
  const gp::EnumDescriptor* e = common::v1::Role_descriptor();
  for (int i = 0; i < e->value_count(); ++i) {
    if (e->value(i)->number() != 0) roles.push_back(static_cast<Role>(e->value(i)->number()));
  }
  return roles;
}

// Whether the declared policy lets a caller with `role` (nullopt: no credentials) in, with every
// scope a city system could need.
bool Allowed(const auth::MethodPolicy& policy, std::optional<Role> role) {
  if (policy.is_public) return true;
  if (!role) return false;
  if (policy.any_authenticated) return true;
  return std::find(policy.roles.begin(), policy.roles.end(), *role) != policy.roles.end();
}

TEST_F(GatewayTest, EveryMethodTimesEveryRoleIsAllowedOrDeniedAsDeclaredOnBothFaces) {
  std::vector<std::string> all_scopes;
  for (const auto& r : gateway_->routes().routes()) {
    for (const std::string& s : r->policy.scopes) all_scopes.push_back(s);
  }
  std::map<Role, std::string> tokens;
  for (Role role : AllRoles()) tokens[role] = Token(role, all_scopes);
  std::vector<std::optional<Role>> callers = {std::nullopt};
  for (Role role : AllRoles()) callers.push_back(role);

  int checked = 0;
  int allowed_calls = 0;
  for (const auto& r : gateway_->routes().routes()) {
    const Route& route = *r;
    ASSERT_TRUE(route.policy_status.ok()) << route.grpc_path << ": " << route.policy_status;
    if (route.policy.internal) continue;  // InternalMethodsAreRefusedWhateverTheToken
    // A server-streaming method has the gRPC face only (the contract test holds it to that).
    const bool rest = !route.method->server_streaming();
    ASSERT_TRUE(!rest || !route.http_template.empty()) << route.grpc_path << " has no REST route";
    for (const std::optional<Role>& role : callers) {
      const bool allowed = Allowed(route.policy, role);
      std::vector<std::pair<std::string, std::string>> md;
      httplib::Headers headers;
      if (role) {
        md.emplace_back("authorization", tokens[*role]);
        headers.emplace("Authorization", tokens[*role]);
      }
      const std::string who = role ? auth::RoleName(*role) : "anonymous";
      backend_.Clear();
      CallResult g = CallGrpc(route.grpc_path, "", md);
      if (allowed) {
        EXPECT_TRUE(g.status.ok())
            << route.grpc_path << " as " << who << ": " << g.status.error_message();
        EXPECT_EQ(backend_.CountOf(route.grpc_path), 1) << route.grpc_path << " as " << who;
      } else {
        EXPECT_EQ(g.status.error_code(),
                  role ? grpc::StatusCode::PERMISSION_DENIED : grpc::StatusCode::UNAUTHENTICATED)
            << route.grpc_path << " as " << who;
        EXPECT_EQ(backend_.CountOf(route.grpc_path), 0) << route.grpc_path << " as " << who;
      }
      backend_.Clear();
      if (!rest) {
        ++checked;
        continue;
      }
      const bool has_body =
          route.http_verb == "POST" || route.http_verb == "PUT" || route.http_verb == "PATCH";
      httplib::Result h = CallRest(route.http_verb, UrlFor(route), has_body ? "{}" : "", headers);
      ASSERT_TRUE(h) << route.http_verb << " " << UrlFor(route);
      if (allowed) {
        EXPECT_EQ(h->status, 200) << route.http_verb << " " << UrlFor(route) << " as " << who
                                  << ": " << h->body;
        EXPECT_EQ(backend_.CountOf(route.grpc_path), 1) << route.grpc_path << " as " << who;
        ++allowed_calls;
      } else {
        EXPECT_EQ(h->status, role ? 403 : 401)
            << route.http_verb << " " << UrlFor(route) << " as " << who << ": " << h->body;
        EXPECT_EQ(backend_.CountOf(route.grpc_path), 0) << route.grpc_path << " as " << who;
      }
      ++checked;
    }
  }
  // 4 services, ~150 methods, 8 roles and anonymous: the walk really ran, both ways.
  EXPECT_GT(checked, 1000);
  EXPECT_GT(allowed_calls, 100);
  EXPECT_LT(allowed_calls, checked - 100);
}

TEST_F(GatewayTest, CitySystemWithoutTheDeclaredScopeIsRefused) {
  const std::string no_scope = Token(common::v1::ROLE_CITY_SYSTEM, {"activity.read"});
  CallResult g = CallGrpc(kTopRanking, "", {{"authorization", no_scope}});
  EXPECT_EQ(g.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(g.status.error_message(), "ledger.read"));
  const std::string scoped = Token(common::v1::ROLE_CITY_SYSTEM, {"ledger.read"});
  EXPECT_TRUE(CallGrpc(kTopRanking, "", {{"authorization", scoped}}).status.ok());
}

TEST_F(GatewayTest, RequestIdTokenClientAddressAndDeadlineGoDownstream) {
  const std::string token = Token(common::v1::ROLE_RIDER);
  CallResult given =
      CallGrpc(kTopRanking, "", {{"authorization", token}, {"x-request-id", "req-given-1"}},
               absl::Seconds(3));
  ASSERT_TRUE(given.status.ok()) << given.status.error_message();
  std::vector<Seen> calls = backend_.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].metadata["x-request-id"], "req-given-1");
  EXPECT_EQ(calls[0].metadata["authorization"], token);
  EXPECT_EQ(calls[0].metadata["x-client-address"], "127.0.0.1");
  // The caller's 3 s, not the backend timeout (5 s here); the wire rounds the timeout a little.
  EXPECT_LE(calls[0].deadline, absl::Now() + absl::Seconds(3) + absl::Milliseconds(200));
  EXPECT_GT(calls[0].deadline, absl::Now());

  backend_.Clear();
  ASSERT_TRUE(CallGrpc(kTopRanking, "", {{"authorization", token}}).status.ok());
  calls = backend_.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_FALSE(calls[0].metadata["x-request-id"].empty());

  backend_.Clear();
  httplib::Result h =
      CallRest("GET", "/v1/rankings/top", "", {{"Authorization", token}, {"X-Request-Id", "r-9"}});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->get_header_value("X-Request-Id"), "r-9");
  calls = backend_.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].metadata["x-request-id"], "r-9");
  EXPECT_EQ(calls[0].metadata["x-client-address"], "127.0.0.1");
  EXPECT_EQ(calls[0].metadata.count("accept-language"), 0u) << "none asked, none passed on";
}

TEST_F(GatewayTest, RequestBytesPassUnchangedOverGrpc) {
  ledger::v1::GetTopRankingRequest req;
  req.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  req.mutable_scope()->set_org_id("s-清源");
  req.set_top_n(10);
  // Unknown fields too: the gateway never decodes the message.
  std::string bytes = req.SerializeAsString() + std::string("\xa8\x1f\x07", 3);
  backend_.SetScript([](const Seen& s) { return Answer{grpc::Status::OK, "\x08\x01", {}}; });
  CallResult g = CallGrpc(kTopRanking, bytes, {{"authorization", Token(common::v1::ROLE_RIDER)}});
  ASSERT_TRUE(g.status.ok());
  EXPECT_EQ(g.response, "\x08\x01");
  ASSERT_EQ(backend_.Calls().size(), 1u);
  EXPECT_EQ(backend_.Calls()[0].request, bytes);
}

TEST_F(GatewayTest, JsonRoundTripKeepsChineseTextAndBindsPathQueryAndBody) {
  const std::string admin = Token(common::v1::ROLE_DISTRICT_ADMIN);
  identity::v1::CreateOrgNodeResponse answer;
  answer.mutable_node()->set_org_id("s-qingyuan");
  answer.mutable_node()->set_name("清源街道");
  answer.mutable_node()->set_level(common::v1::ORG_LEVEL_STREET);
  backend_.SetScript([&](const Seen&) {
    return Answer{grpc::Status::OK, answer.SerializeAsString(), {}};
  });
  httplib::Result h = CallRest(
      "POST", "/v1/orgs",
      R"({"parentId": "d-pingcheng", "level": "ORG_LEVEL_STREET", "code": "QY", "name": "清源街道"})",
      {{"Authorization", admin}});
  ASSERT_TRUE(h);
  ASSERT_EQ(h->status, 200) << h->body;
  EXPECT_TRUE(absl::StrContains(h->body, "\"name\":\"清源街道\"")) << h->body;
  EXPECT_TRUE(absl::StrContains(h->get_header_value("Content-Type"), "application/json"));
  json body = json::parse(h->body);
  EXPECT_EQ(body["node"]["orgId"], "s-qingyuan");
  EXPECT_EQ(body["node"]["level"], "ORG_LEVEL_STREET");
  identity::v1::CreateOrgNodeRequest got;
  ASSERT_TRUE(got.ParseFromString(backend_.Calls().at(0).request));
  EXPECT_EQ(got.parent_id(), "d-pingcheng");
  EXPECT_EQ(got.name(), "清源街道");
  EXPECT_EQ(got.level(), common::v1::ORG_LEVEL_STREET);

  // `curl -d '{...}'` sends JSON labelled as a form: it is still JSON, and the URL's query
  // parameters still bind.
  backend_.Clear();
  h = rest_client_->Post(
      "/v1/orgs?code=QY2", {{"Authorization", admin}},
      R"({"parentId": "d-pingcheng", "level": "ORG_LEVEL_STREET", "name": "清源"})",
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->status, 200) << h->body;
  ASSERT_TRUE(got.ParseFromString(backend_.Calls().at(0).request));
  EXPECT_EQ(got.name(), "清源");
  EXPECT_EQ(got.code(), "QY2");

  // Query string into nested fields, by JSON or proto names.
  backend_.Clear();
  backend_.SetScript(nullptr);
  h = CallRest("GET",
               "/v1/rankings/top?scope.level=ORG_LEVEL_STREET&scope.org_id=s-%E6%B8%85&"
               "period.kind=RANKING_PERIOD_KIND_ALL_TIME&topN=10&includeTies=true",
               "", {{"Authorization", Token(common::v1::ROLE_RIDER)}});
  ASSERT_TRUE(h);
  ASSERT_EQ(h->status, 200) << h->body;
  ledger::v1::GetTopRankingRequest top;
  ASSERT_TRUE(top.ParseFromString(backend_.Calls().at(0).request));
  EXPECT_EQ(top.scope().level(), common::v1::ORG_LEVEL_STREET);
  EXPECT_EQ(top.scope().org_id(), "s-清");
  EXPECT_EQ(top.period().kind(), common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  EXPECT_EQ(top.top_n(), 10);
  EXPECT_TRUE(top.include_ties());

  // A path variable binds its field.
  backend_.Clear();
  h = CallRest("GET", "/v1/accounts/p-42", "", {{"Authorization", Token(common::v1::ROLE_RIDER)}});
  ASSERT_TRUE(h);
  ASSERT_EQ(h->status, 200) << h->body;
  ledger::v1::GetBalanceRequest balance;
  ASSERT_TRUE(balance.ParseFromString(backend_.Calls().at(0).request));
  EXPECT_EQ(balance.person_id(), "p-42");
}

TEST_F(GatewayTest, BadRestInputGetsAClearJsonErrorAndTheGatewayKeepsServing) {
  const std::string admin = Token(common::v1::ROLE_DISTRICT_ADMIN);
  struct Case {
    std::string verb, path, body;
    bool with_token;
    int http_status;
    std::string status, message_has;
  } cases[] = {
      {"POST", "/v1/orgs", "{\"name\": ", true, 400, "INVALID_ARGUMENT", "request body"},
      {"POST", "/v1/orgs", "{\"name\": 5}", true, 400, "INVALID_ARGUMENT", "request body"},
      {"POST", "/v1/orgs", "{\"nickname\": \"x\"}", true, 400, "INVALID_ARGUMENT", "nickname"},
      {"GET", "/v1/rankings/top?topN=ten", "", true, 400, "INVALID_ARGUMENT", "URL parameters"},
      {"GET", "/v1/rankings/top?bogus=1", "", true, 400, "INVALID_ARGUMENT", "bogus"},
      // Percent escapes that decode to bytes that are not UTF-8 (found by fuzz_rest_request:
      // they once threw out of the JSON library and ended the gateway).
      {"GET", "/v1/rankings/top?scope.orgId=%FF%FE", "", true, 400, "INVALID_ARGUMENT",
       "not valid UTF-8"},
      {"GET", "/v1/accounts/%C3%28", "", true, 400, "INVALID_ARGUMENT", "not valid UTF-8"},
      // A path through a field that is not a message (it once dereferenced a null descriptor).
      {"GET", "/v1/rankings/top?topN.x=1", "", true, 400, "INVALID_ARGUMENT", "has no fields"},
      {"GET", "/v1/no/such/route", "", true, 404, "NOT_FOUND", "no route"},
      {"DELETE", "/v1/rankings/top", "", true, 405, "UNIMPLEMENTED", "allowed: GET"},
      {"POST", "/v1/orgs", "{}", false, 401, "UNAUTHENTICATED", "access token"},
      {"GET", "/v1/rankings/top", "", false, 401, "UNAUTHENTICATED", "access token"},
      // Award is internal: it has no REST route at all.
      // Award has no REST route any more; the path is GetBalance's, under GET only.
      {"POST", "/v1/accounts/p1:award", "{}", true, 405, "UNIMPLEMENTED", "allowed: GET"},
      {"POST", "/v1/accounts/p1:deduct", "{}", false, 401, "UNAUTHENTICATED", "access token"},
  };
  for (const Case& c : cases) {
    httplib::Headers headers;
    if (c.with_token) headers.emplace("Authorization", admin);
    httplib::Result h = CallRest(c.verb, c.path, c.body, headers);
    ASSERT_TRUE(h) << c.verb << " " << c.path;
    EXPECT_EQ(h->status, c.http_status) << c.verb << " " << c.path << ": " << h->body;
    json err = json::parse(h->body, nullptr, false);
    ASSERT_TRUE(err.is_object()) << h->body;
    EXPECT_EQ(err["status"], c.status) << h->body;
    EXPECT_TRUE(err["code"].is_number()) << h->body;
    EXPECT_TRUE(err["details"].is_array()) << h->body;
    EXPECT_TRUE(absl::StrContains(err["message"].get<std::string>(), c.message_has)) << h->body;
  }
  httplib::Result wrong = CallRest("DELETE", "/v1/rankings/top", "", {{"Authorization", admin}});
  EXPECT_EQ(wrong->get_header_value("Allow"), "GET");

  httplib::Result bad_token =
      CallRest("GET", "/v1/rankings/top", "", {{"Authorization", "Bearer not.a.token"}});
  EXPECT_EQ(bad_token->status, 401);

  // A body over the limit (64 KiB here) is refused before it is read whole.
  httplib::Result big = CallRest("POST", "/v1/orgs",
                                 absl::StrCat("{\"name\": \"", std::string(100 * 1024, 'x'), "\"}"),
                                 {{"Authorization", admin}});
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(json::parse(big->body)["status"], "RESOURCE_EXHAUSTED");

  EXPECT_EQ(backend_.Calls().size(), 0u);
  httplib::Result ok =
      CallRest("POST", "/v1/orgs", "{\"name\": \"x\"}", {{"Authorization", admin}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST_F(GatewayTest, BadGrpcInputGetsAClearStatusAndTheGatewayKeepsServing) {
  const std::string rider = Token(common::v1::ROLE_RIDER);
  CallResult unknown =
      CallGrpc("/civicpoints.ledger.v1.LedgerService/NoSuchMethod", "", {{"authorization", rider}});
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // Made-up paths do not become metric labels.
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, host_->metrics().registry().Collect());
  EXPECT_EQ(text.str().find("NoSuchMethod"), std::string::npos);
  EXPECT_NE(text.str().find("grpc_method=\"unknown\""), std::string::npos);
  CallResult no_token = CallGrpc(kTopRanking, "");
  EXPECT_EQ(no_token.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  CallResult bad_token = CallGrpc(kTopRanking, "", {{"authorization", "Bearer x.y.z"}});
  EXPECT_EQ(bad_token.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  CallResult not_bearer = CallGrpc(kTopRanking, "", {{"authorization", "Basic abc"}});
  EXPECT_EQ(not_bearer.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  CallResult oversize =
      CallGrpc(kTopRanking, std::string(5 * 1024 * 1024, 'x'), {{"authorization", rider}});
  EXPECT_EQ(oversize.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << oversize.status.error_message();
  EXPECT_EQ(backend_.Calls().size(), 0u);
  EXPECT_TRUE(CallGrpc(kTopRanking, "", {{"authorization", rider}}).status.ok());
}

TEST_F(GatewayTest, BackendErrorsAndTheirDetailsReachBothFaces) {
  backend_.SetScript([](const Seen&) {
    grpc::Status s = ToGrpcStatus(WithRetryDelay(
        absl::ResourceExhaustedError("too many guesses; wait 30 s"), absl::Seconds(30)));
    return Answer{s, "", {{"retry-after", "30"}}};
  });
  const std::string rider = Token(common::v1::ROLE_RIDER);
  CallResult g = CallGrpc(kTopRanking, "", {{"authorization", rider}});
  EXPECT_EQ(g.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(g.status.error_message(), "too many guesses; wait 30 s");
  EXPECT_FALSE(g.status.error_details().empty());
  EXPECT_EQ(g.trailers.find("retry-after")->second, "30");

  httplib::Result h = CallRest("GET", "/v1/rankings/top", "", {{"Authorization", rider}});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 429);
  EXPECT_EQ(h->get_header_value("Retry-After"), "30");

  {
    // A backend that says when to retry only in the RetryInfo detail, as activity's check-in
    // throttle does: REST clients still get the header, rounded up to whole seconds.
    backend_.SetScript([](const Seen&) {
      return Answer{ToGrpcStatus(WithRetryDelay(absl::ResourceExhaustedError("slow down"),
                                                absl::Milliseconds(2500))),
                    "",
                    {}};
    });
    httplib::Result detail_only =
        CallRest("GET", "/v1/rankings/top", "", {{"Authorization", rider}});
    ASSERT_TRUE(detail_only);
    EXPECT_EQ(detail_only->status, 429);
    EXPECT_EQ(detail_only->get_header_value("Retry-After"), "3");
    backend_.SetScript([](const Seen&) {
      grpc::Status s = ToGrpcStatus(WithRetryDelay(
          absl::ResourceExhaustedError("too many guesses; wait 30 s"), absl::Seconds(30)));
      return Answer{s, "", {{"retry-after", "30"}}};
    });
  }
  json err = json::parse(h->body);
  EXPECT_EQ(err["code"], 8);
  ASSERT_EQ(err["details"].size(), 2u) << h->body;
  EXPECT_EQ(err["details"][0]["@type"], "type.googleapis.com/google.rpc.RetryInfo");
  EXPECT_EQ(err["details"][0]["retryDelay"], "30s");
  EXPECT_EQ(err["details"][1]["@type"], "type.googleapis.com/google.rpc.LocalizedMessage");

  backend_.SetScript([](const Seen&) {
    return Answer{grpc::Status(grpc::StatusCode::NOT_FOUND, "no account p-1"), "", {}};
  });
  h = CallRest("GET", "/v1/accounts/p-1", "", {{"Authorization", rider}});
  EXPECT_EQ(h->status, 404);
  EXPECT_EQ(json::parse(h->body)["message"], "no account p-1");
}

// The LocalizedMessage of a REST error body, as {locale, message}.
std::pair<std::string, std::string> RestLocalized(const std::string& body) {
  const json err = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!err.is_object() || !err.contains("details")) return {};
  for (const json& d : err["details"]) {
    if (d.value("@type", "") == "type.googleapis.com/google.rpc.LocalizedMessage") {
      return {d.value("locale", ""), d.value("message", "")};
    }
  }
  return {};
}

TEST_F(GatewayTest, ErrorsCarryASentenceInTheCallersLanguageOnBothFaces) {
  using labels::Locale;
  const labels::LabelCatalogue& catalogue = labels::LabelCatalogue::Builtin();
  // The gateway's own refusals: Chinese when the caller names no language, else as asked.
  httplib::Result zh = CallRest("GET", "/v1/no/such/route");
  ASSERT_TRUE(zh);
  EXPECT_EQ(RestLocalized(zh->body),
            std::make_pair(std::string("zh-CN"), *catalogue.CodeLabel(5, Locale::kZhCn)));
  httplib::Result en =
      CallRest("GET", "/v1/rankings/top", "", {{"Accept-Language", "en-US,en;q=0.9,zh;q=0.8"}});
  ASSERT_TRUE(en);
  EXPECT_EQ(en->status, 401);
  EXPECT_EQ(RestLocalized(en->body),
            std::make_pair(std::string("en"), *catalogue.CodeLabel(16, Locale::kEn)));

  // A backend's refusal with a reason gets that reason's sentence; the choice goes downstream.
  backend_.SetScript([](const Seen&) {
    return Answer{ToGrpcStatus(WithErrorReason(absl::FailedPreconditionError("station s1 has 0"),
                                               "OUT_OF_STOCK", "rewards.civicpoints", {})),
                  "",
                  {}};
  });
  const std::string rider = Token(common::v1::ROLE_RIDER);
  httplib::Result refused = CallRest("GET", "/v1/rankings/top", "",
                                     {{"Authorization", rider}, {"Accept-Language", "en-GB"}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(RestLocalized(refused->body),
            std::make_pair(std::string("en"), *catalogue.ReasonLabel("rewards.civicpoints",
                                                                     "OUT_OF_STOCK", Locale::kEn)));
  EXPECT_EQ(json::parse(refused->body)["message"], "station s1 has 0");
  std::vector<Seen> calls = backend_.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].metadata["accept-language"], "en");

  backend_.Clear();
  CallResult g =
      CallGrpc(kTopRanking, "", {{"authorization", rider}, {"accept-language", "zh-Hans-CN"}});
  EXPECT_EQ(g.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(g.status.error_message(), "station s1 has 0");
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(g.status.error_details()));
  google::rpc::LocalizedMessage localized;
  ASSERT_EQ(rich.details_size(), 2);
  ASSERT_TRUE(rich.details(1).UnpackTo(&localized));
  EXPECT_EQ(localized.locale(), "zh-CN");
  EXPECT_EQ(localized.message(),
            *catalogue.ReasonLabel("rewards.civicpoints", "OUT_OF_STOCK", Locale::kZhCn));
  calls = backend_.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].metadata["accept-language"], "zh-CN");

  // The gRPC face's own refusal (no token) too.
  CallResult anonymous = CallGrpc(kTopRanking, "", {{"accept-language", "en"}});
  EXPECT_EQ(anonymous.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(rich.ParseFromString(anonymous.status.error_details()));
  ASSERT_GE(rich.details_size(), 1);
  ASSERT_TRUE(rich.details(rich.details_size() - 1).UnpackTo(&localized));
  EXPECT_EQ(localized.locale(), "en");
  EXPECT_EQ(localized.message(), *catalogue.CodeLabel(16, Locale::kEn));
}

TEST_F(GatewayTest, OnlyMethodsSafeToRetryAreRetriedWhenTheBackendCannotTakeTheCall) {
  std::atomic<int> calls{0};
  backend_.SetScript([&](const Seen&) {
    return ++calls % 2 == 1 ? Answer{grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting")}
                            : Answer{};
  });
  // GetTopRanking declares NO_SIDE_EFFECTS: retried once, the caller sees success.
  EXPECT_TRUE(
      CallGrpc(kTopRanking, "", {{"authorization", Token(common::v1::ROLE_RIDER)}}).status.ok());
  EXPECT_EQ(backend_.CountOf(kTopRanking), 2);
  // Login declares no idempotency level: never resent.
  calls = 0;
  const std::string login = "/civicpoints.identity.v1.IdentityService/Login";
  EXPECT_EQ(CallGrpc(login, "").status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(backend_.CountOf(login), 1);
}

TEST_F(GatewayTest, ABackendThatIsDownAnswersUnavailableQuickly) {
  Limits limits;
  limits.ledger_address = "127.0.0.1:1";  // nothing listens there
  StartGateway(limits);
  const std::string rider = Token(common::v1::ROLE_RIDER);
  const absl::Time start = absl::Now();
  CallResult g = CallGrpc(kTopRanking, "", {{"authorization", rider}}, absl::Seconds(20));
  EXPECT_EQ(g.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  httplib::Result h = CallRest("GET", "/v1/rankings/top", "", {{"Authorization", rider}});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 503);
  EXPECT_EQ(json::parse(h->body)["status"], "UNAVAILABLE");
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  // The other backends still serve.
  EXPECT_TRUE(
      CallGrpc("/civicpoints.identity.v1.IdentityService/WhoAmI", "", {{"authorization", rider}})
          .status.ok());
}

TEST_F(GatewayTest, RateLimitsPerPrincipalAndPerAddressAnswer429WithRetryAfter) {
  Limits limits;
  limits.per_principal = {.per_second = 0.1, .burst = 3};
  limits.per_address = {.per_second = 0.1, .burst = 2};
  StartGateway(limits);
  const std::string rider = Token(common::v1::ROLE_RIDER);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(CallGrpc(kTopRanking, "", {{"authorization", rider}}).status.ok()) << i;
  }
  CallResult g = CallGrpc(kTopRanking, "", {{"authorization", rider}});
  EXPECT_EQ(g.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ASSERT_NE(g.trailers.find("retry-after"), g.trailers.end());
  EXPECT_GE(std::stoi(g.trailers.find("retry-after")->second), 1);
  httplib::Result h = CallRest("GET", "/v1/rankings/top", "", {{"Authorization", rider}});
  EXPECT_EQ(h->status, 429);
  EXPECT_FALSE(h->get_header_value("Retry-After").empty());
  // Another principal has its own bucket.
  EXPECT_TRUE(CallGrpc(kTopRanking, "", {{"authorization", Token(common::v1::ROLE_STREET_STAFF)}})
                  .status.ok());

  // Login has no credentials: limited per client address.
  const std::string login = "/civicpoints.identity.v1.IdentityService/Login";
  EXPECT_TRUE(CallGrpc(login, "").status.ok());
  EXPECT_EQ(CallRest("POST", "/v1/auth:login", "{}")->status, 200);
  h = CallRest("POST", "/v1/auth:login", "{}");
  EXPECT_EQ(h->status, 429);
  EXPECT_EQ(CallGrpc(login, "").status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(backend_.CountOf(login), 2);
}

TEST_F(GatewayTest, ApiKeyIsExchangedOnceAndItsTokenForwarded) {
  const std::string city_token = Token(common::v1::ROLE_CITY_SYSTEM, {"ledger.read"});
  backend_.SetScript([&](const Seen& s) {
    if (s.method != kExchange) return Answer{};
    identity::v1::ExchangeApiKeyRequest req;
    req.ParseFromString(s.request);
    if (req.api_key() != kGoodApiKey) {
      return Answer{grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unknown API key")};
    }
    identity::v1::ExchangeApiKeyResponse resp;
    resp.set_access_token(city_token.substr(strlen("Bearer ")));
    resp.mutable_access_token_expire_time()->set_seconds(
        absl::ToUnixSeconds(absl::Now() + absl::Minutes(15)));
    return Answer{grpc::Status::OK, resp.SerializeAsString(), {}};
  });
  for (int i = 0; i < 3; ++i) {
    CallResult g = CallGrpc(kTopRanking, "", {{"x-api-key", kGoodApiKey}});
    ASSERT_TRUE(g.status.ok()) << g.status.error_message();
  }
  httplib::Result h = CallRest("GET", "/v1/rankings/top", "", {{"X-Api-Key", kGoodApiKey}});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200) << h->body;
  EXPECT_EQ(backend_.CountOf(kExchange), 1);
  EXPECT_EQ(backend_.CountOf(kTopRanking), 4);
  for (const Seen& s : backend_.Calls()) {
    if (s.method == kTopRanking) {
      EXPECT_EQ(s.metadata.at("authorization"), city_token);
    }
  }
  // A city system's key does not open methods its role lacks.
  EXPECT_EQ(
      CallGrpc("/civicpoints.ledger.v1.LedgerService/Deduct", "", {{"x-api-key", kGoodApiKey}})
          .status.error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  CallResult bad = CallGrpc(kTopRanking, "", {{"x-api-key", "cpk_nope_nope"}});
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CallRest("GET", "/v1/rankings/top", "", {{"X-Api-Key", "cpk_nope_nope"}})->status, 401);
}

// An exchange answer for any key: a city system's token, valid for 15 minutes, after `delay`.
Script ExchangeScript(const std::string& city_token, absl::Duration delay = absl::ZeroDuration()) {
  return [city_token, delay](const Seen& s) {
    if (s.method != kExchange) return Answer{};
    identity::v1::ExchangeApiKeyResponse resp;
    resp.set_access_token(city_token.substr(strlen("Bearer ")));
    resp.mutable_access_token_expire_time()->set_seconds(
        absl::ToUnixSeconds(absl::Now() + absl::Minutes(15)));
    return Answer{grpc::Status::OK, resp.SerializeAsString(), {}, delay};
  };
}

TEST_F(GatewayTest, ConcurrentCallsWithOneApiKeyShareOneExchangeAndNoThreadWaitsOnIdentity) {
  const std::string city_token = Token(common::v1::ROLE_CITY_SYSTEM, {"ledger.read"});
  // Identity takes a second to answer each exchange.
  backend_.SetScript(ExchangeScript(city_token, absl::Seconds(1)));
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    callers.emplace_back([&] {
      ok += CallGrpc(kTopRanking, "", {{"x-api-key", kGoodApiKey}}).status.ok();
    });
  }
  // Four more keys being exchanged over REST, more than the REST face has io threads (2).
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<httplib::Client>("127.0.0.1", gateway_->rest_port()));
    callers.emplace_back([&, i] {
      httplib::Result h = clients[i]->Get(
          "/v1/rankings/top", {{"X-Api-Key", absl::StrCat("cpk_other", i, "_secretsecretsecret")}});
      ok += h && h->status == 200;
    });
  }
  absl::SleepFor(absl::Milliseconds(200));
  // Meanwhile a caller with a token is served at once on both faces.
  const std::string rider = Token(common::v1::ROLE_RIDER);
  absl::Time start = absl::Now();
  EXPECT_TRUE(CallGrpc(kTopRanking, "", {{"authorization", rider}}).status.ok());
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(300));
  start = absl::Now();
  httplib::Result h = CallRest("GET", "/v1/rankings/top", "", {{"Authorization", rider}});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(300));
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(ok, 10);
  // One exchange for the six calls with one key, one for each other key.
  EXPECT_EQ(backend_.CountOf(kExchange), 5);
}

TEST_F(GatewayTest, ApiKeyTokenCacheForgetsOnlyTheLeastRecentlyUsedKeyWhenFull) {
  const std::string city_token = Token(common::v1::ROLE_CITY_SYSTEM, {"ledger.read"});
  backend_.SetScript(ExchangeScript(city_token));
  ApiKeyExchanger exchanger(grpc::CreateChannel(absl::StrCat("127.0.0.1:", backend_.port()),
                                                grpc::InsecureChannelCredentials()),
                            absl::Seconds(5), /*max_keys=*/3);
  auto exchange = [&](const std::string& key) {
    absl::Notification done;
    absl::StatusOr<std::string> token;
    exchanger.TokenFor(key, absl::Now(), [&](absl::StatusOr<std::string> t) {
      token = std::move(t);
      done.Notify();
    });
    done.WaitForNotification();
    return token;
  };
  ASSERT_TRUE(exchange("cpk_a_x").ok());
  ASSERT_TRUE(exchange("cpk_b_x").ok());
  ASSERT_TRUE(exchange("cpk_c_x").ok());
  EXPECT_TRUE(
      exchanger.Cached("cpk_a_x", absl::Now()).has_value());  // a is now the most recently used
  ASSERT_TRUE(exchange("cpk_d_x").ok());
  EXPECT_EQ(exchanger.size(), 3u);
  EXPECT_FALSE(exchanger.Cached("cpk_b_x", absl::Now()).has_value());
  EXPECT_TRUE(exchanger.Cached("cpk_a_x", absl::Now()).has_value());
  EXPECT_TRUE(exchanger.Cached("cpk_c_x", absl::Now()).has_value());
  EXPECT_TRUE(exchanger.Cached("cpk_d_x", absl::Now()).has_value());
  EXPECT_EQ(backend_.CountOf(kExchange), 4);
}

TEST_F(GatewayTest, ATokenOfANewKeyIsAdmittedByCallbackOnceIdentitysKeysArriveWithoutBlocking) {
  // Identity rotated to a key the gateway has not seen, and is slow to list its keys.
  auth::Ed25519PublicKey new_pk;
  auth::Ed25519SecretKey new_sk;
  auth::TokenSigner::GenerateKeyPair(&new_pk, &new_sk);
  backend_.SetScript([&](const Seen& s) {
    if (s.method != "/civicpoints.identity.v1.IdentityService/ListPublicKeys") return Answer{};
    identity::v1::ListPublicKeysResponse resp;
    identity::v1::SigningKey* key = resp.add_keys();
    key->set_kid("rotated");
    key->set_public_key(auth::Base64UrlEncode(
        absl::string_view(reinterpret_cast<const char*>(new_pk.data()), new_pk.size())));
    resp.set_max_age_seconds(300);
    return Answer{grpc::Status::OK, resp.SerializeAsString(), {}, absl::Seconds(1)};
  });
  auto keys = std::make_shared<TokenKeys>(
      auth::KeySet(), grpc::CreateChannel(absl::StrCat("127.0.0.1:", backend_.port()),
                                          grpc::InsecureChannelCredentials()));
  auth::Authorizer authorizer(std::make_shared<const auth::TokenVerifier>(keys));
  Gatekeeper gatekeeper(&authorizer, gateway_->api_key_exchanger(), {1e6, 1e6}, {1e6, 1e6},
                        keys.get());
  const Route& route = *gateway_->routes().FindGrpc(kTopRanking);
  auth::Principal p;
  p.subject = "p-rotated";
  p.roles = {{common::v1::ROLE_RIDER, "c1"}};
  p.issued_at = absl::Now();
  p.expires_at = absl::Now() + absl::Minutes(15);
  const std::string token = absl::StrCat("Bearer ", auth::TokenSigner("rotated", new_sk).Sign(p));
  EXPECT_FALSE(keys->KnowsKidOf(token));

  absl::Notification admitted;
  Admission result;
  const absl::Time start = absl::Now();
  gatekeeper.Admit(route, {.authorization = token, .client_address = "127.0.0.1"}, absl::Now(),
                   [&](Admission a) {
                     result = std::move(a);
                     admitted.Notify();
                   });
  // The caller's thread is free at once; the decision comes when the keys do.
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_FALSE(admitted.HasBeenNotified());
  ASSERT_TRUE(admitted.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.principal, "p-rotated");
  EXPECT_TRUE(keys->KnowsKidOf(token));

  // A forged kid right after: refused at once, without another call to identity.
  const std::string forged = absl::StrCat("Bearer ", auth::TokenSigner("forged", new_sk).Sign(p));
  absl::Notification refused;
  gatekeeper.Admit(route, {.authorization = forged, .client_address = "127.0.0.1"}, absl::Now(),
                   [&](Admission a) {
                     EXPECT_EQ(a.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
                     refused.Notify();
                   });
  EXPECT_TRUE(refused.HasBeenNotified());
  EXPECT_EQ(keys->fetches(), 1);
  EXPECT_EQ(backend_.CountOf("/civicpoints.identity.v1.IdentityService/ListPublicKeys"), 1);
}

TEST_F(GatewayTest, AnUntrustedPeersForwardedForIsIgnored) {
  backend_.SetScript(nullptr);
  const std::string rider = Token(common::v1::ROLE_RIDER);
  ASSERT_TRUE(CallGrpc(kTopRanking, "",
                       {{"authorization", rider},
                        {"x-forwarded-for", "198.51.100.7"},
                        {"forwarded", "for=198.51.100.7"}})
                  .status.ok());
  httplib::Result h = CallRest("GET", "/v1/rankings/top", "",
                               {{"Authorization", rider}, {"X-Forwarded-For", "198.51.100.7"}});
  ASSERT_TRUE(h);
  ASSERT_EQ(h->status, 200);
  std::vector<Seen> calls = backend_.Calls();
  ASSERT_EQ(calls.size(), 2u);
  for (const Seen& s : calls) EXPECT_EQ(s.metadata.at("x-client-address"), "127.0.0.1");
}

TEST_F(GatewayTest, ATrustedProxysForwardedForKeysTheRateLimitAndReachesTheBackend) {
  Limits limits;
  limits.per_address = {.per_second = 0.01, .burst = 2};
  limits.trusted_proxies = "127.0.0.0/8, ::1";
  StartGateway(limits);
  const std::string login = "/civicpoints.identity.v1.IdentityService/Login";
  // Two riders behind the same ingress (the peer, 127.0.0.1) each have their own bucket.
  auto rest = [&](const std::string& who) {
    return CallRest("POST", "/v1/auth:login", "{}",
                    {{"X-Forwarded-For", absl::StrCat("203.0.113.66, ", who)}})
        ->status;
  };
  EXPECT_EQ(rest("198.51.100.7"), 200);
  EXPECT_TRUE(CallGrpc(login, "", {{"x-forwarded-for", "198.51.100.7"}}).status.ok());
  EXPECT_EQ(rest("198.51.100.7"), 429);
  EXPECT_EQ(CallGrpc(login, "", {{"forwarded", "for=198.51.100.7"}}).status.error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(rest("198.51.100.8"), 200);
  EXPECT_TRUE(
      CallGrpc(login, "", {{"forwarded", "for=\"[2001:db8::8]:4711\";proto=https"}}).status.ok());
  std::vector<Seen> calls = backend_.Calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].metadata.at("x-client-address"), "198.51.100.7");
  EXPECT_EQ(calls[1].metadata.at("x-client-address"), "198.51.100.7");
  EXPECT_EQ(calls[2].metadata.at("x-client-address"), "198.51.100.8");
  EXPECT_EQ(calls[3].metadata.at("x-client-address"), "2001:db8::8");
  // A malformed chain falls back to the peer.
  EXPECT_EQ(rest("not-an-address"), 200);
  EXPECT_EQ(backend_.Calls().back().metadata.at("x-client-address"), "127.0.0.1");
}

// A raw HTTP exchange with the REST face: what is sent, the answer's first line and body.
std::pair<std::string, std::string> RawHttp(int port, const std::string& bytes,
                                            absl::Duration timeout = absl::Seconds(5)) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return {};
  }
  (void)send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string got;
  const absl::Time give_up = absl::Now() + timeout;
  char buf[4096];
  while (absl::Now() < give_up) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(give_up - absl::Now()))) <= 0) {
      break;
    }
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const size_t eol = got.find("\r\n");
  const size_t body = got.find("\r\n\r\n");
  return {got.substr(0, eol), body == std::string::npos ? "" : got.substr(body + 4)};
}

TEST_F(GatewayTest, RestRefusesBadContentLengthAtOnceAndSlowRequestsWith408InTheErrorShape) {
  Limits limits;
  limits.request_timeout = absl::Milliseconds(400);
  StartGateway(limits);
  const int port = gateway_->rest_port();
  struct Case {
    std::string content_length, line, status;
  } cases[] = {{"-5", "HTTP/1.1 400", "INVALID_ARGUMENT"},
               {"five", "HTTP/1.1 400", "INVALID_ARGUMENT"},
               {"1000000000", "HTTP/1.1 413", "RESOURCE_EXHAUSTED"}};
  for (const Case& c : cases) {
    const absl::Time start = absl::Now();
    auto [line, body] =
        RawHttp(port, absl::StrCat("POST /v1/orgs HTTP/1.1\r\nHost: x\r\n",
                                   "Content-Length: ", c.content_length, "\r\n\r\n{"));
    EXPECT_TRUE(absl::StartsWith(line, c.line)) << c.content_length << ": " << line;
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(300)) << c.content_length;
    json err = json::parse(body, nullptr, false);
    ASSERT_TRUE(err.is_object()) << body;
    EXPECT_EQ(err["status"], c.status) << body;
    EXPECT_TRUE(err["details"].is_array()) << body;
  }
  const absl::Time start = absl::Now();
  auto [line, body] =
      RawHttp(port, "POST /v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{");
  EXPECT_TRUE(absl::StartsWith(line, "HTTP/1.1 408")) << line;
  EXPECT_EQ(json::parse(body, nullptr, false)["status"], "DEADLINE_EXCEEDED") << body;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(350));
  EXPECT_EQ(backend_.Calls().size(), 0u);
}

TEST_F(GatewayTest, RestConnectionsBeyondTheCapAre503AndSlowClientsDoNotStallOthers) {
  Limits limits;
  limits.max_connections = 600;
  StartGateway(limits);
  const int port = gateway_->rest_port();
  // 500 clients trickling their requests, a byte every second.
  std::vector<int> slow;
  for (int i = 0; i < 500; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << i;
    const std::string start = "GET /v1/rankings/top HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    (void)send(fd, start.data(), start.size(), MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    while (!stop) {
      for (int fd : slow) (void)send(fd, "a", 1, MSG_NOSIGNAL);
      for (int i = 0; i < 10 && !stop; ++i) absl::SleepFor(absl::Milliseconds(100));
    }
  });
  const std::string rider = Token(common::v1::ROLE_RIDER);
  for (int i = 0; i < 3; ++i) {
    const absl::Time start = absl::Now();
    httplib::Result h = CallRest("GET", "/v1/rankings/top", "", {{"Authorization", rider}});
    ASSERT_TRUE(h) << i;
    EXPECT_EQ(h->status, 200) << h->body;
    EXPECT_LT(absl::Now() - start, absl::Seconds(1)) << i;
    absl::SleepFor(absl::Milliseconds(200));
  }
  // 100 more fill the cap; the next is refused.
  std::vector<int> filler;
  for (int i = 0; i < 100; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    filler.push_back(fd);
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (gateway_->rest_open_connections() < 600 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(gateway_->rest_open_connections(), 600);
  auto [line, body] = RawHttp(port, "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(line, "HTTP/1.1 503")) << line;
  EXPECT_EQ(json::parse(body, nullptr, false)["status"], "UNAVAILABLE") << body;
  stop = true;
  trickle.join();
  for (int fd : slow) close(fd);
  for (int fd : filler) close(fd);
}

TEST_F(GatewayTest, ADashboardOnAnAllowedOriginMayCallFromABrowserAndOthersMayNot) {
  // The browser's preflight before a POST with a token and a JSON body.
  httplib::Headers preflight = {{"Origin", "https://dashboard.example.cn"},
                                {"Access-Control-Request-Method", "POST"},
                                {"Access-Control-Request-Headers", "authorization, content-type"}};
  httplib::Result ok = CallRest("OPTIONS", "/v1/auth:login", "", preflight);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 204);
  EXPECT_EQ(ok->get_header_value("Access-Control-Allow-Origin"), "https://dashboard.example.cn");
  EXPECT_TRUE(absl::StrContains(ok->get_header_value("Access-Control-Allow-Methods"), "POST"));
  EXPECT_TRUE(
      absl::StrContains(ok->get_header_value("Access-Control-Allow-Headers"), "authorization"));

  // Another origin is refused, and gets no header a browser would accept.
  preflight.erase("Origin");
  preflight.emplace("Origin", "https://elsewhere.example.com");
  httplib::Result refused = CallRest("OPTIONS", "/v1/auth:login", "", preflight);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_FALSE(refused->has_header("Access-Control-Allow-Origin"));
  EXPECT_TRUE(absl::StrContains(refused->body, "elsewhere.example.com")) << refused->body;

  // The call itself carries the header, and lets the page read the request id.
  httplib::Result doc =
      CallRest("GET", "/openapi.json", "", {{"Origin", "https://dashboard.example.cn"}});
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->status, 200);
  EXPECT_EQ(doc->get_header_value("Access-Control-Allow-Origin"), "https://dashboard.example.cn");
  EXPECT_TRUE(
      absl::StrContains(doc->get_header_value("Access-Control-Expose-Headers"), "X-Request-Id"));
  // Without an Origin (curl, a city system) nothing changes.
  httplib::Result plain = CallRest("GET", "/openapi.json");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->has_header("Access-Control-Allow-Origin"));
}

TEST_F(GatewayTest, InternalMethodsAreRefusedWhateverTheToken) {
  std::vector<std::string> internal;
  for (const auto& r : gateway_->routes().routes()) {
    if (r->policy.internal) internal.push_back(r->grpc_path);
  }
  // Award, BulkAward, Hold, Capture, Release and RebuildRankings at least.
  ASSERT_GE(internal.size(), 6u);
  const std::string service = Token(common::v1::ROLE_INTERNAL_SERVICE);
  const std::string admin = Token(common::v1::ROLE_DISTRICT_ADMIN);
  for (const std::string& method : internal) {
    for (const std::vector<std::pair<std::string, std::string>>& md :
         std::vector<std::vector<std::pair<std::string, std::string>>>{
             {{"authorization", service}}, {{"authorization", admin}}, {}}) {
      backend_.Clear();
      CallResult g = CallGrpc(method, "", md);
      EXPECT_EQ(g.status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << method;
      EXPECT_TRUE(absl::StrContains(g.status.error_message(), "internal")) << method;
      EXPECT_EQ(backend_.CountOf(method), 0) << method;
    }
  }
  httplib::Result doc = CallRest("GET", "/openapi.json");
  ASSERT_TRUE(doc);
  for (const std::string& method : internal) {
    EXPECT_FALSE(absl::StrContains(doc->body, absl::StrCat("\"", method, "\""))) << method;
  }
}

TEST_F(GatewayTest, OpenApiDocumentListsEveryRouteFromTheContracts) {
  httplib::Result h = CallRest("GET", "/openapi.json");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->status, 200);
  json doc = json::parse(h->body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  int operations = 0;
  for (const auto& [path, verbs] : doc["paths"].items()) operations += verbs.size();
  int public_routes = 0;
  for (const auto& r : gateway_->routes().routes()) {
    public_routes += r->policy.internal || r->http_template.empty() ? 0 : 1;
  }
  EXPECT_EQ(operations, public_routes);
  const json& top = doc["paths"]["/v1/rankings/top"]["get"];
  EXPECT_EQ(top["x-civicpoints-grpc"], kTopRanking);
  bool has_scope_level = false;
  for (const json& p : top["parameters"]) has_scope_level |= p["name"] == "scope.level";
  EXPECT_TRUE(has_scope_level) << top.dump();
  EXPECT_EQ(doc["paths"]["/v1/orgs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
               ["$ref"],
            "#/components/schemas/civicpoints.identity.v1.CreateOrgNodeRequest");
  EXPECT_TRUE(doc["components"]["schemas"].contains("civicpoints.ledger.v1.GetTopRankingResponse"));
}

}  // namespace
}  // namespace civicpoints::gateway
