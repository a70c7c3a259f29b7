// gateway_bench: what the gateway costs on a read. A street's top-10 ranking read from the ledger
// at 1 and 64 concurrent callers, three ways in one run: directly to the ledger, through the
// gateway's gRPC face, and through its REST face.
//
//   gateway_bench --pg_url=URL --redis_addr=HOST:PORT --ledger_bin=PATH --gateway_bin=PATH
//                 [--seconds=5]
//
// It starts a ledger on a fresh database and a gateway in front of it (both trusting a key made
// for this run, logging at warn), awards 200 riders of one street, and measures. Each caller is
// its own city system (ROLE_CITY_SYSTEM with ledger.read), and the gateway's rate limits are
// raised out of the way: this measures forwarding, not the limiter's refusals. The three paths
// take one-second turns, `seconds` rounds over, so each is measured for `seconds` in all. Each
// line also says how much CPU each process spent per call (the benchmark's own client, the ledger
// and the gateway), since they share the cores. Prints a line per figure and, last, one JSON object
// with all of them.
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "common/auth/jwt.h"
#include "common/config/config_parser.h"
#include "common/probe/probe.h"
#include "tests/bench/bench_support.h"

namespace cp = ::civicpoints;
namespace v1 = ::civicpoints::ledger::v1;

namespace {

using namespace ::civicpoints::bench;

struct Settings {
  std::string pg_url;
  std::string redis_addr = "127.0.0.1:26381";
  std::string ledger_bin;
  std::string gateway_bin;
  int64_t seconds = 5;
};

constexpr char kStreet[] = "s-qingyuan";
constexpr int kCallerCounts[] = {1, 64};

// The first failed call's answer, on stderr (the figures count errors without saying why).
void ReportFirstError(const std::string& what) {
  static std::atomic<bool> reported{false};
  if (!reported.exchange(true)) std::cerr << "first error: " << what << "\n";
}

bool WaitServing(const std::string& address) {
  return cp::probe::WaitUntilServing(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()), absl::Seconds(60));
}

std::vector<std::unique_ptr<v1::LedgerService::Stub>> Stubs(const std::string& address) {
  std::vector<std::unique_ptr<v1::LedgerService::Stub>> stubs;
  for (int i = 0; i < 4; ++i) {
    stubs.push_back(v1::LedgerService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials())));
  }
  return stubs;
}

