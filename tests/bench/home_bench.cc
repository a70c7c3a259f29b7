// home_bench: the rider app's home screen (GetMyHome) for one rider of the story's demo.
//
//   home_bench [--calls=300] [--port_base=27350]
//
// Starts the whole suite (scripts/suite.sh, ports from --port_base), loads the demo (cp_demo) and
// signs in as its leading rider, standing at 清远西街小哥驿站 with a phone reporting GCJ-02. Then,
// one call after another through the gateway: GetMyHome, and as the anchor the same parts asked one
// RPC after another (WhoAmI, GetBalance, ListAwards, two GetRank, SearchNearbyPlaces,
// ListMyEligibleExchangeWindows, ListMyRedemptions), as an app without it would. Prints p50, p95,
// p99 and max of each and the 20 ms target. Last line: one JSON object.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <iostream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/app/v1/app_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "common/base/geo_datum.h"
#include "common/config/config_parser.h"
#include "tests/bench/bench_support.h"
#include "tests/bench/demo_suite.h"
#include "tests/fault/suite_control.h"

namespace cp = ::civicpoints;

namespace {

using namespace ::civicpoints::bench;

constexpr double kTargetP99Ms = 20;
constexpr char kRiderPhone[] = "17035200001";  // the demo's leading rider
constexpr char kRiderPassword[] = "Rider-demo-2026";
// 清远西街小哥驿站 (WGS-84 in the demo), as a phone on Amap reports it.
constexpr double kStationLat = 40.0901, kStationLon = 113.2860;

struct Settings {
  int64_t calls = 300;
  int64_t port_base = 27350;
};

std::unique_ptr<grpc::ClientContext> Bearer(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

struct Summary {
  double p50 = 0, p95 = 0, p99 = 0, max = 0;
};

Summary Summarise(std::vector<double> ms) {
  return {Percentile(ms, 0.50), Percentile(ms, 0.95), Percentile(ms, 0.99), Percentile(ms, 1.0)};
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Settings s;
  cp::config::ConfigParser parser("home_bench",
                                  "the rider app's home screen in one call, against its parts "
                                  "asked one RPC after another");
  parser.AddInt("calls", "home screens (and anchors) measured", &s.calls, 1, 100000);
  parser.AddInt("port_base", "the suite's ports (scripts/suite-lib.sh)", &s.port_base, 1024, 60000);
  if (int code = ParseSettings(parser, argc, argv); code >= 0) return code;

  absl::StatusOr<cp::fault::SuiteControl> suite =
      StartSuiteWithDemo("home", static_cast<int>(s.port_base));
  if (!suite.ok()) {
    std::cerr << suite.status() << "\n";
    return 1;
  }
  auto channel = grpc::CreateChannel(suite->gateway_addr(), grpc::InsecureChannelCredentials());
  auto identity = cp::identity::v1::IdentityService::NewStub(channel);
  auto activity = cp::activity::v1::ActivityService::NewStub(channel);
  auto ledger = cp::ledger::v1::LedgerService::NewStub(channel);
  auto rewards = cp::rewards::v1::RewardsService::NewStub(channel);
  auto app = cp::app::v1::AppService::NewStub(channel);

  cp::identity::v1::LoginRequest login;
  login.set_phone(kRiderPhone);
  login.set_password(kRiderPassword);
  cp::identity::v1::LoginResponse signed_in;
  grpc::ClientContext login_ctx;
  grpc::Status logged = identity->Login(&login_ctx, login, &signed_in);
  const std::string token = signed_in.tokens().access_token();
  if (!logged.ok()) {
    std::cerr << "login: " << logged.error_message() << "\n";
    suite->Stop();
    return 1;
  }
  const std::string rider = signed_in.person_id();
  const cp::geo::LatLon gcj = cp::geo::Wgs84ToGcj02({kStationLat, kStationLon});
  cp::common::v1::GeoPoint here;
  here.set_latitude(gcj.lat);
  here.set_longitude(gcj.lon);
  here.set_datum(cp::common::v1::GEO_DATUM_GCJ02);

  std::cout << MachineLine() << "\n";
  std::vector<double> home_ms, anchor_ms;
  int errors = 0;
  cp::app::v1::GetMyHomeResponse last;
  for (int64_t i = 0; i < s.calls; ++i) {
    cp::app::v1::GetMyHomeRequest req;
    *req.mutable_location() = here;
    cp::app::v1::GetMyHomeResponse resp;
    const absl::Time start = absl::Now();
    grpc::Status st = app->GetMyHome(Bearer(token).get(), req, &resp);
    home_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    if (!st.ok() || resp.unavailable_size() > 0) {
      ++errors;
      std::cerr << "home: " << st.error_message() << " " << resp.unavailable_size() << "\n";
    }
    last = resp;

    // The anchor: the same parts, one RPC after another.
    const absl::Time anchor_start = absl::Now();
    bool ok = true;
    {
      cp::identity::v1::WhoAmIResponse me;
      ok &= identity->WhoAmI(Bearer(token).get(), {}, &me).ok();
      cp::ledger::v1::GetBalanceRequest b;
      b.set_person_id(rider);
      cp::ledger::v1::GetBalanceResponse balance;
      ok &= ledger->GetBalance(Bearer(token).get(), b, &balance).ok();
      cp::activity::v1::ListAwardsRequest aw;
      aw.set_status(cp::activity::v1::AWARD_STATUS_PENDING);
      cp::activity::v1::ListAwardsResponse awards;
      ok &= activity->ListAwards(Bearer(token).get(), aw, &awards).ok();
      for (auto kind : {cp::common::v1::RANKING_PERIOD_KIND_ALL_TIME,
                        cp::common::v1::RANKING_PERIOD_KIND_MONTH}) {
        cp::ledger::v1::GetRankRequest r;
        r.set_person_id(rider);
        r.mutable_scope()->set_level(cp::common::v1::ORG_LEVEL_COMMUNITY);
        r.mutable_scope()->set_org_id(me.person().rider().home_community().community_id());
        r.mutable_period()->set_kind(kind);
        cp::ledger::v1::GetRankResponse rank;
        ok &= ledger->GetRank(Bearer(token).get(), r, &rank).ok();
      }
      cp::activity::v1::SearchNearbyPlacesRequest n;
      *n.mutable_location() = here;
      n.add_kinds(cp::activity::v1::PLACE_KIND_RIDER_STATION);
      n.set_page_size(1);
      cp::activity::v1::SearchNearbyPlacesResponse near;
      ok &= activity->SearchNearbyPlaces(Bearer(token).get(), n, &near).ok();
      cp::rewards::v1::ListMyEligibleExchangeWindowsResponse windows;
      ok &= rewards->ListMyEligibleExchangeWindows(Bearer(token).get(), {}, &windows).ok();
      cp::rewards::v1::ListMyRedemptionsRequest ready;
      ready.add_states(cp::rewards::v1::REDEMPTION_STATE_READY);
      cp::rewards::v1::ListMyRedemptionsResponse pickups;
      ok &= rewards->ListMyRedemptions(Bearer(token).get(), ready, &pickups).ok();
    }
    anchor_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - anchor_start));
    if (!ok) ++errors;
  }
  suite->Stop();

