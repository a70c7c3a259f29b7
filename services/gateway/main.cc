// civicpoints-gateway: the one door from outside — gRPC for city systems, REST/JSON for apps and
// dashboards — authenticating, authorizing by each method's declared policy, rate limiting and
// forwarding to identity, activity, ledger and rewards. Wiring only (see gateway.h).
#include "absl/strings/str_split.h"
#include "common/config/config_parser.h"
#include "common/server/service_main.h"
#include "services/gateway/gateway.h"

namespace {

using namespace civicpoints;

struct GatewayFlags {
  int http_port = 8080;
  std::string activity_addr = "127.0.0.1:50052";
  std::string ledger_addr = "127.0.0.1:50053";
  std::string rewards_addr = "127.0.0.1:50054";
  absl::Duration backend_timeout = absl::Seconds(10);
  int64_t rate_per_principal = 50;
  int64_t burst_per_principal = 100;
  int64_t rate_per_address = 5;
  int64_t burst_per_address = 20;
  int64_t max_body_bytes = 1024 * 1024;
  int64_t http_threads = 64;
  std::string cors_origins;
};
GatewayFlags g_flags;
std::unique_ptr<gateway::Gateway> g_gateway;

void Settings(config::ConfigParser& p) {
  p.AddPort("http_port", "REST/JSON port (0 picks a free one)", &g_flags.http_port);
  p.AddString("activity_addr", "activity's gRPC host:port", &g_flags.activity_addr);
  p.AddString("ledger_addr", "ledger's gRPC host:port", &g_flags.ledger_addr);
  p.AddString("rewards_addr", "rewards' gRPC host:port", &g_flags.rewards_addr);
  p.AddDuration("backend_timeout",
                "longest a forwarded call may take (the caller's deadline "
                "applies when shorter)",
                &g_flags.backend_timeout, absl::Milliseconds(10), absl::Minutes(10));
  p.AddInt("rate_per_principal", "calls per second a principal may make (token bucket refill)",
           &g_flags.rate_per_principal, 1, 1000000);
  p.AddInt("burst_per_principal", "calls a principal may make at once (token bucket size)",
           &g_flags.burst_per_principal, 1, 1000000);
  p.AddInt("rate_per_address",
           "calls per second from one client address without credentials (login, register)",
           &g_flags.rate_per_address, 1, 1000000);
  p.AddInt("burst_per_address", "calls at once from one client address without credentials",
           &g_flags.burst_per_address, 1, 1000000);
  p.AddInt("max_body_bytes", "largest REST request body (413 beyond)", &g_flags.max_body_bytes,
           1024, 64 * 1024 * 1024);
  p.AddInt("http_threads", "REST connections served at once", &g_flags.http_threads, 1, 4096);
  p.AddString("cors_origins",
              "browser origins whose pages may call the REST face, comma-separated (e.g. "
              "https://dashboard.example.cn), or * for any; empty: none",
              &g_flags.cors_origins);
}

absl::StatusOr<std::vector<server::BuiltService>> Build(server::ServiceDeps& deps) {
  const absl::Duration timeout = g_flags.backend_timeout;
  gateway::GatewaySettings settings;
  settings.backends = {{"identity", {deps.config->identity_addr, timeout}},
                       {"activity", {g_flags.activity_addr, timeout}},
                       {"ledger", {g_flags.ledger_addr, timeout}},
                       {"rewards", {g_flags.rewards_addr, timeout}}};
  settings.per_principal = {.per_second = static_cast<double>(g_flags.rate_per_principal),
                            .burst = static_cast<double>(g_flags.burst_per_principal)};
  settings.per_address = {.per_second = static_cast<double>(g_flags.rate_per_address),
                          .burst = static_cast<double>(g_flags.burst_per_address)};
  // Access lines are info lines: skip building them when the level hides them.
  settings.access_log = deps.config->log_level == "info" || deps.config->log_level == "debug";
  absl::StatusOr<std::unique_ptr<gateway::Gateway>> gw =
      gateway::Gateway::Create(settings, deps.authorizer);
  if (!gw.ok()) return gw.status();
  g_gateway = *std::move(gw);
  deps.generic_service = g_gateway->grpc_face();
  return std::vector<server::BuiltService>{};
}

absl::StatusOr<std::function<void()>> StartRest(server::ServiceDeps& deps,
                                                server::ServiceHost& host) {
  absl::Status s = g_gateway->StartRest(
      {.host = deps.config->listen_host,
       .port = g_flags.http_port,
       .max_body_bytes = static_cast<size_t>(g_flags.max_body_bytes),
       .threads = static_cast<int>(g_flags.http_threads),
       .cors_origins = absl::StrSplit(g_flags.cors_origins, ',', absl::SkipWhitespace())},
      &host.metrics().registry());
  if (!s.ok()) return s;
  return std::function<void()>([] { g_gateway->StopRest(); });
}

}  // namespace

int main(int argc, char** argv) {
  return server::RunService(
      {.name = "gateway",
       .description = "API gateway for city systems (gRPC) and apps and dashboards (REST/JSON)",
       .default_grpc_port = 50050,
       .default_metrics_port = 9150,
       .extra_settings = &Settings,
       .default_identity_addr = "127.0.0.1:50051",
       .after_start = &StartRest},
      argc, argv, &Build);
}