bool GrpcRead(std::vector<std::unique_ptr<v1::LedgerService::Stub>>& stubs,
              const std::vector<std::string>& bearers, int c, int64_t) {
  v1::GetTopRankingRequest req;
  req.mutable_scope()->set_level(cp::common::v1::ORG_LEVEL_STREET);
  req.mutable_scope()->set_org_id(kStreet);
  req.mutable_period()->set_kind(cp::common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  req.set_top_n(10);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", bearers[c]);
  v1::GetTopRankingResponse resp;
  const grpc::Status status = stubs[c % stubs.size()]->GetTopRanking(&ctx, req, &resp);
  if (status.ok() && resp.entries_size() == 10) return true;
  ReportFirstError(absl::StrCat("gRPC ", status.error_code(), " ", status.error_message(), " (",
                                resp.entries_size(), " entries)"));
  return false;
}

// One keep-alive connection per caller, as an app backend's HTTP client pool would hold.
class RestReader {
 public:
  RestReader(int port, const std::vector<std::string>& bearers) : bearers_(bearers) {
    for (size_t i = 0; i < bearers.size(); ++i) {
      clients_.push_back(std::make_unique<httplib::Client>("127.0.0.1", port));
      clients_.back()->set_keep_alive(true);
    }
  }

  bool Read(int c) {
    httplib::Result r = clients_[c]->Get(path_, {{"Authorization", bearers_[c]}});
    if (r && r->status == 200 && r->body.find("\"rank\":\"10\"") != std::string::npos) {
      return true;
    }
    ReportFirstError(r ? absl::StrCat("REST ", r->status, " ", r->body.substr(0, 300))
                       : absl::StrCat("REST ", httplib::to_string(r.error())));
    return false;
  }

 private:
  const std::vector<std::string>& bearers_;
  std::vector<std::unique_ptr<httplib::Client>> clients_;
  const std::string path_ =
      absl::StrCat("/v1/rankings/top?scope.level=ORG_LEVEL_STREET&scope.orgId=", kStreet,
                   "&period.kind=RANKING_PERIOD_KIND_ALL_TIME&topN=10");
};

std::string Line(const char* what, int callers, const Run& r) {
  return absl::StrFormat(
      "%-22s %2d callers: %7.0f/s  p50 %6.2f ms  p99 %6.2f ms  (%d calls, %d errors); CPU per "
      "call: client %.0f us, ledger %.0f us, gateway %.0f us",
      what, callers, r.per_second, r.p50_ms, r.p99_ms, r.calls, r.errors, r.client_cpu_us_per_call,
      r.watched_cpu_us_per_call[0], r.watched_cpu_us_per_call[1]);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Settings s;
  cp::config::ConfigParser parser("gateway_bench", "ranking reads direct and through the gateway");
  parser.AddString("pg_url", "PostgreSQL server URL (an admin database)", &s.pg_url, true);
  parser.AddString("redis_addr", "Redis host:port (written by the run)", &s.redis_addr);
  parser.AddString("ledger_bin", "path of civicpoints-ledger", &s.ledger_bin, true);
  parser.AddString("gateway_bin", "path of civicpoints-gateway", &s.gateway_bin, true);
  parser.AddInt("seconds", "seconds each path is measured, in one-second turns", &s.seconds, 1,
                600);
  if (const int exit_code = ParseSettings(parser, argc, argv); exit_code >= 0) return exit_code;
  std::cout << "machine: " << MachineLine() << "\n";

  RecreateDatabase(s.pg_url, "cp_bench_gateway");
  // Rankings left in Redis by another run (ledger_bench uses the same street) would mix in.
  const std::string redis_host = s.redis_addr.substr(0, s.redis_addr.find(':'));
  const std::string redis_port = s.redis_addr.substr(s.redis_addr.find(':') + 1);
  if (std::system(
          absl::StrCat("redis-cli -h ", redis_host, " -p ", redis_port, " FLUSHALL >/dev/null")
              .c_str()) != 0) {
    std::cerr << "cannot flush Redis at " << s.redis_addr << "\n";
    return 1;
  }
  cp::auth::Ed25519PublicKey pk;
  cp::auth::Ed25519SecretKey sk;
  cp::auth::TokenSigner::GenerateKeyPair(&pk, &sk);
  cp::auth::KeySet keys;
  keys.Add("bench", pk);
  const std::string jwks_path = "/tmp/cp-gateway-bench-jwks.json";
  std::ofstream(jwks_path) << keys.ToJwks();

  const int ledger_port = FreePort();
  const pid_t ledger =
      StartProcess(s.ledger_bin, {{"CP_PG_URL", WithDatabase(s.pg_url, "cp_bench_gateway")},
                                  {"CP_REDIS_ADDR", s.redis_addr},
                                  {"CP_GRPC_PORT", std::to_string(ledger_port)},
                                  {"CP_METRICS_PORT", "0"},
                                  {"CP_JWKS_FILE", jwks_path},
                                  {"CP_LOG_LEVEL", "warn"}});
  const std::string ledger_addr = absl::StrCat("127.0.0.1:", ledger_port);
  const int gateway_port = FreePort();
  const int http_port = FreePort();
  const pid_t gateway = StartProcess(s.gateway_bin, {{"CP_GRPC_PORT", std::to_string(gateway_port)},
                                                     {"CP_HTTP_PORT", std::to_string(http_port)},
                                                     {"CP_METRICS_PORT", "0"},
                                                     {"CP_JWKS_FILE", jwks_path},
                                                     {"CP_DEV_MODE", "true"},
                                                     {"CP_IDENTITY_ADDR", "127.0.0.1:1"},
                                                     {"CP_ACTIVITY_ADDR", "127.0.0.1:1"},
                                                     {"CP_REWARDS_ADDR", "127.0.0.1:1"},
                                                     {"CP_LEDGER_ADDR", ledger_addr},
                                                     {"CP_RATE_PER_PRINCIPAL", "1000000"},
                                                     {"CP_BURST_PER_PRINCIPAL", "1000000"},
                                                     {"CP_LOG_LEVEL", "warn"}});
  const std::string gateway_addr = absl::StrCat("127.0.0.1:", gateway_port);
  if (!WaitServing(ledger_addr) || !WaitServing(gateway_addr)) {
    std::cerr << "ledger or gateway did not start\n";
    kill(ledger, SIGKILL);
    kill(gateway, SIGKILL);
    return 1;
  }

  auto sign = [&](cp::common::v1::Role role, const std::string& subject) {
    cp::auth::Principal p;
    p.subject = subject;
    // A grant names its node; the city root covers the whole city.
    p.roles = {{role, role == cp::common::v1::ROLE_INTERNAL_SERVICE ? "" : "root"}};
    if (role == cp::common::v1::ROLE_CITY_SYSTEM) p.scopes = {"ledger.read"};
    p.issued_at = absl::Now();
    p.expires_at = absl::Now() + absl::Hours(1);
    return "Bearer " + cp::auth::TokenSigner("bench", sk).Sign(p);
  };
  std::vector<std::string> bearers;
  for (int i = 0; i < 64; ++i) {
    bearers.push_back(sign(cp::common::v1::ROLE_CITY_SYSTEM, absl::StrCat("city-system-", i)));
  }

  // 200 riders of one street, each with its own points, so the top 10 is a real ranking.
  auto direct = Stubs(ledger_addr);
  const std::string internal = sign(cp::common::v1::ROLE_INTERNAL_SERVICE, "svc:bench");
  for (int i = 0; i < 200; ++i) {
    v1::AwardRequest req;
    req.set_idempotency_key(absl::StrCat("seed-", i));
    req.set_person_id(absl::StrCat("rider-", i));
    req.set_amount(1 + (i * 37) % 500);
    req.set_source_kind(v1::SOURCE_KIND_ACTIVITY_ATTENDANCE);
    req.set_source_id(absl::StrCat("activity-", i));
    req.set_verified_by_person_id("staff-1");
    req.set_points_rule_id("rule-1");
    req.mutable_org_path()->set_district_id("d-pingcheng");
    req.mutable_org_path()->set_street_id(kStreet);
    req.mutable_org_path()->set_community_id(absl::StrCat("c-", i % 6));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", internal);
    v1::AwardResponse resp;
    if (grpc::Status st = direct[0]->Award(&ctx, req, &resp); !st.ok()) {
      std::cerr << "seeding award failed: " << st.error_message() << "\n";
      StopProcess(gateway);
      StopProcess(ledger);
      return 1;
    }
  }
  auto via_gateway = Stubs(gateway_addr);
  RestReader rest(http_port, bearers);
  // Warm the three paths (connections, token caches).
  MeasureInTurns(64, 1, 1.0,
                 {[&](int c, int64_t i) { return GrpcRead(direct, bearers, c, i); },
                  [&](int c, int64_t i) { return GrpcRead(via_gateway, bearers, c, i); },
                  [&](int c, int64_t) { return rest.Read(c); }});

  // The three paths take one-second turns, `seconds` rounds over, so the ratios compare like with
  // like on a machine whose speed drifts.
  std::map<int, Run> d, g, r;
  for (int callers : kCallerCounts) {
    const std::vector<Run> runs =
        MeasureInTurns(callers, static_cast<int>(s.seconds), 1.0,
                       {[&](int c, int64_t i) { return GrpcRead(direct, bearers, c, i); },
                        [&](int c, int64_t i) { return GrpcRead(via_gateway, bearers, c, i); },
                        [&](int c, int64_t i) { return rest.Read(c); }},
                       {ledger, gateway});
    d[callers] = runs[0];
    g[callers] = runs[1];
    r[callers] = runs[2];
    std::cout << Line("direct to the ledger", callers, d[callers]) << "\n";
    std::cout << Line("gateway gRPC face", callers, g[callers]) << "\n";
    std::cout << Line("gateway REST face", callers, r[callers]) << "\n";
  }
  StopProcess(gateway);
  StopProcess(ledger);

  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  std::string json =
      absl::StrFormat("{\"machine\":\"%s\",\"seconds_per_run\":%d", MachineLine(), s.seconds);
  for (const auto& [name, runs] : std::vector<std::pair<std::string, std::map<int, Run>*>>{
           {"direct", &d}, {"grpc_face", &g}, {"rest_face", &r}}) {
    for (const char* what : {"per_s", "p50_ms", "p99_ms", "errors", "client_cpu_us_per_call",
                             "ledger_cpu_us_per_call", "gateway_cpu_us_per_call"}) {
      absl::StrAppend(&json, ",\"", name, "_", what, "\":{");
      bool first = true;
      for (int c : kCallerCounts) {
        const Run& run = (*runs)[c];
        const double v =
            std::string(what) == "per_s"                    ? run.per_second
            : std::string(what) == "p50_ms"                 ? run.p50_ms
            : std::string(what) == "p99_ms"                 ? run.p99_ms
            : std::string(what) == "errors"                 ? static_cast<double>(run.errors)
            : std::string(what) == "client_cpu_us_per_call" ? run.client_cpu_us_per_call
            : std::string(what) == "ledger_cpu_us_per_call" ? run.watched_cpu_us_per_call[0]
                                                            : run.watched_cpu_us_per_call[1];
        absl::StrAppend(&json, first ? "" : ",", absl::StrFormat("\"%d\":%.2f", c, v));
        first = false;
      }
      absl::StrAppend(&json, "}");
    }
  }
  absl::StrAppend(
      &json, absl::StrFormat(
                 ",\"grpc_face_vs_direct\":%.2f,\"p99_grpc_face_vs_direct\":%.2f,"
                 "\"rest_face_vs_direct\":%.2f,\"p99_rest_face_vs_direct\":%.2f,"
                 "\"grpc_face_vs_direct_1_caller\":%.2f,\"p99_grpc_face_vs_direct_1_caller\":%.2f}",
                 ratio(g[64].per_second, d[64].per_second), ratio(g[64].p99_ms, d[64].p99_ms),
                 ratio(r[64].per_second, d[64].per_second), ratio(r[64].p99_ms, d[64].p99_ms),
                 ratio(g[1].per_second, d[1].per_second), ratio(g[1].p99_ms, d[1].p99_ms)));
  std::cout << json << "\n";
  int64_t errors = 0;
  for (int c : kCallerCounts) errors += d[c].errors + g[c].errors + r[c].errors;
  return errors == 0 ? 0 : 1;
}
