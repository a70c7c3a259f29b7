// cp_soak: the suite under the story's mixed load for a long time (an hour by default), with the
// resident memory of the gateway and each service sampled from /proc. After a warm-up (the first
// fifth of the run) memory should stay flat: a process that grows by more than 20% (and 16 MiB)
// from the end of the warm-up to the end is named, and the run exits 1. The load is LoadDriver's
// flows over the gateway's gRPC face plus REST reads of the street's ranking and a rider's
// balance, half on one keep-alive connection and half each on a new one (the gateway's REST
// sessions come and go, as a mobile app's do).
//
//   cp_soak [--minutes=60] [--sample_seconds=60] [--port_base=27050] [--run_dir=DIR]
// Prints a row per sample (RSS in MiB per process) and ends with one JSON line.
#include <httplib.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/config/config_parser.h"
#include "tests/fault/load_driver.h"
#include "tests/fault/suite_control.h"

namespace civicpoints::fault {
namespace {

const char* const kProcesses[] = {"gateway", "identity", "activity", "ledger", "rewards", "events"};

struct Settings {
  absl::Duration length = absl::Minutes(60);
  absl::Duration sample = absl::Seconds(60);
  int64_t port_base = 27050;
  std::string run_dir = CP_BUILD_DIR "/test-run/soak";
};

// A process's resident memory in MiB, from /proc/PID/status: all of it (VmRSS), and the part
// that is its own (RssAnon: heap, stacks) apart from mapped files (RssFile: code and libraries,
// which grow as more of them is first run). -1 where it cannot be read.
struct Resident {
  double total = -1, anon = -1, file = -1;
};

Resident ReadResident(int pid) {
  Resident r;
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    double* field = line.rfind("VmRSS:", 0) == 0     ? &r.total
                    : line.rfind("RssAnon:", 0) == 0 ? &r.anon
                    : line.rfind("RssFile:", 0) == 0 ? &r.file
                                                     : nullptr;
    if (field == nullptr) continue;
    std::istringstream fields(line.substr(line.find(':') + 1));
    double kib = 0;
    fields >> kib;
    *field = kib / 1024.0;
  }
  return r;
}

// REST reads until `stop`: a street's top ranking, on a kept connection or a fresh one, as a
// signed-in app would make them (a refused token is replaced by a new login, as an app refreshes).
void RestReads(const std::string& http_url, const LoadDriver& driver, const std::string& street,
               const std::atomic<bool>& stop, std::atomic<int64_t>& ok, std::atomic<int64_t>& bad) {
  httplib::Client kept(http_url);
  kept.set_keep_alive(true);
  httplib::Headers headers = {{"Authorization", "Bearer " + driver.admin_token()}};
  const std::string path =
      absl::StrCat("/v1/rankings/top?scope.level=ORG_LEVEL_STREET&scope.orgId=", street,
                   "&period.kind=RANKING_PERIOD_KIND_ALL_TIME&topN=20");
  for (int64_t n = 0; !stop; ++n) {
    int status = 0;
    if (n % 2 == 0) {
      if (httplib::Result r = kept.Get(path, headers)) status = r->status;
    } else {
      httplib::Client fresh(http_url);
      if (httplib::Result r = fresh.Get(path, headers)) status = r->status;
    }
    (status == 200 ? ok : bad)++;
    if (status == 401) {
      // The token expired (15 minutes): sign in again.
      if (std::string token = driver.LogAdminInAgain(); !token.empty()) {
        headers = {{"Authorization", "Bearer " + token}};
      }
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

int Run(const Settings& settings) {
  setenv("CP_LOG_LEVEL", "warn", 1);
  absl::StatusOr<SuiteControl> started = SuiteControl::StartForLoad(
      settings.run_dir, static_cast<int>(settings.port_base), CP_BUILD_DIR);
  if (!started.ok()) {
    std::cerr << started.status() << "\n";
    return 2;
  }
  SuiteControl& suite = *started;
  LoadDriver driver({.gateway_addr = suite.gateway_addr(),
                     .admin_phone = suite.admin_phone(),
                     .admin_password = suite.admin_password(),
                     .seed = 7});
  if (absl::Status s = driver.Setup(); !s.ok()) {
    std::cerr << s << "\n";
    suite.Stop();
    return 2;
  }
  driver.Start();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> rest_ok{0}, rest_bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back(RestReads, suite.http_url(), std::cref(driver), driver.street(),
                         std::cref(stop), std::ref(rest_ok), std::ref(rest_bad));
  }

  std::map<std::string, std::vector<Resident>> rss;
  std::cout << "minute   " << absl::StrJoin(kProcesses, "  ") << "   (RSS, MiB)" << std::endl;
  const absl::Time start = absl::Now();
  while (true) {
    std::string row = absl::StrFormat("%6.1f", absl::ToDoubleMinutes(absl::Now() - start));
    for (const char* name : kProcesses) {
      absl::StatusOr<int> pid = suite.ServicePid(name);
      const Resident mib = pid.ok() ? ReadResident(*pid) : Resident();
      rss[name].push_back(mib);
      absl::StrAppend(&row,
                      absl::StrFormat("  %*.1f", static_cast<int>(std::strlen(name)), mib.total));
    }
    std::cout << row << std::endl;
    if (absl::Now() - start >= settings.length) break;
    absl::SleepFor(std::min(settings.sample, start + settings.length - absl::Now()));
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  driver.Stop();

  // The sample at the end of the warm-up (a fifth of the run) against the last. The rule is on
  // the whole resident set; the split shows whether growth is the process's own memory or more of
  // its code and libraries paged in.
  bool flat = true;
  std::vector<std::string> json;
  for (const char* name : kProcesses) {
    const std::vector<Resident>& v = rss[name];
    const Resident warm = v[v.size() / 5], last = v.back();
    const double growth = warm.total > 0 ? (last.total - warm.total) / warm.total : 0;
    const bool grew = last.total - warm.total > 16 && growth > 0.20;
    flat &= !grew;
    std::cout << absl::StrFormat(
        "%-9s after warm-up %6.1f MiB, at the end %6.1f MiB (%+.1f%%; own %.1f -> %.1f, files "
        "%.1f -> %.1f)%s\n",
        name, warm.total, last.total, growth * 100, warm.anon, last.anon, warm.file, last.file,
        grew ? "  GROWING" : "");
    json.push_back(absl::StrFormat(
        "\"%s\":{\"warm_mib\":%.1f,\"end_mib\":%.1f,\"warm_anon_mib\":%.1f,\"end_anon_mib\":%.1f,"
        "\"warm_file_mib\":%.1f,\"end_file_mib\":%.1f}",
        name, warm.total, last.total, warm.anon, last.anon, warm.file, last.file));
  }
  const CallCounts calls = driver.counts();
  std::cout << "calls: " << calls.ok << " gRPC ok, " << rest_ok << " REST served, " << rest_bad
            << " REST failed\n";
  std::cout << "{\"minutes\":" << absl::ToDoubleMinutes(settings.length)
            << ",\"flat\":" << (flat ? "true" : "false") << ",\"grpc_ok\":" << calls.ok
            << ",\"rest_ok\":" << rest_ok << ",\"rss\":{" << absl::StrJoin(json, ",") << "}}"
            << std::endl;
  suite.Stop();
  return flat ? 0 : 1;
}

}  // namespace
}  // namespace civicpoints::fault

int main(int argc, char** argv) {
  civicpoints::fault::Settings settings;
  civicpoints::config::ConfigParser parser("cp_soak", "the suite under mixed load, memory watched");
  int64_t minutes = 60, sample_seconds = 60;
  parser.AddInt("minutes", "length of the run", &minutes, 1, 24 * 60);
  parser.AddInt("sample_seconds", "seconds between memory samples", &sample_seconds, 1, 3600);
  parser.AddInt("port_base", "first port of the suite", &settings.port_base, 1024, 60000);
  parser.AddString("run_dir", "where the suite's stores and logs go", &settings.run_dir);
  if (absl::Status s = parser.Parse(argc, argv, civicpoints::config::MapEnvironment({})); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 2;
  }
  if (parser.help_requested()) {
    std::cout << parser.Usage();
    return 0;
  }
  settings.length = absl::Minutes(minutes);
  settings.sample = absl::Seconds(sample_seconds);
  return civicpoints::fault::Run(settings);
}
