// ledger_bench: measures the ledger over gRPC, with its anchors measured in the same run.
//
//   ledger_bench --pg_url=URL --redis_addr=HOST:PORT --ledger_bin=PATH [--seconds=5]
//                [--rebuild_accounts=1000000]
//
// Prints a line per figure and, last, one JSON object with all of them. It starts its own ledger
// process against a fresh database, so run it against a throwaway PostgreSQL and Redis
// (scripts/bench.sh does). Anchors: pgbench's TPC-B-like tps at 32 clients on the same server,
// and a bare gRPC echo service (no interceptors, no auth) in this process at 64 callers, on the
// synchronous and the callback API (reads are held to the faster). At 32 callers it also says
// where an award's time goes: the CPU each process spent per award.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "common/auth/jwt.h"
#include "common/config/config_parser.h"
#include "common/probe/probe.h"
#include "services/ledger/ranking_names.h"
#include "tests/bench/bench_support.h"

namespace cp = ::civicpoints;
namespace v1 = ::civicpoints::ledger::v1;

namespace {

using namespace ::civicpoints::bench;

struct Settings {
  std::string pg_url;
  std::string redis_addr = "127.0.0.1:26381";
  std::string ledger_bin;
  int64_t seconds = 5;
  int64_t rebuild_accounts = 1000000;
};

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Settings s;
  cp::config::ConfigParser parser("ledger_bench", "ledger benchmark with pgbench and echo anchors");
  parser.AddString("pg_url", "PostgreSQL server URL (an admin database)", &s.pg_url, true);
  parser.AddString("redis_addr", "Redis host:port (flushed by the run)", &s.redis_addr);
  parser.AddString("ledger_bin", "path of civicpoints-ledger", &s.ledger_bin, true);
  parser.AddInt("seconds", "seconds per measured run", &s.seconds, 1, 600);
  parser.AddInt("rebuild_accounts", "accounts seeded for the rebuild timing", &s.rebuild_accounts,
                1000, 10000000);
  if (const int exit_code = ParseSettings(parser, argc, argv); exit_code >= 0) return exit_code;

  std::cout << "machine: " << MachineLine() << "\n";
  const double pgbench_tps = PgbenchTps(s.pg_url, 32);
  std::cout << absl::StrFormat("anchor pgbench tpcb-like, 32 clients: %.0f tps\n", pgbench_tps);

  // A ledger of our own on a fresh database, trusting a key made for this run.
  RecreateDatabase(s.pg_url, "cp_bench_ledger");
  const std::string ledger_url = WithDatabase(s.pg_url, "cp_bench_ledger");
  cp::auth::Ed25519PublicKey pk;
  cp::auth::Ed25519SecretKey sk;
  cp::auth::TokenSigner::GenerateKeyPair(&pk, &sk);
  cp::auth::KeySet keys;
  keys.Add("bench", pk);
  const std::string jwks_path = "/tmp/cp-ledger-bench-jwks.json";
  std::ofstream(jwks_path) << keys.ToJwks();
  // A ledger process on `port` over the run's database and Redis, with `extra` settings.
  auto start_ledger = [&](int port, std::map<std::string, std::string> extra) {
    std::map<std::string, std::string> env = {{"CP_PG_URL", ledger_url},
                                              {"CP_REDIS_ADDR", s.redis_addr},
                                              {"CP_GRPC_PORT", std::to_string(port)},
                                              {"CP_METRICS_PORT", "0"},
                                              {"CP_JWKS_FILE", jwks_path},
                                              {"CP_LOG_LEVEL", "warn"}};
    env.merge(extra);
    return StartProcess(s.ledger_bin, env);
  };
  const int port = FreePort();
  const pid_t ledger = start_ledger(port, {{"CP_PG_POOL_SIZE", "16"}});
  const std::string address = absl::StrCat("127.0.0.1:", port);
  auto probe_channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  if (!cp::probe::WaitUntilServing(probe_channel, absl::Seconds(60))) {
    std::cerr << "ledger did not start\n";
    kill(ledger, SIGKILL);
    return 1;
  }

