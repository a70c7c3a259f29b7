// cp_fault_rounds: the suite under the story's load while a fault injector hurts it, round after
// round; then, after a settle period, the books checked from outside (invariants.h).
//
//   cp_fault_rounds [--rounds=N] [--seed=S] [--round_seconds=T] [--port_base=P] [--run_dir=D]
//
// Each round one fault, chosen by the seeded generator: a service or the gateway killed
// (SIGKILL) and started again; one frozen (SIGSTOP) past its callers' deadlines and resumed;
// PostgreSQL stopped as a power cut would and started again; Redis emptied (FLUSHALL), or killed
// and started again. The seed is printed first: the same seed gives the same faults in the same
// order (the load's timing around them differs from run to run). Prints a table and ends with
// one JSON line; exits 1 when an invariant does not hold.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "common/config/config_parser.h"
#include "tests/e2e/suite_client.h"
#include "tests/fault/invariants.h"
#include "tests/fault/load_driver.h"
#include "tests/fault/suite_control.h"

namespace civicpoints::fault {
namespace {

// A frozen service is held this long: past the driver's 5-second deadline per attempt.
constexpr absl::Duration kPause = absl::Seconds(7);
// After the load stops, how long relays and sagas get to finish before a violation counts.
constexpr absl::Duration kSettle = absl::Seconds(120);

const char* const kServices[] = {"identity", "activity", "ledger", "rewards", "events", "gateway"};

struct Settings {
  int64_t rounds = 3;
  int64_t seed = 0;
  absl::Duration round_length = absl::Seconds(15);
  // Below Linux's ephemeral range (32768-60999), like the test fixtures' ports.
  int64_t port_base = 28050;
  std::string run_dir = CP_BUILD_DIR "/test-run/fault";
};

// One round's fault: its name for the table, and how to do it and undo it.
std::string InjectFault(SuiteControl& suite, std::mt19937_64& rng, absl::Status* status) {
  const int pick = static_cast<int>(rng() % 100);
  const std::string target = kServices[rng() % std::size(kServices)];
  auto check = [&](absl::Status s) {
    if (!s.ok() && status->ok()) *status = s;
  };
  if (pick < 40) {
    check(suite.KillService(target));
    absl::SleepFor(absl::Milliseconds(500 + rng() % 1000));
    check(suite.RestartService(target));
    return "kill -9 " + target;
  }
  if (pick < 60) {
    check(suite.PauseService(target));
    absl::SleepFor(kPause);
    check(suite.ResumeService(target));
    return "SIGSTOP " + target;
  }
  if (pick < 75) {
    check(suite.CrashPostgres());
    absl::SleepFor(absl::Seconds(1));
    check(suite.StartPostgres());
    return "PostgreSQL stopped -m immediate";
  }
  if (pick < 90) {
    check(suite.FlushRedis());
    return "Redis FLUSHALL";
  }
  check(suite.KillRedis());
  absl::SleepFor(absl::Seconds(1));
  check(suite.StartRedis());
  return "kill -9 Redis";
}

std::string AdminToken(const SuiteControl& suite) {
  auto channel = grpc::CreateChannel(suite.gateway_addr(), grpc::InsecureChannelCredentials());
  identity::v1::LoginRequest req;
  req.set_phone(suite.admin_phone());
  req.set_password(suite.admin_password());
  identity::v1::LoginResponse resp;
  for (int attempt = 0; attempt < 30; ++attempt) {
    if (e2e::CallMethod(channel, "/civicpoints.identity.v1.IdentityService/Login", "", req, &resp,
                        absl::Seconds(5))
            .ok()) {
      return resp.tokens().access_token();
    }
    absl::SleepFor(absl::Seconds(1));
  }
  return "";
}

int Run(const Settings& settings) {
  std::cout << "fault rounds: seed " << settings.seed << ", " << settings.rounds << " rounds of "
            << absl::FormatDuration(settings.round_length)
            << " (rerun with --seed=" << settings.seed << ")" << std::endl;
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
                     .seed = static_cast<uint64_t>(settings.seed)});
  if (absl::Status s = driver.Setup(); !s.ok()) {
    std::cerr << s << "\n";
    suite.Stop();
    return 2;
  }
  driver.Start();

