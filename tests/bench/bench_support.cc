#include "tests/bench/bench_support.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
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

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double CpuSecondsOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command's closing parenthesis: state is the 3rd, utime the 14th, stime 15th.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double CpuSecondsOfCommand(const std::string& name) {
  double total = 0;
  for (const std::filesystem::directory_entry& dir : std::filesystem::directory_iterator(
           "/proc", std::filesystem::directory_options::skip_permission_denied)) {
    const std::string pid = dir.path().filename().string();
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit)) continue;
    std::ifstream comm(dir.path() / "comm");
    std::string command;
    if (std::getline(comm, command) && command == name) total += CpuSecondsOf(std::stoi(pid));
  }
  return total;
}

namespace {

// One timed run: appends every call's latency (ms) to `samples`; returns the errors.
int64_t RunFor(int callers, absl::Duration length,
               const std::function<bool(int caller, int64_t i)>& call,
               std::vector<double>* samples) {
  std::vector<std::vector<double>> latencies(callers);
  std::atomic<int64_t> errors{0};
  const absl::Time end = absl::Now() + length;
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
  for (auto& l : latencies) samples->insert(samples->end(), l.begin(), l.end());
  return errors;
}

Run Summarize(std::vector<double>& samples, int64_t errors, double seconds, double cpu_seconds) {
  Run r;
  r.calls = static_cast<int64_t>(samples.size());
  r.errors = errors;
  r.per_second = static_cast<double>(r.calls - r.errors) / seconds;
  r.p50_ms = Percentile(samples, 0.50);
  r.p99_ms = Percentile(samples, 0.99);
  r.client_cpu_us_per_call = r.calls > 0 ? cpu_seconds * 1e6 / static_cast<double>(r.calls) : 0;
  return r;
}

}  // namespace

Run Measure(int callers, int64_t seconds, const std::function<bool(int caller, int64_t i)>& call) {
  std::vector<double> samples;
  const double cpu_before = SelfCpuSeconds();
  const int64_t errors = RunFor(callers, absl::Seconds(seconds), call, &samples);
  return Summarize(samples, errors, static_cast<double>(seconds), SelfCpuSeconds() - cpu_before);
}

std::vector<Run> MeasureInTurns(
    int callers, int rounds, double turn_seconds,
    const std::vector<std::function<bool(int caller, int64_t i)>>& contenders,
    const std::vector<pid_t>& watched) {
  const size_t n = contenders.size();
  std::vector<std::vector<double>> samples(n);
  std::vector<int64_t> errors(n, 0);
  std::vector<double> cpu(n, 0);
  std::vector<std::vector<double>> watched_cpu(n, std::vector<double>(watched.size(), 0));
  for (int round = 0; round < rounds; ++round) {
    for (size_t k = 0; k < n; ++k) {
      std::vector<double> watched_before;
      for (pid_t pid : watched) watched_before.push_back(CpuSecondsOf(pid));
      const double cpu_before = SelfCpuSeconds();
      errors[k] += RunFor(callers, absl::Seconds(turn_seconds), contenders[k], &samples[k]);
      cpu[k] += SelfCpuSeconds() - cpu_before;
      for (size_t w = 0; w < watched.size(); ++w) {
        watched_cpu[k][w] += CpuSecondsOf(watched[w]) - watched_before[w];
      }
    }
  }
  std::vector<Run> runs;
  for (size_t k = 0; k < n; ++k) {
    runs.push_back(Summarize(samples[k], errors[k], turn_seconds * rounds, cpu[k]));
    for (double seconds : watched_cpu[k]) {
      runs.back().watched_cpu_us_per_call.push_back(
          runs.back().calls > 0 ? seconds * 1e6 / static_cast<double>(runs.back().calls) : 0);
    }
  }
  return runs;
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

// The same on gRPC's callback API: no thread held per call.
class CallbackEcho final : public cptest::v1::TestService::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const cptest::v1::EchoRequest* req,
                                 cptest::v1::EchoResponse* resp) override {
    resp->set_text(req->text());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

Run EchoAnchor(int callers, int64_t seconds, bool callback_api) {
  BareEcho sync_service;
  CallbackEcho callback_service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  if (callback_api) {
    builder.RegisterService(&callback_service);
  } else {
    builder.RegisterService(&sync_service);
  }
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
