// Each service binary as an operator runs it: against the fixture PostgreSQL (a scratch database
// per test) and Redis, checked through the standard health and reflection services.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>

#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "common/probe/probe.h"
#include "common/testing/child_process.h"
#include "common/testing/test_env.h"
#include "cptest/v1/test_service.grpc.pb.h"

#include <thread>

namespace civicpoints::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

struct ServiceCase {
  std::string name;
  std::string grpc_service;  // empty for the gateway (nothing of its own yet)
  bool uses_postgres;
};

const ServiceCase kServices[] = {
    {"identity", "civicpoints.identity.v1.IdentityService", true},
    {"activity", "civicpoints.activity.v1.ActivityService", true},
    {"ledger", "civicpoints.ledger.v1.LedgerService", true},
    {"rewards", "civicpoints.rewards.v1.RewardsService", true},
    {"events", "civicpoints.events.v1.EventService", true},
    {"gateway", "", false},
};

std::string BinaryFor(const std::string& name) {
  const char* dir = std::getenv("CP_TEST_BIN_DIR");
  EXPECT_NE(dir, nullptr) << "CP_TEST_BIN_DIR not set; run through ctest";
  return std::string(dir ? dir : ".") + "/" + name + "/civicpoints-" + name;
}

std::map<std::string, std::string> BaseEnv(const std::string& pg_url, int grpc_port,
                                           int metrics_port) {
  const char* redis = std::getenv("CP_TEST_REDIS_ADDR");
  // identity's master key (the other services ignore it).
  static const std::string key_file = [] {
    const std::string path = std::filesystem::temp_directory_path() /
                             ("cp-master-" + std::to_string(::getpid()) + ".key");
    std::ofstream(path) << std::string(64, 'a');
    return path;
  }();
  // The API key activity and rewards call other services with (only exchanged on first use,
  // so identity need not be running for these tests).
  static const std::string api_key_file = [] {
    const std::string path =
        std::filesystem::temp_directory_path() / ("cp-api-" + std::to_string(::getpid()) + ".key");
    std::ofstream(path) << "cpk_ak_test_" << std::string(43, 'A') << "\n";
    return path;
  }();
  return {{"CP_PG_URL", pg_url},
          {"CP_IDENTITY_MASTER_KEY_FILE", key_file},
          {"CP_SERVICE_API_KEY_FILE", api_key_file},
          {"CP_IDENTITY_ADDR", "127.0.0.1:1"},
          {"CP_LEDGER_ADDR", "127.0.0.1:1"},
          {"CP_REDIS_ADDR", redis ? redis : ""},
          {"CP_GRPC_PORT", std::to_string(grpc_port)},
          {"CP_METRICS_PORT", std::to_string(metrics_port)},
          {"CP_DB_CONNECT_TIMEOUT", "2s"}};
}

class ServiceProcessTest : public ::testing::TestWithParam<ServiceCase> {};

TEST_P(ServiceProcessTest, StartsServesHealthAndReflectionAndStopsOnSigterm) {
  const ServiceCase& svc = GetParam();
  ScratchDatabase db;
  const int port = FreePort();
  const int metrics_port = FreePort();
  ChildProcess child(BinaryFor(svc.name), {}, BaseEnv(db.url(), port, metrics_port));
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(probe::WaitUntilServing(channel, absl::Seconds(20))) << child.Stderr();
  absl::StatusOr<std::vector<std::string>> names = probe::ListServices(channel, absl::Seconds(3));
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, Contains("grpc.health.v1.Health"));
  if (!svc.grpc_service.empty()) {
    EXPECT_THAT(*names, Contains(svc.grpc_service));
    EXPECT_EQ(*probe::CheckHealth(channel, svc.grpc_service, absl::Seconds(2)), "SERVING");
  }
  // The health check itself was a call: it shows in the metrics.
  const std::string metrics = HttpGet(metrics_port, "/metrics");
  EXPECT_THAT(metrics, HasSubstr("cp_grpc_server_handled_total"));
  EXPECT_THAT(metrics, HasSubstr("service=\"" + svc.name + "\""));
  if (svc.uses_postgres) {
    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    EXPECT_GE(tx.exec1("SELECT count(*) FROM " + svc.name + ".schema_migrations")[0].as<int>(), 1);
  }

  const absl::Time signalled = absl::Now();
  child.Signal(SIGTERM);
  std::optional<int> code = child.WaitForExit(absl::Seconds(5));
  ASSERT_TRUE(code.has_value()) << "did not exit within 5 s of SIGTERM\n" << child.Stderr();
  EXPECT_EQ(*code, 0) << child.Stderr();
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(5));
  EXPECT_THAT(child.Stderr(), HasSubstr("\"msg\":\"stopped\""));
}

