#include "tests/bench/bench_support.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <regex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/config/config_parser.h"
#include "cptest/v1/test_service.grpc.pb.h"

namespace civicpoints::bench {

int ParseSettings(config::ConfigParser& parser, int argc, char** argv) {
  if (absl::Status st = parser.Parse(argc, argv, config::ProcessEnvironment()); !st.ok()) {
    std::cerr << st.message() << "\n";
    return 2;
  }
  if (parser.help_requested()) {
    std::cout << parser.Usage();
    return 0;
  }
  return -1;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

Run Measure(int callers, int64_t seconds, const std::function<bool(int caller, int64_t i)>& call) {
  std::vector<std::vector<double>> latencies(callers);
  std::atomic<int64_t> errors{0};
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      for (int64_t i = 0; absl::Now() < end; ++i) {
        const absl::Time start = absl::Now();
        if (!call(c, i)) ++errors;
        latencies[c].push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  Run r;
  r.calls = static_cast<int64_t>(all.size());
  r.errors = errors;
  r.per_second = static_cast<double>(r.calls - r.errors) / static_cast<double>(seconds);
  r.p50_ms = Percentile(all, 0.50);
  r.p99_ms = Percentile(all, 0.99);
  return r;
}

Run MeasureCount(int callers, int64_t total,
                 const std::function<bool(int caller, int64_t i)>& call) {
  std::vector<std::vector<double>> latencies(callers);
  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> next{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      for (int64_t i = next++; i < total; i = next++) {
        const absl::Time t = absl::Now();
        if (!call(c, i)) ++errors;
        latencies[c].push_back(absl::ToDoubleMilliseconds(absl::Now() - t));
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  Run r;
  r.calls = static_cast<int64_t>(all.size());
  r.errors = errors;
  r.per_second = elapsed > 0 ? static_cast<double>(r.calls - r.errors) / elapsed : 0;
  r.p50_ms = Percentile(all, 0.50);
  r.p99_ms = Percentile(all, 0.99);
  return r;
}

std::string WithDatabase(const std::string& url, const std::string& db) {
  return std::regex_replace(url, std::regex(R"(/[^/?]*(\?|$))"), "/" + db + "$1",
                            std::regex_constants::format_first_only);
}

void RecreateDatabase(const std::string& admin_url, const std::string& db) {
  pqxx::connection c(admin_url);
  pqxx::nontransaction tx(c);
  tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(db) + " WITH (FORCE)");
  tx.exec("CREATE DATABASE " + tx.quote_name(db));
}

int FreePort() {
  // Bind port 0, read the port, release it.
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  cptest::v1::TestService::Service dummy;
  b.RegisterService(&dummy);
  b.BuildAndStart()->Shutdown();
  return port;
}

pid_t StartProcess(const std::string& binary, const std::map<std::string, std::string>& env) {
  const pid_t pid = fork();
  if (pid == 0) {
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    execl(binary.c_str(), binary.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

void StopProcess(pid_t pid) {
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

std::string MachineLine() {
  std::ifstream cpu("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  return absl::StrCat(std::thread::hardware_concurrency(), " cores, ", model);
}

double PgbenchTps(const std::string& admin_url, int clients) {
  RecreateDatabase(admin_url, "cp_bench_pgbench");
  const std::string url = WithDatabase(admin_url, "cp_bench_pgbench");
  if (std::system(("pgbench -i -q -s 32 '" + url + "' >/dev/null 2>&1").c_str()) != 0) return 0;
  FILE* out =
      popen(absl::StrCat("pgbench -c ", clients, " -j 2 -T 10 -b tpcb-like '", url, "' 2>/dev/null")
                .c_str(),
            "r");
  if (out == nullptr) return 0;
  std::string text;
  char buf[512];
  while (fgets(buf, sizeof buf, out) != nullptr) text += buf;
  pclose(out);
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(R"(tps = ([0-9.]+) \(without initial)"))) return 0;
  return std::stod(m[1].str());
}

namespace {

class BareEcho final : public cptest::v1::TestService::Service {
  grpc::Status Echo(grpc::ServerContext*, const cptest::v1::EchoRequest* req,
                    cptest::v1::EchoResponse* resp) override {
    resp->set_text(req->text());
    return grpc::Status::OK;
  }
};

}  // namespace

Run EchoAnchor(int callers, int64_t seconds) {
  BareEcho service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  std::vector<std::unique_ptr<cptest::v1::TestService::Stub>> stubs;
  for (int i = 0; i < 4; ++i) {
    stubs.push_back(cptest::v1::TestService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials())));
  }
  Run r = Measure(callers, seconds, [&](int c, int64_t) {
    grpc::ClientContext ctx;
    cptest::v1::EchoRequest req;
    req.set_text("top10");
    cptest::v1::EchoResponse resp;
    return stubs[c % stubs.size()]->Echo(&ctx, req, &resp).ok();
  });
  server->Shutdown();
  return r;
}

}  // namespace civicpoints::bench
