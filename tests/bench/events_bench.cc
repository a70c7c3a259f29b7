// events_bench: the event feed under awards, as city systems receive it through the gateway.
//
//   events_bench [--awards_per_second=200] [--seconds=15] [--port_base=27150]
//
// Starts the whole suite (scripts/suite.sh, ports from --port_base), then for 1 and for 50
// subscribers: each subscribes through the gateway's gRPC face to points_awarded, while awards are
// posted straight to the ledger at a steady rate; the ledger's journal relay publishes them, the
// feed streams them. Prints, per run, the awards committed per second (the anchor: what the
// subscribers could at best receive), the events delivered per second in all and per subscriber,
// the events missing at the end, and the lag from the journal entry's time (taken in the committing
// transaction) to its arrival at a subscriber: p50, p99, max. Last line: one JSON object.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "civicpoints/events/v1/events_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "common/base/time_units.h"
#include "common/config/config_parser.h"
#include "tests/bench/bench_support.h"
#include "tests/fault/suite_control.h"

namespace cp = ::civicpoints;

namespace {

using namespace ::civicpoints::bench;

struct Settings {
  int64_t awards_per_second = 200;
  int64_t seconds = 15;
  int64_t port_base = 27150;
};

struct Result {
  int subscribers = 0;
  double awards_per_second = 0;
  double delivered_per_second = 0;  // all subscribers together
  int64_t expected = 0;             // awards × subscribers
  int64_t delivered = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};

// The output of a command, or "" when it fails.
std::string Output(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  if (pclose(p) != 0) return "";
  return std::string(absl::StripAsciiWhitespace(out));
}

std::unique_ptr<grpc::ClientContext> Bearer(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

Result RunWith(int subscribers, const Settings& s, const std::string& gateway,
               const std::string& ledger, const std::string& admin, const std::string& internal,
               int run) {
  auto gateway_channel = grpc::CreateChannel(gateway, grpc::InsecureChannelCredentials());
  auto events = cp::events::v1::EventService::NewStub(gateway_channel);
  std::mutex mu;
  std::vector<double> lags_ms;
  std::atomic<int64_t> delivered{0};
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::thread> readers;
  std::atomic<int> ready{0};
  for (int i = 0; i < subscribers; ++i) {
    contexts.push_back(Bearer(admin));
    grpc::ClientContext* ctx = contexts.back().get();
    readers.emplace_back([&, ctx] {
      cp::events::v1::SubscribeRequest req;
      req.add_types("civicpoints.ledger.v1.points_awarded");
      auto stream = events->Subscribe(ctx, req);
      stream->WaitForInitialMetadata();
      ++ready;
      std::vector<double> mine;
      cp::events::v1::SubscribeResponse item;
      while (stream->Read(&item)) {
        if (!item.has_event()) continue;
        mine.push_back(
            absl::ToDoubleMilliseconds(absl::Now() - cp::times::TimeOf(item.event().time())));
        ++delivered;
      }
      stream->Finish();
      std::lock_guard<std::mutex> lock(mu);
      lags_ms.insert(lags_ms.end(), mine.begin(), mine.end());
    });
  }
  while (ready.load() < subscribers) absl::SleepFor(absl::Milliseconds(10));

  // Awards at a steady pace from a few callers, each to a rider of its own.
  auto ledger_stub = cp::ledger::v1::LedgerService::NewStub(
      grpc::CreateChannel(ledger, grpc::InsecureChannelCredentials()));
  constexpr int kCallers = 8;
  std::atomic<int64_t> awarded{0};
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(s.seconds);
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      const absl::Duration every = absl::Seconds(1) * kCallers / s.awards_per_second;
      absl::Time next = start + every * c / kCallers;
      for (int64_t n = 0; next < end; ++n, next += every) {
        absl::SleepFor(next - absl::Now());
        cp::ledger::v1::AwardRequest award;
        award.set_idempotency_key(absl::StrCat("bench-", run, "-", c, "-", n));
        award.set_person_id(absl::StrCat("rider-", run, "-", c, "-", n % 50));
        award.set_amount(5);
        award.set_source_kind(cp::ledger::v1::SOURCE_KIND_SERVICE_RECORD);
        award.set_source_id(absl::StrCat("sr-", run, "-", c, "-", n));
        award.set_verified_by_person_id("bench-staff");
        award.set_points_rule_id("bench@v1");
        award.mutable_org_path()->set_district_id("d1");
        award.mutable_org_path()->set_street_id("s1");
        award.mutable_org_path()->set_community_id("c1");
        cp::times::SetTime(award.mutable_occur_time(), absl::Now());
        cp::ledger::v1::AwardResponse resp;
        if (ledger_stub->Award(Bearer(internal).get(), award, &resp).ok()) ++awarded;
      }
    });
  }
  for (auto& t : callers) t.join();
  const absl::Duration posting = absl::Now() - start;
  // Let the feed catch up (at most 15 s), then end the subscriptions.
  const int64_t expected = awarded.load() * subscribers;
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  while (delivered.load() < expected && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const absl::Duration receiving = absl::Now() - start;
  for (auto& ctx : contexts) ctx->TryCancel();
  for (auto& t : readers) t.join();

  Result r;
  r.subscribers = subscribers;
  r.awards_per_second = awarded.load() / absl::ToDoubleSeconds(posting);
  r.expected = expected;
  r.delivered = delivered.load();
  r.delivered_per_second = r.delivered / absl::ToDoubleSeconds(receiving);
  r.p50_ms = Percentile(lags_ms, 0.50);
  r.p99_ms = Percentile(lags_ms, 0.99);
  r.max_ms = lags_ms.empty() ? 0 : *std::max_element(lags_ms.begin(), lags_ms.end());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Settings s;
  cp::config::ConfigParser parser("events_bench",
                                  "the event feed through the gateway while awards run");
  parser.AddInt("awards_per_second", "awards posted per second", &s.awards_per_second, 1, 100000);
  parser.AddInt("seconds", "seconds of awards per run", &s.seconds, 1, 600);
  parser.AddInt("port_base", "the suite's ports (scripts/suite-lib.sh)", &s.port_base, 1024, 60000);
  if (int code = ParseSettings(parser, argc, argv); code >= 0) return code;

  const std::string run_dir = std::string(CP_BUILD_DIR) + "/bench-run/events-suite";
  absl::StatusOr<cp::fault::SuiteControl> suite =
      cp::fault::SuiteControl::StartForLoad(run_dir, static_cast<int>(s.port_base), CP_BUILD_DIR);
  if (!suite.ok()) {
    std::cerr << suite.status() << "\n";
    return 1;
  }
  // The services trust the suite's development key (CP_JWKS_FILE): a token of the internal
  // service role for posting awards to the ledger directly, as activity's relay does.
  const std::string internal =
      Output(absl::StrCat(CP_BUILD_DIR, "/tools/devtoken/cp_devtoken sign ", run_dir,
                          "/keys --subject=events-bench --role=ROLE_INTERNAL_SERVICE --ttl=1h"));
  auto identity = cp::identity::v1::IdentityService::NewStub(
      grpc::CreateChannel(suite->gateway_addr(), grpc::InsecureChannelCredentials()));
  cp::identity::v1::LoginRequest login;
  login.set_phone(suite->admin_phone());
  login.set_password(suite->admin_password());
  cp::identity::v1::LoginResponse logged_in;
  grpc::ClientContext login_ctx;
  grpc::Status login_status = identity->Login(&login_ctx, login, &logged_in);
  if (internal.empty() || !login_status.ok()) {
    std::cerr << "setup failed: "
              << (internal.empty() ? "cp_devtoken" : login_status.error_message()) << "\n";
    suite->Stop();
    return 1;
  }
  const std::string admin = logged_in.tokens().access_token();
  const std::string ledger = absl::StrCat("127.0.0.1:", s.port_base + 3);

  std::cout << MachineLine() << "\n";
  std::vector<Result> results;
  int run = 0;
  for (int subscribers : {1, 50}) {
    Result r = RunWith(subscribers, s, suite->gateway_addr(), ledger, admin, internal, run++);
    std::cout << absl::StrFormat(
        "%2d subscriber(s): awards %.0f/s (anchor); events delivered %.0f/s in all, %.0f/s each; "
        "%d of %d arrived; lag p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
        r.subscribers, r.awards_per_second, r.delivered_per_second,
        r.delivered_per_second / r.subscribers, r.delivered, r.expected, r.p50_ms, r.p99_ms,
        r.max_ms);
    results.push_back(r);
  }
  suite->Stop();
  std::cout << "{";
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    std::cout << absl::StrFormat(
        "%s\"subscribers_%d\":{\"awards_per_second\":%.1f,\"delivered_per_second\":%.1f,"
        "\"expected\":%d,\"delivered\":%d,\"lag_p50_ms\":%.2f,\"lag_p99_ms\":%.2f,"
        "\"lag_max_ms\":%.2f}",
        i == 0 ? "" : ",", r.subscribers, r.awards_per_second, r.delivered_per_second, r.expected,
        r.delivered, r.p50_ms, r.p99_ms, r.max_ms);
  }
  std::cout << "}\n";
  return 0;
}