TEST_P(ServiceProcessTest, MalformedSettingExitsTwoNamingIt) {
  const ServiceCase& svc = GetParam();
  auto env = BaseEnv("postgresql://127.0.0.1:1/x", FreePort(), 0);
  env["CP_GRPC_PORT"] = "fifty";
  ChildProcess child(BinaryFor(svc.name), {}, env);
  std::optional<int> code = child.WaitForExit(absl::Seconds(10));
  ASSERT_TRUE(code.has_value()) << child.Stderr();
  EXPECT_EQ(*code, 2);
  EXPECT_THAT(child.Stderr(), HasSubstr("--grpc_port (CP_GRPC_PORT)"));
  EXPECT_THAT(child.Stderr(), HasSubstr("'fifty' is not a port number"));
}

TEST_P(ServiceProcessTest, UnknownFlagExitsTwo) {
  ChildProcess child(BinaryFor(GetParam().name), {"--no-such-flag=1"},
                     BaseEnv("postgresql://127.0.0.1:1/x", FreePort(), 0));
  std::optional<int> code = child.WaitForExit(absl::Seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_THAT(child.Stderr(), HasSubstr("unknown flag --no_such_flag"));
}

// The suite's token path end to end: identity creates the first admin, signs them in, and the
// ledger (another process) accepts the token with identity's published keys.
TEST(IdentityProcessTest, TheFirstAdminSignsInAndAnotherServiceAcceptsTheToken) {
  ScratchDatabase db;
  const int identity_port = FreePort();
  auto identity_env = BaseEnv(db.url(), identity_port, 0);
  identity_env["CP_IDENTITY_BOOTSTRAP_ADMIN_PHONE"] = "13900000000";
  identity_env["CP_IDENTITY_BOOTSTRAP_ADMIN_PASSWORD"] = "Dev-admin-2026";
  identity_env["CP_IDENTITY_PWHASH_MEMLIMIT_MIB"] = "8";
  ChildProcess identity(BinaryFor("identity"), {}, identity_env);
  auto identity_channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(identity_port),
                                              grpc::InsecureChannelCredentials());
  ASSERT_TRUE(probe::WaitUntilServing(identity_channel, absl::Seconds(20))) << identity.Stderr();

  const int ledger_port = FreePort();
  auto ledger_env = BaseEnv(db.url(), ledger_port, 0);
  ledger_env["CP_IDENTITY_ADDR"] = "127.0.0.1:" + std::to_string(identity_port);
  ChildProcess ledger(BinaryFor("ledger"), {}, ledger_env);
  auto ledger_channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(ledger_port),
                                            grpc::InsecureChannelCredentials());
  ASSERT_TRUE(probe::WaitUntilServing(ledger_channel, absl::Seconds(20))) << ledger.Stderr();

  auto identity_stub = identity::v1::IdentityService::NewStub(identity_channel);
  identity::v1::LoginRequest login;
  login.set_phone("13900000000");
  login.set_password("Dev-admin-2026");
  identity::v1::LoginResponse session;
  grpc::ClientContext login_ctx;
  grpc::Status s = identity_stub->Login(&login_ctx, login, &session);
  ASSERT_TRUE(s.ok()) << s.error_message() << identity.Stderr();
  EXPECT_TRUE(session.password_change_required());
  identity::v1::ChangePasswordRequest change;
  change.set_idempotency_key("first");
  change.set_current_password("Dev-admin-2026");
  change.set_new_password("Own-admin-2027");
  identity::v1::ChangePasswordResponse changed;
  grpc::ClientContext change_ctx;
  change_ctx.AddMetadata("authorization", "Bearer " + session.tokens().access_token());
  s = identity_stub->ChangePassword(&change_ctx, change, &changed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  *session.mutable_tokens() = changed.tokens();

  auto ledger_stub = ledger::v1::LedgerService::NewStub(ledger_channel);
  ledger::v1::GetBalanceRequest balance;
  balance.set_person_id(session.person_id());
  ledger::v1::GetBalanceResponse account;
  grpc::ClientContext with_token;
  with_token.AddMetadata("authorization", "Bearer " + session.tokens().access_token());
  s = ledger_stub->GetBalance(&with_token, balance, &account);
  EXPECT_TRUE(s.ok()) << s.error_message() << ledger.Stderr();
  grpc::ClientContext forged;
  forged.AddMetadata("authorization", "Bearer " + session.tokens().access_token() + "x");
  EXPECT_EQ(ledger_stub->GetBalance(&forged, balance, &account).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // A restart finds the admin already there and creates no second one.
  identity.Signal(SIGTERM);
  ASSERT_TRUE(identity.WaitForExit(absl::Seconds(5)).has_value());
  ChildProcess again(BinaryFor("identity"), {}, identity_env);
  ASSERT_TRUE(probe::WaitUntilServing(identity_channel, absl::Seconds(20))) << again.Stderr();
  pqxx::connection c(db.url());
  pqxx::read_transaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM identity.role_grants WHERE role = 6")[0].as<int>(), 1);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM identity.signing_keys")[0].as<int>(), 1);
}

INSTANTIATE_TEST_SUITE_P(AllServices, ServiceProcessTest, ::testing::ValuesIn(kServices),
                         [](const auto& info) { return info.param.name; });