  cp::auth::Principal svc;
  svc.subject = "svc:bench";
  svc.roles = {{cp::common::v1::ROLE_INTERNAL_SERVICE, ""}};
  svc.issued_at = absl::Now();
  svc.expires_at = absl::Now() + absl::Hours(1);
  const std::string bearer = "Bearer " + cp::auth::TokenSigner("bench", sk).Sign(svc);
  std::vector<std::unique_ptr<v1::LedgerService::Stub>> stubs;
  for (int i = 0; i < 4; ++i) {
    stubs.push_back(v1::LedgerService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials())));
  }

  constexpr int kRiders = 10000;
  std::map<int, Run> awards;
  std::atomic<int64_t> sequence{0};
  // Where an award's time goes at 32 callers: CPU per award of each process on the machine's cores
  // (this load generator, the ledger, every PostgreSQL process, Redis), against the cores' time.
  struct AwardCpu {
    double client = 0, ledger = 0, postgres = 0, redis = 0, available = 0;
  } award_cpu;
  for (int callers : {1, 8, 32, 128}) {
    const double client0 = SelfCpuSeconds(), ledger0 = CpuSecondsOf(ledger),
                 postgres0 = CpuSecondsOfCommand("postgres"),
                 redis0 = CpuSecondsOfCommand("redis-server");
    awards[callers] = Measure(callers, s.seconds, [&](int c, int64_t) {
      const int64_t n = sequence++;
      v1::AwardRequest req;
      req.set_idempotency_key(absl::StrCat("bench-", n));
      req.set_person_id(absl::StrCat("rider-", (n * 7919) % kRiders));
      req.set_amount(1 + n % 5);
      req.set_source_kind(v1::SOURCE_KIND_ACTIVITY_ATTENDANCE);
      req.set_source_id(absl::StrCat("activity-", n));
      req.set_verified_by_person_id("staff-1");
      req.set_points_rule_id("rule-1");
      req.mutable_org_path()->set_district_id("d-pingcheng");
      req.mutable_org_path()->set_street_id("s-qingyuan");
      req.mutable_org_path()->set_community_id(absl::StrCat("c-", n % 6));
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", bearer);
      v1::AwardResponse resp;
      return stubs[c % stubs.size()]->Award(&ctx, req, &resp).ok();
    });
    const Run& r = awards[callers];
    if (callers == 32 && r.calls > 0) {
      const double per = 1e6 / static_cast<double>(r.calls);
      award_cpu = {.client = (SelfCpuSeconds() - client0) * per,
                   .ledger = (CpuSecondsOf(ledger) - ledger0) * per,
                   .postgres = (CpuSecondsOfCommand("postgres") - postgres0) * per,
                   .redis = (CpuSecondsOfCommand("redis-server") - redis0) * per,
                   .available = static_cast<double>(std::thread::hardware_concurrency()) *
                                static_cast<double>(s.seconds) * per};
    }
    std::cout << absl::StrFormat(
        "awards, %3d callers: %7.0f/s  p50 %6.2f ms  p99 %6.2f ms  (%d calls, %d errors)\n",
        callers, r.per_second, r.p50_ms, r.p99_ms, r.calls, r.errors);
  }
  std::cout << absl::StrFormat(
      "  CPU per award at 32 callers: ledger %.0f us, PostgreSQL %.0f us, Redis %.0f us, this "
      "load generator %.0f us; the cores had %.0f us per award\n",
      award_cpu.ledger, award_cpu.postgres, award_cpu.redis, award_cpu.client, award_cpu.available);

  // Top-10 reads, as a leaderboard page makes them: through the ledger's short-lived answer cache
  // (its default), and through a second ledger process with the cache off, so every read is a
  // Redis round trip.
  auto measure_reads = [&](std::vector<std::unique_ptr<v1::LedgerService::Stub>>& via) {
    return Measure(64, s.seconds, [&](int c, int64_t) {
      v1::GetTopRankingRequest req;
      req.mutable_scope()->set_level(cp::common::v1::ORG_LEVEL_CITY);
      req.mutable_period()->set_kind(cp::common::v1::RANKING_PERIOD_KIND_ALL_TIME);
      req.set_top_n(10);
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", bearer);
      v1::GetTopRankingResponse resp;
      return via[c % via.size()]->GetTopRanking(&ctx, req, &resp).ok() && resp.entries_size() == 10;
    });
  };
  const Run reads = measure_reads(stubs);
  std::cout << absl::StrFormat("top-10 ranking reads, 64 callers:    %7.0f/s  p99 %6.2f ms\n",
                               reads.per_second, reads.p99_ms);
  Run uncached_reads;
  {
    const int uncached_port = FreePort();
    const pid_t uncached = start_ledger(
        uncached_port, {{"CP_PG_POOL_SIZE", "4"}, {"CP_LEDGER_TOP_RANKING_CACHE_MS", "0"}});
    const std::string uncached_address = absl::StrCat("127.0.0.1:", uncached_port);
    if (cp::probe::WaitUntilServing(
            grpc::CreateChannel(uncached_address, grpc::InsecureChannelCredentials()),
            absl::Seconds(60))) {
      std::vector<std::unique_ptr<v1::LedgerService::Stub>> uncached_stubs;
      for (int i = 0; i < 4; ++i) {
        uncached_stubs.push_back(v1::LedgerService::NewStub(
            grpc::CreateChannel(uncached_address, grpc::InsecureChannelCredentials())));
      }
      uncached_reads = measure_reads(uncached_stubs);
    } else {
      std::cerr << "the second ledger (cache off) did not start\n";
    }
    StopProcess(uncached);
  }
  std::cout << absl::StrFormat("  the same, answer cache off:        %7.0f/s  p99 %6.2f ms\n",
                               uncached_reads.per_second, uncached_reads.p99_ms);
  // Riders' names on a read (RankingNames, ranking_names.h): this bench's ledger has no identity
  // to follow, so its reads above carry none; the cost of filling them is measured here on its
  // own, a top-10 page from 100,000 names, against the CPU one cached read had above.
  double names_us_per_page = 0;
  {
    cp::ledger::RankingNames names;
    std::vector<std::pair<std::string, std::string>> all;
    for (int i = 0; i < 100000; ++i) all.emplace_back(absl::StrCat("p", i), "王*军");
    names.Set(all);
    v1::GetTopRankingResponse page;
    for (int i = 0; i < 10; ++i) page.add_entries()->set_person_id(absl::StrCat("p", i * 9973));
    constexpr int kPages = 200000;
    const absl::Time start = absl::Now();
    for (int i = 0; i < kPages; ++i) {
      for (auto& e : *page.mutable_entries()) e.clear_display_name();
      names.Fill(*page.mutable_entries());
    }
    names_us_per_page = absl::ToDoubleMicroseconds(absl::Now() - start) / kPages;
  }
  const double cores = std::max(1u, std::thread::hardware_concurrency());
  const double read_cpu_us = reads.per_second > 0 ? cores * 1e6 / reads.per_second : 0;
  std::cout << absl::StrFormat(
      "  names on a top-10 page (100,000 riders named): %.2f us to fill, of the %.0f us of the "
      "cores' time one cached read had above\n",
      names_us_per_page, read_cpu_us);
  const Run echo_sync = EchoAnchor(64, s.seconds);
  std::cout << absl::StrFormat("anchor bare gRPC echo, 64 callers: %7.0f/s  p99 %6.2f ms\n",
                               echo_sync.per_second, echo_sync.p99_ms);
  const Run echo_callback = EchoAnchor(64, s.seconds, /*callback_api=*/true);
  std::cout << absl::StrFormat("  the same on the callback API:      %7.0f/s  p99 %6.2f ms\n",
                               echo_callback.per_second, echo_callback.p99_ms);
  // Reads are held to the faster echo.
  const Run& echo = echo_callback.per_second > echo_sync.per_second ? echo_callback : echo_sync;

  // Rebuild: award N accounts of one community once each (12 rankings per award, straight into
  // the journal), drop Redis, and time the rebuild of the projection through the API.
  {
    pqxx::connection c(ledger_url);
    pqxx::work tx(c);
    tx.exec_params(
        "SELECT count(*) FROM (SELECT ledger.post_entry('seed-' || n, true, 1::smallint, "
        "1 + n % 500, 1 + n % 500, 0, 1 + n % 500, 1::smallint, 'seed-' || n, 'rule', 'staff', "
        "'d', 's', 'c', '', 'bench', '', '', '', now() - (n % 86400) * interval '1 second') "
        "FROM generate_series(1, $1::bigint) AS n) x",
        s.rebuild_accounts);
    tx.commit();
  }
  const std::string redis_host = s.redis_addr.substr(0, s.redis_addr.find(':'));
  const std::string redis_port = s.redis_addr.substr(s.redis_addr.find(':') + 1);
  if (std::system(
          ("redis-cli -h " + redis_host + " -p " + redis_port + " FLUSHALL >/dev/null").c_str()) !=
      0) {
    std::cerr << "cannot flush Redis at " << s.redis_addr << "\n";
  }
  const absl::Time rebuild_start = absl::Now();
  v1::RebuildRankingsResponse rebuilt;
  grpc::Status rebuild_status;
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", bearer);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
    rebuild_status = stubs[0]->RebuildRankings(&ctx, v1::RebuildRankingsRequest(), &rebuilt);
  }
  const double rebuild_seconds = absl::ToDoubleSeconds(absl::Now() - rebuild_start);
  std::cout << absl::StrFormat(
      "rebuild rankings, %d accounts (%d ranking changes): %.1f s%s\n", s.rebuild_accounts,
      rebuilt.members_written(), rebuild_seconds,
      rebuild_status.ok() ? "" : " FAILED: " + rebuild_status.error_message());

  StopProcess(ledger);

  const Run& a32 = awards[32];
  const double awards_vs_pgbench = pgbench_tps > 0 ? a32.per_second / pgbench_tps : 0;
  const double reads_vs_echo = echo.per_second > 0 ? reads.per_second / echo.per_second : 0;
  const double uncached_vs_echo =
      echo.per_second > 0 ? uncached_reads.per_second / echo.per_second : 0;
  std::cout << absl::StrFormat(
      "{\"machine\":\"%s\",\"seconds_per_run\":%d,"
      "\"awards_per_s\":{\"1\":%.0f,\"8\":%.0f,\"32\":%.0f,\"128\":%.0f},"
      "\"award_p50_ms\":{\"1\":%.2f,\"8\":%.2f,\"32\":%.2f,\"128\":%.2f},"
      "\"award_p99_ms\":{\"1\":%.2f,\"8\":%.2f,\"32\":%.2f,\"128\":%.2f},"
      "\"award_errors\":%d,\"ranking_reads_per_s\":%.0f,\"ranking_read_p99_ms\":%.2f,"
      "\"ranking_reads_uncached_per_s\":%.0f,\"ranking_read_uncached_p99_ms\":%.2f,"
      "\"echo_per_s\":%.0f,\"pgbench_tps\":%.0f,\"rebuild_accounts\":%d,"
      "\"rebuild_members\":%d,\"rebuild_seconds\":%.2f,\"rebuild_ok\":%s,"
      "\"awards_vs_pgbench\":%.2f,\"ranking_reads_vs_echo\":%.2f,"
      "\"award_p99_ms_32\":%.2f,\"ranking_reads_uncached_vs_echo\":%.2f,"
      "\"echo_sync_per_s\":%.0f,\"echo_callback_per_s\":%.0f,"
      "\"award_cpu_us_32\":{\"ledger\":%.0f,\"postgres\":%.0f,\"redis\":%.0f,"
      "\"load_generator\":%.0f,\"cores_available\":%.0f},"
      "\"names_fill_us_per_top10\":%.2f,\"ranking_read_cpu_us\":%.0f}\n",
      MachineLine(), s.seconds, awards[1].per_second, awards[8].per_second, awards[32].per_second,
      awards[128].per_second, awards[1].p50_ms, awards[8].p50_ms, awards[32].p50_ms,
      awards[128].p50_ms, awards[1].p99_ms, awards[8].p99_ms, awards[32].p99_ms, awards[128].p99_ms,
      awards[1].errors + awards[8].errors + awards[32].errors + awards[128].errors,
      reads.per_second, reads.p99_ms, uncached_reads.per_second, uncached_reads.p99_ms,
      echo.per_second, pgbench_tps, s.rebuild_accounts, rebuilt.members_written(), rebuild_seconds,
      rebuild_status.ok() ? "true" : "false", awards_vs_pgbench, reads_vs_echo, a32.p99_ms,
      uncached_vs_echo, echo_sync.per_second, echo_callback.per_second, award_cpu.ledger,
      award_cpu.postgres, award_cpu.redis, award_cpu.client, award_cpu.available, names_us_per_page,
      read_cpu_us);
  return rebuild_status.ok() ? 0 : 1;
}
