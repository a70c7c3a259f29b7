// civicpoints-gateway: the one door from outside — gRPC for city systems, REST/JSON for apps and
// dashboards — authenticating, authorizing by each method's declared policy, rate limiting and
// forwarding to identity, activity, ledger, rewards and the event feed. Wiring only (see
// gateway.h).
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/jwt.h"
#include "common/auth/method_policy.h"
#include "common/config/config_parser.h"
#include "common/log/log.h"
#include "common/server/identity_revocations.h"
#include "common/server/peer_channel.h"
#include "common/server/service_main.h"
#include "services/gateway/gateway.h"
#include "services/gateway/static_site.h"

namespace {

using namespace civicpoints;

struct GatewayFlags {
  int http_port = 8080;
  std::string activity_addr = "127.0.0.1:50052";
  std::string ledger_addr = "127.0.0.1:50053";
  std::string rewards_addr = "127.0.0.1:50054";
  std::string events_addr = "127.0.0.1:50055";
  absl::Duration backend_timeout = absl::Seconds(10);
  int64_t rate_per_principal = 50;
  int64_t burst_per_principal = 100;
  int64_t rate_per_address = 5;
  int64_t burst_per_address = 20;
  int64_t max_body_bytes = 1024 * 1024;
  int64_t http_io_threads = 0;
  int64_t http_max_connections = 10000;
  absl::Duration http_request_timeout = absl::Seconds(10);
  absl::Duration http_idle_timeout = absl::Seconds(30);
  int64_t http_max_requests_per_connection = 1000;
  std::string cors_origins;
  std::string dashboard_dir;
  std::string trusted_proxies;
  bool dev_mode = false;
};
GatewayFlags g_settings;
constexpr absl::Duration kLongPollTimeout = absl::Seconds(35);

// What the gateway uses (BuiltService::parts), filled by the start's hooks in the order they run:
// own_revocations, the factory, after_start. The gateway is declared last, so it goes first.
struct GatewayParts {
  std::shared_ptr<const auth::RevocationChecker> revocations;
  std::shared_ptr<gateway::TokenKeys> keys;
  std::unique_ptr<auth::Authorizer> authorizer;
  std::unique_ptr<gateway::Gateway> gateway;
};
std::shared_ptr<GatewayParts> g_parts = std::make_shared<GatewayParts>();

// The JWKS file's keys (RunService has already checked that it reads and parses).
absl::StatusOr<auth::KeySet> FileKeys(const std::string& path) {
  if (path.empty()) return auth::KeySet();
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return auth::KeySet::FromJwks(text.str());
}

void Settings(config::ConfigParser& p) {
  p.AddPort("http_port", "REST/JSON port (0 picks a free one)", &g_settings.http_port);
  p.AddString("activity_addr", "activity's gRPC host:port", &g_settings.activity_addr);
  p.AddString("ledger_addr", "ledger's gRPC host:port", &g_settings.ledger_addr);
  p.AddString("rewards_addr", "rewards' gRPC host:port", &g_settings.rewards_addr);
  p.AddString("events_addr", "the event feed's gRPC host:port", &g_settings.events_addr);
  p.AddDuration("backend_timeout",
                "longest a forwarded call may take (the caller's deadline "
                "applies when shorter)",
                &g_settings.backend_timeout, absl::Milliseconds(10), absl::Minutes(10));
  p.AddInt("rate_per_principal", "calls per second a principal may make (token bucket refill)",
           &g_settings.rate_per_principal, 1, 1000000);
  p.AddInt("burst_per_principal", "calls a principal may make at once (token bucket size)",
           &g_settings.burst_per_principal, 1, 1000000);
  p.AddInt("rate_per_address",
           "calls per second from one client address without credentials (login, register)",
           &g_settings.rate_per_address, 1, 1000000);
  p.AddInt("burst_per_address", "calls at once from one client address without credentials",
           &g_settings.burst_per_address, 1, 1000000);
  p.AddInt("max_body_bytes", "largest REST request body (413 beyond)", &g_settings.max_body_bytes,
           1024, 64 * 1024 * 1024);
  p.AddInt("http_io_threads", "threads serving REST connections (0: one per core)",
           &g_settings.http_io_threads, 0, 256);
  p.AddInt("http_max_connections",
           "open REST connections at most; a connection beyond is answered 503 and closed",
           &g_settings.http_max_connections, 1, 1000000);
  p.AddDuration("http_request_timeout",
                "longest a REST request (header and body) may take to arrive (408 beyond)",
                &g_settings.http_request_timeout, absl::Milliseconds(100), absl::Minutes(10));
  p.AddDuration("http_idle_timeout", "longest a keep-alive REST connection may wait idle",
                &g_settings.http_idle_timeout, absl::Milliseconds(100), absl::Hours(1));
  p.AddInt("http_max_requests_per_connection",
           "requests one keep-alive REST connection may carry before it is closed",
           &g_settings.http_max_requests_per_connection, 1, 1000000);
  p.AddString("cors_origins",
              "browser origins whose pages may call the REST face, comma-separated (e.g. "
              "https://dashboard.example.cn), or * for any; empty: none",
              &g_settings.cors_origins);
  p.AddString("dashboard_dir",
              "directory of the district dashboard's files (build/dashboard), served at "
              "/dashboard/ on the REST port; empty: no dashboard",
              &g_settings.dashboard_dir);
  p.AddString("trusted_proxies",
              "proxies (comma-separated CIDRs, IPv4 or IPv6, e.g. 10.0.0.0/8) whose "
              "X-Forwarded-For / Forwarded name the caller for rate limits and x-client-address; "
              "empty: none, the TCP peer is the caller",
              &g_settings.trusted_proxies);
  p.AddBool("dev_mode",
            "development mode: accept the development signing keys of jwks_file (refused "
            "otherwise); never in production",
            &g_settings.dev_mode);
}

// Identity's revocation list, polled in the background as for every service, and shared with the
// gateway's own Authorizer (Build).
std::shared_ptr<const auth::RevocationChecker> Revocations(server::ServiceDeps& deps) {
  if (deps.config->identity_addr.empty()) return nullptr;
  g_parts->revocations = std::make_shared<server::IdentityRevocations>(
      deps.config->identity_addr, deps.config->revocation_poll);
  return g_parts->revocations;
}

absl::StatusOr<std::vector<server::BuiltService>> Build(server::ServiceDeps& deps) {
  // Whoever holds a development key could sign any token: the public door takes them only in
  // development.
  if (!deps.config->jwks_file.empty()) {
    if (!g_settings.dev_mode) {
      return absl::InvalidArgumentError(
          "setting --jwks_file (CP_JWKS_FILE) names development signing keys, which the gateway "
          "refuses unless started with --dev_mode=true (CP_DEV_MODE)");
    }
    log::Warn(
        "DEVELOPMENT MODE: tokens signed by the development keys of jwks_file are "
        "accepted; never run this way in production",
        {{"jwks_file", deps.config->jwks_file}});
  }
  absl::StatusOr<gateway::TrustedProxies> proxies =
      gateway::TrustedProxies::Parse(g_settings.trusted_proxies);
  if (!proxies.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "setting --trusted_proxies (CP_TRUSTED_PROXIES): ", proxies.status().message()));
  }
  // The gateway's own verifier: its keys never make a caller's thread wait on identity.
  absl::StatusOr<auth::KeySet> file_keys = FileKeys(deps.config->jwks_file);
  if (!file_keys.ok()) return file_keys.status();
  GatewayParts& parts = *g_parts;
  parts.keys = std::make_shared<gateway::TokenKeys>(
      *std::move(file_keys), deps.config->identity_addr.empty()
                                 ? nullptr
                                 : server::PeerChannel(deps.config->identity_addr));
  parts.authorizer =
      std::make_unique<auth::Authorizer>(std::make_shared<const auth::TokenVerifier>(parts.keys));
  const absl::Duration timeout = g_settings.backend_timeout;
  gateway::GatewaySettings settings;
  settings.trusted_proxies = *std::move(proxies);
  settings.backends = {{"identity", {deps.config->identity_addr, timeout}},
                       {"activity", {g_settings.activity_addr, timeout}},
                       {"ledger", {g_settings.ledger_addr, timeout}},
                       {"rewards", {g_settings.rewards_addr, timeout}},
                       // ListEvents waits up to 30 s for an event (a long poll).
                       {"events", {g_settings.events_addr, std::max(timeout, kLongPollTimeout)}}};
  settings.per_principal = {.per_second = static_cast<double>(g_settings.rate_per_principal),
                            .burst = static_cast<double>(g_settings.burst_per_principal)};
  settings.per_address = {.per_second = static_cast<double>(g_settings.rate_per_address),
                          .burst = static_cast<double>(g_settings.burst_per_address)};
  // Access lines are info lines: skip building them when the level hides them.
  settings.access_log = deps.config->log_level == "info" || deps.config->log_level == "debug";
  absl::StatusOr<std::unique_ptr<gateway::Gateway>> gw =
      gateway::Gateway::Create(settings, parts.authorizer.get(), parts.keys.get());
  if (!gw.ok()) return gw.status();
  parts.gateway = *std::move(gw);
  // No service of its own: every method goes to the generic face.
  deps.generic_service = parts.gateway->grpc_face();
  deps.reflected_services = parts.gateway->routes().services();
  std::vector<server::BuiltService> built;
  built.push_back({.name = "", .parts = g_parts, .service = nullptr});
  return built;
}