TEST(ServiceStartTest, UnreachableDatabaseIsRetriedThenExitsOne) {
  const int dead_port = FreePort();
  auto env = BaseEnv("postgresql://cp:secret@127.0.0.1:" + std::to_string(dead_port) + "/x",
                     FreePort(), 0);
  const absl::Time start = absl::Now();
  ChildProcess child(BinaryFor("ledger"), {}, env);
  std::optional<int> code = child.WaitForExit(absl::Seconds(15));
  ASSERT_TRUE(code.has_value()) << child.Stderr();
  EXPECT_EQ(*code, 1);
  EXPECT_GE(absl::Now() - start, absl::Seconds(1));  // CP_DB_CONNECT_TIMEOUT=2s of retries
  const std::string err = child.Stderr();
  EXPECT_THAT(err, HasSubstr("database not reachable yet, retrying"));
  EXPECT_THAT(err, HasSubstr("unreachable after 2s"));
  EXPECT_THAT(err, ::testing::Not(HasSubstr("secret")));
}

TEST(ServiceStartTest, FailingMigrationExitsOneNamingTheFile) {
  ScratchDatabase db;
  {
    // A table in the way of 0001 makes it fail, as a hand-made change to the schema would.
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    tx.exec("CREATE SCHEMA rewards; CREATE TABLE rewards.idempotency_keys (x int)");
    tx.commit();
  }
  ChildProcess child(BinaryFor("rewards"), {}, BaseEnv(db.url(), FreePort(), 0));
  std::optional<int> code = child.WaitForExit(absl::Seconds(15));
  ASSERT_TRUE(code.has_value()) << child.Stderr();
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(child.Stderr(), HasSubstr("0001_create_idempotency_keys.sql"));
  EXPECT_THAT(child.Stderr(), HasSubstr("rolled back"));
}

TEST(ServiceStartTest, MigrateOnlyAppliesAndExitsZero) {
  ScratchDatabase db;
  ChildProcess child(BinaryFor("ledger"), {"--migrate_only=true"},
                     BaseEnv(db.url(), FreePort(), 0));
  std::optional<int> code = child.WaitForExit(absl::Seconds(15));
  ASSERT_TRUE(code.has_value()) << child.Stderr();
  EXPECT_EQ(*code, 0) << child.Stderr();
  // Every migration file of the ledger was applied and recorded.
  const char* source = std::getenv("CP_TEST_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  int files = 0;
  for (const auto& f :
       std::filesystem::directory_iterator(std::string(source) + "/services/ledger/migrations")) {
    files += f.path().extension() == ".sql";
  }
  pqxx::connection c(db.url());
  pqxx::read_transaction tx(c);
  EXPECT_GE(files, 2);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM ledger.schema_migrations")[0].as<int>(), files);
}

TEST(ServiceStartTest, HelpPrintsEverySettingAndExitsZero) {
  ChildProcess child(BinaryFor("ledger"), {"--help"}, {});
  EXPECT_EQ(child.WaitForExit(absl::Seconds(5)), std::optional<int>(0));
}

}  // namespace
}  // namespace civicpoints::testing

namespace civicpoints::testing {
namespace {

TEST(ServiceStopTest, SigtermLetsAnInFlightCallFinish) {
  const int port = FreePort();
  const char* dir = std::getenv("CP_TEST_BIN_DIR");
  ASSERT_NE(dir, nullptr);
  ChildProcess child(std::string(dir) + "/../tests/cp_test_server", {},
                     {{"CP_GRPC_PORT", std::to_string(port)}, {"CP_SHUTDOWN_GRACE", "5s"}});
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(probe::WaitUntilServing(channel, absl::Seconds(10))) << child.Stderr();
  auto stub = cptest::v1::TestService::NewStub(channel);
  grpc::Status status;
  cptest::v1::SlowResponse resp;
  std::thread caller([&] {
    grpc::ClientContext ctx;
    cptest::v1::SlowRequest req;
    req.set_sleep_ms(1200);
    status = stub->Slow(&ctx, req, &resp);
  });
  ASSERT_TRUE(WaitFor([&] { return child.Stderr().find("slow call started") != std::string::npos; },
                      absl::Seconds(5)));
  child.Signal(SIGTERM);
  caller.join();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(resp.finished());
  EXPECT_EQ(child.WaitForExit(absl::Seconds(5)), std::optional<int>(0)) << child.Stderr();
}

TEST(ServiceStopTest, SigtermWhileWaitingForTheDatabaseExitsAtOnce) {
  auto env =
      BaseEnv("postgresql://cp@127.0.0.1:" + std::to_string(FreePort()) + "/x", FreePort(), 0);
  env["CP_DB_CONNECT_TIMEOUT"] = "60s";
  ChildProcess child(BinaryFor("ledger"), {}, env);
  ASSERT_TRUE(WaitFor([&] { return child.Stderr().find("retrying") != std::string::npos; },
                      absl::Seconds(10)));
  const absl::Time signalled = absl::Now();
  child.Signal(SIGTERM);
  EXPECT_EQ(child.WaitForExit(absl::Seconds(5)), std::optional<int>(0)) << child.Stderr();
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(3));
  EXPECT_THAT(child.Stderr(), HasSubstr("stopped during start-up"));
}

}  // namespace
}  // namespace civicpoints::testing