  std::mt19937_64 rng(static_cast<uint64_t>(settings.seed));
  std::map<std::string, int> faults;
  absl::Status fault_status;
  for (int64_t round = 1; round <= settings.rounds; ++round) {
    const absl::Time round_end = absl::Now() + settings.round_length;
    absl::SleepFor(absl::Milliseconds(1000 + rng() % 2000));
    const absl::Time start = absl::Now();
    const std::string fault = InjectFault(suite, rng, &fault_status);
    ++faults[fault];
    std::cout << "round " << round << ": " << fault << ", recovered in "
              << absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(10)))
              << std::endl;
    if (!fault_status.ok()) {
      std::cerr << "the fault injector failed: " << fault_status << "\n";
      break;
    }
    absl::SleepFor(round_end - absl::Now());
  }
  driver.Stop();

  const Acknowledged acked = driver.acknowledged();
  const SuiteStores stores{.pg_url = suite.pg_url(),
                           .redis_addr = suite.redis_addr(),
                           .gateway_addr = suite.gateway_addr(),
                           .admin_token = AdminToken(suite)};
  const absl::Time settle_start = absl::Now();
  InvariantReport report;
  int checks_total = 0;
  while (true) {
    report = CheckInvariants(stores, acked);
    checks_total += report.checks;
    if (report.violations.empty() || absl::Now() - settle_start > kSettle) break;
    absl::SleepFor(absl::Seconds(3));
  }
  const double settle_s = absl::ToDoubleSeconds(absl::Now() - settle_start);

  const CallCounts calls = driver.counts();
  int fulfilled = 0, cancelled = 0;
  for (const auto& [id, state] : acked.redemptions) {
    fulfilled += state == "FULFILLED";
    cancelled += state == "CANCELLED";
  }
  std::cout << "\n"
            << "fault                              count\n";
  std::vector<std::string> fault_json;
  for (const auto& [name, count] : faults) {
    std::cout << absl::StrCat(name, std::string(35 - std::min<size_t>(34, name.size()), ' '), count)
              << "\n";
    fault_json.push_back(absl::StrCat("\"", name, "\":", count));
  }
  std::cout << "calls: " << calls.ok << " ok, " << calls.retried << " retried attempts, "
            << calls.given_up << " given up, " << calls.refused << " refused\n";
  for (const auto& [what, n] : calls.refusals)
    std::cout << "  refused: " << what << " " << n << "\n";
  for (const auto& [what, n] : calls.give_ups)
    std::cout << "  gave up: " << what << " " << n << "\n";
  std::cout << "acknowledged: " << acked.verified_records.size() << " verified records, "
            << acked.confirmed_attendance.size() << " confirmed attendances, "
            << acked.redemptions.size() << " redemptions (" << fulfilled << " fulfilled, "
            << cancelled << " cancelled)\n"
            << "invariants: " << report.checks << " checks in the last pass (" << checks_total
            << " over the settle), " << report.violations.size() << " violations, settled in "
            << static_cast<int>(settle_s) << " s\n";
  for (const std::string& v : report.violations) std::cout << "  VIOLATION " << v << "\n";
  if (!fault_status.ok()) std::cout << "fault injector: " << fault_status << "\n";
  std::cout << "{\"seed\":" << settings.seed << ",\"rounds\":" << settings.rounds << ",\"faults\":{"
            << absl::StrJoin(fault_json, ",") << "},\"calls\":{\"ok\":" << calls.ok
            << ",\"retried\":" << calls.retried << ",\"given_up\":" << calls.given_up
            << ",\"refused\":" << calls.refused
            << "},\"acknowledged\":{\"verified_records\":" << acked.verified_records.size()
            << ",\"confirmed_attendances\":" << acked.confirmed_attendance.size()
            << ",\"redemptions\":" << acked.redemptions.size() << ",\"fulfilled\":" << fulfilled
            << ",\"cancelled\":" << cancelled << "},\"checks\":" << report.checks
            << ",\"violations\":" << report.violations.size()
            << ",\"settle_seconds\":" << static_cast<int>(settle_s) << "}" << std::endl;
  suite.Stop();
  return report.violations.empty() && fault_status.ok() ? 0 : 1;
}

}  // namespace
}  // namespace civicpoints::fault

int main(int argc, char** argv) {
  civicpoints::fault::Settings settings;
  settings.seed = static_cast<int64_t>(absl::ToUnixMicros(absl::Now()) % 1000000007);
  civicpoints::config::ConfigParser parser("cp_fault_rounds",
                                           "the suite under load through random faults");
  parser.AddInt("rounds", "fault rounds", &settings.rounds, 1, 10000);
  parser.AddInt("seed", "the fault schedule's seed (default: from the clock)", &settings.seed, 0,
                INT64_MAX);
  parser.AddDuration("round_seconds", "length of a round", &settings.round_length, absl::Seconds(5),
                     absl::Minutes(10));
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
  return civicpoints::fault::Run(settings);
}