  const Summary h = Summarise(home_ms), a = Summarise(anchor_ms);
  std::cout << absl::StrFormat(
      "GetMyHome of the demo's leading rider (rank %d of %d in %s, %d points, nearest station %s "
      "%d m), %d calls one after another:\n"
      "  home     p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms   (target: p99 under %.0f "
      "ms)\n"
      "  anchor   p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms   (its 8 parts one RPC "
      "after another)\n"
      "  errors %d\n",
      last.standing().all_time().rank(), last.standing().ranked_all_time(),
      last.standing().community_name(), last.points().available(),
      last.nearest_station().place().name(), last.nearest_station().distance_meters(), s.calls,
      h.p50, h.p95, h.p99, h.max, kTargetP99Ms, a.p50, a.p95, a.p99, a.max, errors);
  std::cout << absl::StrFormat(
      "{\"bench\":\"home\",\"calls\":%d,\"home_p50_ms\":%.2f,\"home_p95_ms\":%.2f,"
      "\"home_p99_ms\":%.2f,\"home_max_ms\":%.2f,\"anchor_sequential_p50_ms\":%.2f,"
      "\"anchor_sequential_p99_ms\":%.2f,\"target_p99_ms\":%.0f,\"errors\":%d}\n",
      s.calls, h.p50, h.p95, h.p99, h.max, a.p50, a.p99, kTargetP99Ms, errors);
  return errors == 0 ? 0 : 1;
}
