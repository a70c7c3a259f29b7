// rewards_bench: measures redemptions (the whole saga to READY: checks, ledger hold, conditional
// stock step, pickup code) over gRPC under contention, with the ledger's own hold as the anchor.
//
//   rewards_bench --pg_url=URL --redis_addr=HOST:PORT --ledger_bin=PATH [--seconds=5]
//
// The ledger runs as its own process on a fresh database; the rewards service is hosted in this
// process on a free port over a fresh database, with stand-ins for the two things it reads from
// activity and identity (a station's place, an org node). Every order is for the same gift at the
// same station, so all callers contend for one stock row. Then a burst: 200 riders at once for a
// gift with 10 items. Prints a line per figure and, last, one JSON object with all of them.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "common/auth/jwt.h"
#include "common/auth/method_policy.h"
#include "common/config/config_parser.h"
#include "common/log/log.h"
#include "common/pg/migrations.h"
#include "common/pg/pg_pool.h"
#include "common/probe/probe.h"
#include "common/server/service_host.h"
#include "common/server/service_token.h"
#include "services/rewards/rewards_service.h"
#include "services/rewards/sql_enums.h"
#include "tests/bench/bench_support.h"

std::vector<std::pair<std::string, std::string>> RewardsMigrations();

namespace cp = ::civicpoints;
namespace rv1 = ::civicpoints::rewards::v1;
namespace lv1 = ::civicpoints::ledger::v1;

