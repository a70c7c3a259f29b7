// cp_demo: loads the story of SEED-STORY.md into a running suite through the gateway's public gRPC
// API, then prints the figures the suite now shows and the accounts to sign in with. Running it
// again changes nothing and prints the same. `make run` runs it once every service is SERVING
// (unless DEMO=0).
//
//   cp_demo --gateway=127.0.0.1:50050
//   cp_demo --help
// Exit codes: 0 loaded, 1 a call failed (the message says which), 2 bad settings.
#include <iostream>

#include "absl/strings/str_format.h"
#include "common/config/config_parser.h"
#include "tools/demo/gateway_client.h"
#include "tools/demo/loader.h"

namespace {

using civicpoints::demo::DemoOptions;
using civicpoints::demo::DemoSummary;

void Print(const DemoSummary& s, absl::Duration took) {
  std::cout << absl::StrFormat("Demo data loaded (%.1f s): the story of 清远街道, 平城区\n",
                               absl::ToDoubleSeconds(took));
  std::cout << absl::StrFormat("  清远西街社区: %d riders checked in\n", s.riders_checked_in);
  std::cout << absl::StrFormat("  清远街道: %d rider stations, %d love corners\n", s.stations,
                               s.love_corners);
  std::cout << absl::StrFormat("  ranking of 清远西街社区 (all time): #%d %s, %d points\n",
                               s.leader_rank, s.leader_name, s.leader_points);
  if (!s.window_id.empty()) {
    std::cout << absl::StrFormat("  exchange window open: %s (%d riders in the cut)\n",
                                 s.window_title, s.window_eligible);
    std::cout << "    " << s.window_rule << "\n";
  }
  std::cout << "Accounts (phone / password), e.g. POST /v1/auth:login on the gateway:\n";
  for (const auto& a : s.accounts) {
    std::cout << absl::StrFormat("  %-13s %-18s %s\n", a.phone, a.password, a.title);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using civicpoints::config::ConfigParser;
  ConfigParser parser("cp_demo",
                      "load the story's demo data into a running suite through the gateway");
  std::string gateway = "127.0.0.1:50050";
  DemoOptions opt;
  int64_t threads = opt.threads;
  parser.AddString("gateway", "the gateway's gRPC address", &gateway);
  parser.AddString("admin_phone", "the bootstrap admin's phone", &opt.admin_phone);
  parser.AddSecret("admin_password", "the bootstrap admin's first password", &opt.admin_password);
  parser.AddSecret("admin_demo_password",
                   "the admin's password after the first login (kept if already set)",
                   &opt.admin_demo_password);
  parser.AddSecret("staff_password", "the street and community workers' password",
                   &opt.staff_password);
  parser.AddSecret("rider_password", "every demo rider's password", &opt.rider_password);
  parser.AddInt("threads", "riders loaded at once", &threads, 1, 32);
  parser.AddDuration("award_wait", "how long to wait for the awards to reach the ledger",
                     &opt.award_wait, absl::Seconds(1), absl::Hours(1));
  absl::Duration patience = absl::Minutes(2);
  parser.AddDuration("patience", "how long one call keeps retrying a busy or unreachable gateway",
                     &patience, absl::Seconds(1), absl::Hours(1));
  if (absl::Status s = parser.Parse(argc, argv, civicpoints::config::ProcessEnvironment());
      !s.ok()) {
    std::cerr << "cp_demo: " << s.message() << "\n";
    return 2;
  }
  if (parser.help_requested()) {
    std::cout << parser.Usage();
    return 0;
  }
  opt.threads = static_cast<int>(threads);

  const absl::Time start = absl::Now();
  civicpoints::demo::GatewayClient gw(gateway);
  gw.set_patience(patience);
  civicpoints::demo::DemoLoader loader(&gw, opt);
  absl::StatusOr<DemoSummary> summary = loader.Run();
  if (!summary.ok()) {
    std::cerr << "cp_demo: loading the demo data through " << gateway
              << " failed: " << summary.status() << "\n";
    return 1;
  }
  Print(*summary, absl::Now() - start);
  return 0;
}
