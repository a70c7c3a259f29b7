// insights_bench: the district dashboard's overview with the story's demo data.
//
//   insights_bench [--calls=40] [--port_base=27250]
//
// Starts the whole suite (scripts/suite.sh, ports from --port_base), loads the demo (cp_demo),
// and signs in as the demo's district official (an org viewer of 平城区) and as the admin. Then,
// one call after another: GetOrgOverview of 平城区 (a district: its streets, their communities,
// the 56 riders, 9 stations and 137 love corners of 清远街道) through the gateway, and as the
// anchor the same figures asked of the four services one RPC after another by the admin, as a
// dashboard without the overview would. Prints p50, p95 and max of each, and the 300 ms target.
// Last line: one JSON object.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <array>
#include <cstdio>
#include <iostream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/insights/v1/insights_service.grpc.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "common/config/config_parser.h"
#include "tests/bench/bench_support.h"
#include "tests/bench/demo_suite.h"
#include "tests/fault/suite_control.h"

namespace cp = ::civicpoints;

namespace {

using namespace ::civicpoints::bench;

constexpr double kTargetMs = 300;
constexpr char kOfficialPhone[] = "17035209003";
constexpr char kStaffPassword[] = "Staff-demo-2026";

struct Settings {
  int64_t calls = 40;
  int64_t port_base = 27250;
};

std::unique_ptr<grpc::ClientContext> Bearer(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

std::string Login(cp::identity::v1::IdentityService::Stub& identity, const std::string& phone,
                  const std::string& password) {
  cp::identity::v1::LoginRequest req;
  req.set_phone(phone);
  req.set_password(password);
  cp::identity::v1::LoginResponse resp;
  grpc::ClientContext ctx;
  grpc::Status s = identity.Login(&ctx, req, &resp);
  if (!s.ok()) std::cerr << "login " << phone << ": " << s.error_message() << "\n";
  return resp.tokens().access_token();
}

struct Summary {
  double p50 = 0, p95 = 0, max = 0;
};

Summary Summarise(std::vector<double> ms) {
  Summary out;
  out.p50 = Percentile(ms, 0.50);
  out.p95 = Percentile(ms, 0.95);
  out.max = Percentile(ms, 1.0);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Settings s;
  cp::config::ConfigParser parser("insights_bench",
                                  "the district overview with the demo's data, against the same "
                                  "figures asked one RPC after another");
  parser.AddInt("calls", "overviews (and anchors) measured", &s.calls, 1, 10000);
  parser.AddInt("port_base", "the suite's ports (scripts/suite-lib.sh)", &s.port_base, 1024, 60000);
  if (int code = ParseSettings(parser, argc, argv); code >= 0) return code;

  absl::StatusOr<cp::fault::SuiteControl> suite =
      StartSuiteWithDemo("insights", static_cast<int>(s.port_base));
  if (!suite.ok()) {
    std::cerr << suite.status() << "\n";
    return 1;
  }
  auto channel = grpc::CreateChannel(suite->gateway_addr(), grpc::InsecureChannelCredentials());
  auto identity = cp::identity::v1::IdentityService::NewStub(channel);
  auto activity = cp::activity::v1::ActivityService::NewStub(channel);
  auto ledger = cp::ledger::v1::LedgerService::NewStub(channel);
  auto rewards = cp::rewards::v1::RewardsService::NewStub(channel);
  auto insights = cp::insights::v1::InsightsService::NewStub(channel);
  const std::string official = Login(*identity, kOfficialPhone, kStaffPassword);
  const std::string admin = Login(*identity, suite->admin_phone(), suite->admin_password());
  cp::identity::v1::LookupOrgNodeRequest lookup;
  lookup.set_code("dt-pingcheng");
  cp::identity::v1::LookupOrgNodeResponse district;
  grpc::Status found = identity->LookupOrgNode(Bearer(admin).get(), lookup, &district);
  if (official.empty() || admin.empty() || !found.ok()) {
    std::cerr << "setup failed: " << found.error_message() << "\n";
    suite->Stop();
    return 1;
  }
  const std::string org = district.node().org_id();

  std::cout << MachineLine() << "\n";
  std::vector<double> overview_ms, anchor_ms;
  int errors = 0;
  int64_t children = 0;
  for (int64_t i = 0; i < s.calls; ++i) {
    cp::insights::v1::GetOrgOverviewRequest req;
    req.set_org_id(org);
    cp::insights::v1::GetOrgOverviewResponse resp;
    const absl::Time start = absl::Now();
    grpc::Status st = insights->GetOrgOverview(Bearer(official).get(), req, &resp);
    overview_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    if (!st.ok()) {
      ++errors;
      std::cerr << "overview: " << st.error_message() << "\n";
    }
    children = resp.children_size();

    // The anchor: the same sources, one after another, as the admin.
    const absl::Time anchor_start = absl::Now();
    bool ok = true;
    {
      cp::identity::v1::GetOrgStatsRequest r;
      r.set_org_id(org);
      cp::identity::v1::GetOrgStatsResponse a;
      ok &= identity->GetOrgStats(Bearer(admin).get(), r, &a).ok();
      cp::identity::v1::ListChildOrgStatsRequest rc;
      rc.set_org_id(org);
      rc.set_page_size(100);
      cp::identity::v1::ListChildOrgStatsResponse ac;
      ok &= identity->ListChildOrgStats(Bearer(admin).get(), rc, &ac).ok();
      cp::activity::v1::GetActivityStatsRequest ra;
      ra.set_org_id(org);
      ra.set_include_children(true);
      cp::activity::v1::GetActivityStatsResponse aa;
      ok &= activity->GetActivityStats(Bearer(admin).get(), ra, &aa).ok();
      cp::activity::v1::GetPlaceCoverageStatsRequest rp;
      rp.set_org_id(org);
      rp.set_include_communities(true);
      cp::activity::v1::GetPlaceCoverageStatsResponse ap;
      ok &= activity->GetPlaceCoverageStats(Bearer(admin).get(), rp, &ap).ok();
      cp::ledger::v1::GetOrgStatisticsRequest rl;
      rl.mutable_scope()->set_level(cp::common::v1::ORG_LEVEL_DISTRICT);
      rl.mutable_scope()->set_org_id(org);
      cp::ledger::v1::GetOrgStatisticsResponse al;
      ok &= ledger->GetOrgStatistics(Bearer(admin).get(), rl, &al).ok();
      cp::ledger::v1::GetTopRankingRequest rt;
      *rt.mutable_scope() = rl.scope();
      rt.mutable_period()->set_kind(cp::common::v1::RANKING_PERIOD_KIND_MONTH);
      rt.set_top_n(15);
      cp::ledger::v1::GetTopRankingResponse at;
      ok &= ledger->GetTopRanking(Bearer(admin).get(), rt, &at).ok();
      for (auto by :
           {cp::rewards::v1::STATS_DIMENSION_GIFT, cp::rewards::v1::STATS_DIMENSION_STATION,
            cp::rewards::v1::STATS_DIMENSION_DAY}) {
        cp::rewards::v1::GetRedemptionStatsRequest rr;
        *rr.mutable_scope() = rl.scope();
        const std::string today =
            absl::FormatTime("%Y-%m-%d", absl::Now(), absl::FixedTimeZone(8 * 3600));
        rr.set_start_day(absl::FormatTime("%Y-%m-%d", absl::Now() - absl::Hours(24 * 29),
                                          absl::FixedTimeZone(8 * 3600)));
        rr.set_end_day(today);
        rr.add_group_by(by);
        rr.set_page_size(100);
        cp::rewards::v1::GetRedemptionStatsResponse ar;
        ok &= rewards->GetRedemptionStats(Bearer(admin).get(), rr, &ar).ok();
      }
    }
    anchor_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - anchor_start));
    if (!ok) ++errors;
  }
  suite->Stop();

  const Summary o = Summarise(overview_ms), a = Summarise(anchor_ms);
  std::cout << absl::StrFormat(
      "GetOrgOverview of 平城区 (%d children) as its viewer, %d calls one after another:\n"
      "  overview   p50 %.1f ms  p95 %.1f ms  max %.1f ms   (target: under %.0f ms)\n"
      "  anchor     p50 %.1f ms  p95 %.1f ms  max %.1f ms   (the same sources one RPC after "
      "another, as the admin)\n"
      "  errors %d\n",
      children, s.calls, o.p50, o.p95, o.max, kTargetMs, a.p50, a.p95, a.max, errors);
  std::cout << absl::StrFormat(
      "{\"bench\":\"insights\",\"calls\":%d,\"children\":%d,\"overview_p50_ms\":%.1f,"
      "\"overview_p95_ms\":%.1f,\"overview_max_ms\":%.1f,\"anchor_sequential_p50_ms\":%.1f,"
      "\"anchor_sequential_p95_ms\":%.1f,\"target_ms\":%.0f,\"errors\":%d}\n",
      s.calls, children, o.p50, o.p95, o.max, a.p50, a.p95, kTargetMs, errors);
  return errors == 0 ? 0 : 1;
}