namespace {

using namespace ::civicpoints::bench;

constexpr char kStation[] = "pl_station_qyxj";

struct Settings {
  std::string pg_url;
  std::string redis_addr = "127.0.0.1:26381";
  std::string ledger_bin;
  int64_t seconds = 5;
};

class Places final : public cp::activity::v1::ActivityService::Service {
  grpc::Status GetPlace(grpc::ServerContext*, const cp::activity::v1::GetPlaceRequest* req,
                        cp::activity::v1::GetPlaceResponse* resp) override {
    cp::activity::v1::Place* p = resp->mutable_place();
    p->set_place_id(req->place_id());
    p->set_kind(cp::activity::v1::PLACE_KIND_RIDER_STATION);
    p->set_status(cp::activity::v1::PLACE_STATUS_ACTIVE);
    p->set_community_id("c_qyxj");
    p->mutable_org_path()->set_district_id("d_pingcheng");
    p->mutable_org_path()->set_street_id("s_qingyuan");
    p->mutable_org_path()->set_community_id("c_qyxj");
    p->set_keeper_person_id("keeper");
    return grpc::Status::OK;
  }
};

class Orgs final : public cp::identity::v1::IdentityService::Service {
  grpc::Status GetOrgNode(grpc::ServerContext*, const cp::identity::v1::GetOrgNodeRequest* req,
                          cp::identity::v1::GetOrgNodeResponse* resp) override {
    cp::identity::v1::OrgNode* n = resp->mutable_node();
    n->set_org_id(req->org_id());
    n->set_name("清远街道");
    n->set_level(cp::common::v1::ORG_LEVEL_STREET);
    n->set_status(cp::identity::v1::ORG_NODE_STATUS_ACTIVE);
    n->mutable_path()->set_district_id("d_pingcheng");
    n->mutable_path()->set_street_id("s_qingyuan");
    return grpc::Status::OK;
  }
};

std::string Bearer(const cp::auth::Ed25519SecretKey& sk, const std::string& subject,
                   cp::common::v1::Role role, const std::string& org) {
  cp::auth::Principal p;
  p.subject = subject;
  p.roles = {{role, org}};
  p.issued_at = absl::Now();
  p.expires_at = absl::Now() + absl::Hours(2);
  return "Bearer " + cp::auth::TokenSigner("bench", sk).Sign(p);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Settings s;
  cp::config::ConfigParser parser("rewards_bench", "redemption saga benchmark, ledger anchor");
  parser.AddString("pg_url", "PostgreSQL server URL (an admin database)", &s.pg_url, true);
  parser.AddString("redis_addr", "Redis host:port for the ledger", &s.redis_addr);
  parser.AddString("ledger_bin", "path of civicpoints-ledger", &s.ledger_bin, true);
  parser.AddInt("seconds", "seconds per measured run", &s.seconds, 1, 600);
  if (const int exit_code = ParseSettings(parser, argc, argv); exit_code >= 0) return exit_code;
  cp::log::Init("rewards_bench", cp::log::Level::kWarn);
  std::cout << "machine: " << MachineLine() << "\n";

  cp::auth::Ed25519PublicKey pk;
  cp::auth::Ed25519SecretKey sk;
  cp::auth::TokenSigner::GenerateKeyPair(&pk, &sk);
  cp::auth::KeySet keys;
  keys.Add("bench", pk);
  const std::string jwks_path = "/tmp/cp-rewards-bench-jwks.json";
  std::ofstream(jwks_path) << keys.ToJwks();

  RecreateDatabase(s.pg_url, "cp_bench_ledger");
  RecreateDatabase(s.pg_url, "cp_bench_rewards");
  const int ledger_port = FreePort();
  const pid_t ledger =
      StartProcess(s.ledger_bin, {{"CP_PG_URL", WithDatabase(s.pg_url, "cp_bench_ledger")},
                                  {"CP_REDIS_ADDR", s.redis_addr},
                                  {"CP_GRPC_PORT", std::to_string(ledger_port)},
                                  {"CP_METRICS_PORT", "0"},
                                  {"CP_JWKS_FILE", jwks_path},
                                  {"CP_PG_POOL_SIZE", "16"},
                                  {"CP_LOG_LEVEL", "warn"}});
  const std::string ledger_addr = absl::StrCat("127.0.0.1:", ledger_port);
  if (!cp::probe::WaitUntilServing(
          grpc::CreateChannel(ledger_addr, grpc::InsecureChannelCredentials()),
          absl::Seconds(60))) {
    std::cerr << "ledger did not start\n";
    kill(ledger, SIGKILL);
    return 1;
  }

  // The rewards service, in this process.
  Places places;
  Orgs orgs;
  auto peers = cp::server::ServiceHost::Start(
      {.service_name = "peers"}, {{cp::activity::v1::ActivityService::service_full_name(), &places},
                                  {cp::identity::v1::IdentityService::service_full_name(), &orgs}});
  auto pool = cp::pg::PgPool::Connect(
      {.url = WithDatabase(s.pg_url, "cp_bench_rewards"), .schema = "rewards", .pool_size = 16});
  if (!peers.ok() || !pool.ok()) {
    std::cerr << "setup failed\n";
    StopProcess(ledger);
    return 1;
  }
  auto migrations = cp::pg::MigrationsFromFiles(RewardsMigrations());
  if (absl::Status m = (*pool)->WithConnection("migrate",
                                               [&](pqxx::connection_base& c) {
                                                 return cp::pg::ApplyMigrations(
                                                            c, "rewards", *migrations,
                                                            cp::rewards::RewardsSqlEnums())
                                                     .status();
                                               });
      !m.ok()) {
    std::cerr << "rewards migrations failed: " << m << "\n";
    StopProcess(ledger);
    return 1;
  }
  cp::server::FixedServiceToken token(
      Bearer(sk, "svc:rewards", cp::common::v1::ROLE_INTERNAL_SERVICE, "root").substr(7));
  const std::string peers_addr = absl::StrCat("127.0.0.1:", (*peers)->grpc_port());
  cp::rewards::LedgerClient ledger_client(
      grpc::CreateChannel(ledger_addr, grpc::InsecureChannelCredentials()), &token);
  cp::rewards::GrpcDirectory directory(
      grpc::CreateChannel(peers_addr, grpc::InsecureChannelCredentials()),
      grpc::CreateChannel(peers_addr, grpc::InsecureChannelCredentials()), &token);
  cp::auth::Authorizer authorizer(std::make_shared<const cp::auth::TokenVerifier>(
      std::make_shared<cp::auth::StaticKeyProvider>(keys)));
  cp::rewards::RewardsServiceImpl service((*pool).get(), &authorizer, &ledger_client, &directory,
                                          {});
  auto host = cp::server::ServiceHost::Start(
      {.service_name = "rewards"}, {{rv1::RewardsService::service_full_name(), &service}});
  if (!host.ok()) {
    std::cerr << host.status() << "\n";
    StopProcess(ledger);
    return 1;
  }
  const std::string rewards_addr = absl::StrCat("127.0.0.1:", (*host)->grpc_port());
  std::vector<std::unique_ptr<rv1::RewardsService::Stub>> stubs;
  std::vector<std::unique_ptr<lv1::LedgerService::Stub>> ledger_stubs;
  for (int i = 0; i < 4; ++i) {
    stubs.push_back(rv1::RewardsService::NewStub(
        grpc::CreateChannel(rewards_addr, grpc::InsecureChannelCredentials())));
    ledger_stubs.push_back(lv1::LedgerService::NewStub(
        grpc::CreateChannel(ledger_addr, grpc::InsecureChannelCredentials())));
  }
  const std::string staff = Bearer(sk, "staff", cp::common::v1::ROLE_STREET_STAFF, "s_qingyuan");
  const std::string internal =
      Bearer(sk, "svc:bench", cp::common::v1::ROLE_INTERNAL_SERVICE, "root");

  // Riders with points, a gift, plenty of stock, an open window with no limits.
  constexpr int kRiders = 20000;
  {
    std::atomic<int> next{0};
    std::vector<std::thread> seeders;
    for (int t = 0; t < 32; ++t) {
      seeders.emplace_back([&, t] {
        for (int n = next++; n < kRiders + 200; n = next++) {
          lv1::AwardRequest req;
          req.set_idempotency_key(absl::StrCat("seed-", n));
          req.set_person_id(absl::StrCat("rider-", n));
          req.set_amount(1000);
          req.set_source_kind(lv1::SOURCE_KIND_SERVICE_RECORD);
          req.set_source_id(absl::StrCat("seed-", n));
          req.set_verified_by_person_id("staff");
          req.set_points_rule_id("rule");
          req.mutable_org_path()->set_district_id("d_pingcheng");
          req.mutable_org_path()->set_street_id("s_qingyuan");
          req.mutable_org_path()->set_community_id("c_qyxj");
          grpc::ClientContext ctx;
          ctx.AddMetadata("authorization", internal);
          lv1::AwardResponse resp;
          (void)ledger_stubs[t % 4]->Award(&ctx, req, &resp);
        }
      });
    }
    for (std::thread& t : seeders) t.join();
  }
  auto make_gift = [&](const std::string& name, const std::string& key) {
    rv1::CreateGiftRequest g;
    g.set_name(name);
    g.set_category(rv1::GIFT_CATEGORY_ELECTRONICS);
    g.set_points_cost(1);
    g.set_owner_org_id("s_qingyuan");
    g.set_idempotency_key(key);
    rv1::CreateGiftResponse created;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", staff);
    if (grpc::Status st = stubs[0]->CreateGift(&ctx, g, &created); !st.ok()) {
      std::cerr << "CreateGift: " << st.error_message() << "\n";
    }
    return created.gift().gift_id();
  };
  auto add_stock = [&](const std::string& gift, int64_t quantity, const std::string& key) {
    rv1::AddStationStockRequest a;
    a.set_station_id(kStation);
    a.set_gift_id(gift);
    a.set_quantity(quantity);
    a.set_reason("bench");
    a.set_idempotency_key(key);
    rv1::AddStationStockResponse added;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", staff);
    grpc::Status st = stubs[0]->AddStationStock(&ctx, a, &added);
    if (!st.ok()) std::cerr << "AddStationStock: " << st.error_message() << "\n";
    return st.ok();
  };
  auto open_window = [&](const std::string& gift, const std::string& key) {
    rv1::CreateExchangeWindowRequest w;
    w.mutable_window()->set_title("bench");
    w.mutable_window()->set_owner_org_id("s_qingyuan");
    w.mutable_window()->add_station_ids(kStation);
    w.mutable_window()->mutable_start_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
    w.mutable_window()->mutable_end_time()->set_seconds(
        absl::ToUnixSeconds(absl::Now() + absl::Hours(6)));
    w.mutable_window()->add_gifts()->set_gift_id(gift);
    w.set_idempotency_key(key);
    rv1::CreateExchangeWindowResponse created;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", staff);
    if (grpc::Status st = stubs[0]->CreateExchangeWindow(&ctx, w, &created); !st.ok()) {
      std::cerr << "CreateExchangeWindow: " << st.error_message() << "\n";
    }
    rv1::OpenExchangeWindowRequest o;
    o.set_window_id(created.window().window_id());
    rv1::OpenExchangeWindowResponse opened;
    grpc::ClientContext ctx2;
    ctx2.AddMetadata("authorization", staff);
    if (grpc::Status st = stubs[0]->OpenExchangeWindow(&ctx2, o, &opened); !st.ok()) {
      std::cerr << "OpenExchangeWindow: " << st.error_message() << "\n";
    }
    return created.window().window_id();
  };
  const std::string gift = make_gift("蓝牙耳机", "gift-earphones");
  for (int i = 0; i < 50; ++i) add_stock(gift, 10000, absl::StrCat("stock-", i));
  const std::string window = open_window(gift, "window");

  std::atomic<int64_t> sequence{0};
  auto redeem = [&](int c, const std::string& rider, const std::string& g, const std::string& w,
                    const std::string& key) {
    rv1::CreateRedemptionRequest req;
    req.set_window_id(w);
    req.set_station_id(kStation);
    req.set_gift_id(g);
    req.set_idempotency_key(key);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", Bearer(sk, rider, cp::common::v1::ROLE_RIDER, "c_qyxj"));
    rv1::CreateRedemptionResponse resp;
    grpc::Status st = stubs[c % stubs.size()]->CreateRedemption(&ctx, req, &resp);
    static std::atomic<int> shown{0};
    if (!st.ok() && st.error_code() != grpc::StatusCode::FAILED_PRECONDITION && shown++ < 3) {
      std::cerr << "CreateRedemption: " << st.error_message() << "\n";
    }
    return st.ok() && resp.redemption().state() == rv1::REDEMPTION_STATE_READY;
  };
  std::map<int, Run> runs;
  for (int callers : {8, 32, 128}) {
    runs[callers] = Measure(callers, s.seconds, [&](int c, int64_t) {
      const int64_t n = sequence++;
      return redeem(c, absl::StrCat("rider-", n % kRiders), gift, window,
                    absl::StrCat("bench-", n));
    });
    const Run& r = runs[callers];
    std::cout << absl::StrFormat(
        "redemptions to READY (one stock row), %3d callers: %6.0f/s  p50 %6.2f ms  p99 %6.2f ms  "
        "(%d calls, %d errors)\n",
        callers, r.per_second, r.p50_ms, r.p99_ms, r.calls, r.errors);
  }

  // Anchor: the ledger's hold alone (one of the saga's steps), same callers.
  std::atomic<int64_t> holds{0};
  const Run hold = Measure(32, s.seconds, [&](int c, int64_t) {
    const int64_t n = holds++;
    lv1::HoldRequest req;
    req.set_idempotency_key(absl::StrCat("anchor-", n));
    req.set_order_id(absl::StrCat("anchor-", n));
    req.set_person_id(absl::StrCat("rider-", n % kRiders));
    req.set_amount(1);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", internal);
    lv1::HoldResponse resp;
    return ledger_stubs[c % 4]->Hold(&ctx, req, &resp).ok();
  });
  std::cout << absl::StrFormat("anchor ledger Hold alone, 32 callers: %6.0f/s  p99 %6.2f ms\n",
                               hold.per_second, hold.p99_ms);

  // Burst: 200 riders at once for 10 items.
  const std::string scarce = make_gift("充电宝", "gift-powerbank");
  add_stock(scarce, 10, "scarce-stock");
  const std::string burst_window = open_window(scarce, "burst-window");
  constexpr int kBurst = 200;
  std::vector<double> latencies(kBurst);
  std::vector<int> ready(kBurst);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < kBurst; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      const absl::Time t0 = absl::Now();
      ready[i] = redeem(i, absl::StrCat("rider-", kRiders + i), scarce, burst_window,
                        absl::StrCat("burst-", i));
      latencies[i] = absl::ToDoubleMilliseconds(absl::Now() - t0);
    });
  }
  const absl::Time burst_start = absl::Now();
  go = true;
  for (std::thread& t : threads) t.join();
  const double burst_seconds = absl::ToDoubleSeconds(absl::Now() - burst_start);
  int burst_ready = 0;
  for (int r : ready) burst_ready += r;
  const double burst_p99 = Percentile(latencies, 0.99);
  std::cout << absl::StrFormat(
      "burst: %d riders for 10 items: %d READY, all answered in %.2f s, p99 %.1f ms\n", kBurst,
      burst_ready, burst_seconds, burst_p99);

  (*host)->Shutdown(absl::Seconds(1));
  (*peers)->Shutdown(absl::Seconds(1));
  StopProcess(ledger);

  int64_t errors = 0;
  for (auto& [c, r] : runs) errors += r.errors;
  std::cout << absl::StrFormat(
      "{\"machine\":\"%s\",\"seconds_per_run\":%d,"
      "\"redemptions_per_s\":{\"8\":%.0f,\"32\":%.0f,\"128\":%.0f},"
      "\"redemption_p50_ms\":{\"8\":%.2f,\"32\":%.2f,\"128\":%.2f},"
      "\"redemption_p99_ms\":{\"8\":%.2f,\"32\":%.2f,\"128\":%.2f},\"redemption_errors\":%d,"
      "\"ledger_holds_per_s_32\":%.0f,\"ledger_hold_p99_ms_32\":%.2f,"
      "\"redemptions_vs_holds_32\":%.2f,\"burst_riders\":%d,\"burst_stock\":10,"
      "\"burst_ready\":%d,\"burst_seconds\":%.2f,\"burst_p99_ms\":%.1f,"
      "\"target_redemptions_vs_holds_32\":0.5,\"target_redemption_p99_ms_32\":50}\n",
      MachineLine(), s.seconds, runs[8].per_second, runs[32].per_second, runs[128].per_second,
      runs[8].p50_ms, runs[32].p50_ms, runs[128].p50_ms, runs[8].p99_ms, runs[32].p99_ms,
      runs[128].p99_ms, errors, hold.per_second, hold.p99_ms,
      hold.per_second > 0 ? runs[32].per_second / hold.per_second : 0, kBurst, burst_ready,
      burst_seconds, burst_p99);
  return burst_ready == 10 ? 0 : 1;
}