absl::StatusOr<std::function<void()>> StartRest(server::ServiceDeps& deps,
                                                server::ServiceHost& host) {
  std::shared_ptr<const gateway::StaticSite> site;
  if (!g_settings.dashboard_dir.empty()) {
    absl::StatusOr<std::unique_ptr<gateway::StaticSite>> loaded =
        gateway::StaticSite::Load(g_settings.dashboard_dir, "/dashboard");
    if (!loaded.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("setting --dashboard_dir (CP_DASHBOARD_DIR): ", loaded.status().message()));
    }
    site = *std::move(loaded);
  }
  absl::Status s = g_parts->gateway->StartRest(
      {.host = deps.config->listen_host,
       .port = g_settings.http_port,
       .max_body_bytes = static_cast<size_t>(g_settings.max_body_bytes),
       .io_threads = static_cast<int>(g_settings.http_io_threads),
       .max_connections = static_cast<int>(g_settings.http_max_connections),
       .request_timeout = g_settings.http_request_timeout,
       .idle_timeout = g_settings.http_idle_timeout,
       .max_requests_per_connection = static_cast<int>(g_settings.http_max_requests_per_connection),
       .cors_origins = absl::StrSplit(g_settings.cors_origins, ',', absl::SkipWhitespace()),
       .site = std::move(site)},
      &host.metrics().registry());
  if (!s.ok()) return s;
  return std::function<void()>([] { g_parts->gateway->StopRest(); });
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built with its debug checks: every mutex a call creates and destroys
  // (one per forwarded gRPC call) would otherwise pass through the deadlock detector's graph,
  // a few per cent of the gateway's CPU on the hot path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return server::RunService(
      {.name = "gateway",
       .description = "API gateway for city systems (gRPC) and apps and dashboards (REST/JSON)",
       .default_grpc_port = 50050,
       .default_metrics_port = 9150,
       .extra_settings = &Settings,
       .own_revocations = &Revocations,
       .default_identity_addr = "127.0.0.1:50051",
       .after_start = &StartRest},
      argc, argv, &Build);
}
