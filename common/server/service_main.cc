#include "common/server/service_main.h"

#include <grpcpp/grpcpp.h>

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/config/config_parser.h"
#include "common/log/log.h"
#include "common/pg/migrations.h"
#include "common/pg/pg_pool.h"
#include "common/redis/redis_client.h"
#include "common/server/identity_keys.h"
#include "common/server/identity_revocations.h"
#include "common/server/service_token.h"
#include "common/server/signals.h"

namespace civicpoints::server {
namespace {

constexpr int kExitBadConfig = 2;
constexpr int kExitStartFailed = 1;

void RegisterSettings(const ServiceSpec& spec, config::ConfigParser& parser, ServiceConfig& cfg) {
  cfg.grpc_port = spec.default_grpc_port;
  cfg.metrics_port = spec.default_metrics_port;
  cfg.identity_addr = spec.default_identity_addr;
  parser.AddString("listen_host", "address to listen on (0.0.0.0 in containers)", &cfg.listen_host);
  parser.AddPort("grpc_port", "gRPC port (0 picks a free one)", &cfg.grpc_port);
  parser.AddPort("metrics_port", "Prometheus /metrics port (0 disables)", &cfg.metrics_port);
  if (spec.uses_postgres) {
    parser.AddSecret("pg_url",
                     "PostgreSQL connection URI, e.g. postgresql://cp@127.0.0.1:5432/civicpoints",
                     &cfg.pg_url, /*required=*/true);
    parser.AddInt("pg_pool_size", "PostgreSQL connections in the pool", &cfg.pg_pool_size, 1, 256);
    parser.AddDuration("db_connect_timeout", "how long to retry an unreachable database at start",
                       &cfg.db_connect_timeout, absl::ZeroDuration(), absl::Minutes(10));
    parser.AddBool("migrate_only", "apply migrations and exit", &cfg.migrate_only);
  }
  if (spec.uses_redis) {
    parser.AddString("redis_addr", "Redis host:port", &cfg.redis_addr);
    parser.AddInt("redis_pool_size", "Redis connections in the pool", &cfg.redis_pool_size, 1, 256);
  }
  parser.AddInt("max_request_threads",
                "threads that may serve calls at once; a call beyond them is answered "
                "RESOURCE_EXHAUSTED",
                &cfg.max_request_threads, 8, 4096);
  parser.AddDuration("shutdown_grace", "time in-flight calls get to finish after SIGTERM",
                     &cfg.shutdown_grace, absl::ZeroDuration(), absl::Minutes(5));
  parser.AddString("log_level", "debug, info, warn or error", &cfg.log_level);
  parser.AddString("jwks_file", "JWKS file with the Ed25519 keys that verify access tokens",
                   &cfg.jwks_file);
  if (!spec.own_keys) {
    parser.AddString("identity_addr",
                     "identity's gRPC host:port, whose published keys verify access tokens "
                     "(fetched at start, every 5 minutes and on an unknown key id)",
                     &cfg.identity_addr);
    parser.AddDuration("revocation_poll",
                       "how often identity's list of revoked tokens is fetched (a signed-out "
                       "session or a revoked role is refused here within about this long)",
                       &cfg.revocation_poll, absl::Milliseconds(100), absl::Minutes(1));
  }
  if ((spec.calls_services || spec.publishes_events) && !spec.own_service_token) {
    // Required to serve, checked after parsing: a --migrate_only run needs neither.
    parser.AddString("service_api_key_file",
                     spec.calls_services
                         ? "file holding this service's API key (an internal service account's), "
                           "exchanged with identity for the token it calls other services with "
                           "(required unless --migrate_only)"
                         : "file holding this service's API key (an internal service account's), "
                           "exchanged with identity for the token it publishes events with "
                           "(required with events_addr)",
                     &cfg.service_api_key_file);
  }
  if (spec.publishes_events) {
    parser.AddString("events_addr",
                     "the events service's gRPC host:port, where this service's domain events are "
                     "published (empty: they wait in the outbox until one is set)",
                     &cfg.events_addr);
  }
}

absl::StatusOr<auth::KeySet> LoadKeys(const std::string& path) {
  if (path.empty()) return auth::KeySet();
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(
        absl::StrCat("setting --jwks_file (CP_JWKS_FILE): cannot read '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<auth::KeySet> keys = auth::KeySet::FromJwks(text.str());
  if (!keys.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("setting --jwks_file (CP_JWKS_FILE): '", path,
                                                   "': ", keys.status().message()));
  }
  return keys;
}

int Fail(int code, absl::string_view what, const absl::Status& status) {
  log::Error(what, {{"error", std::string(status.message())},
                    {"code", absl::StatusCodeToString(status.code())}});
  return code;
}

}  // namespace

int RunService(const ServiceSpec& spec, int argc, char** argv, const ServiceFactory& factory) {
  BlockTerminationSignals();
  // A peer that closes a socket mid-write (Redis restarting) must give an error, not kill us.
  signal(SIGPIPE, SIG_IGN);
  // Each PostgreSQL connection attempt gives up after 5 s, so retries keep to db_connect_timeout
  // even when packets are dropped rather than refused.
  setenv("PGCONNECT_TIMEOUT", "5", /*overwrite=*/0);
  log::Init(spec.name, log::Level::kInfo);

  // Signals are taken by one thread from the start: during start-up (waiting for a database,
  // migrating) a stop request ends the process at once; once serving, it starts a drain.
  // Shared with the detached signal thread for the life of the process, so never freed; held by
  // a static so the leak checker sees it reachable.
  struct StopState {
    std::atomic<bool> serving{false};
    std::atomic<int> signal{0};
    absl::Notification requested;
  };
  static StopState* const stop = new StopState;
  std::thread signal_thread([] {
    const int signal = WaitForTerminationSignal();
    stop->signal = signal;
    if (!stop->serving.load()) {
      log::Info("stopped during start-up", {{"signal", signal}});
      std::_Exit(0);
    }
    stop->requested.Notify();
  });
  signal_thread.detach();

  ServiceConfig cfg;
  config::ConfigParser parser("civicpoints-" + spec.name, spec.description);
  RegisterSettings(spec, parser, cfg);
  if (spec.extra_settings) spec.extra_settings(parser);
  if (absl::Status s = parser.Parse(argc, argv, config::ProcessEnvironment()); !s.ok()) {
    return Fail(kExitBadConfig, "bad setting", s);
  }
  if (parser.help_requested()) {
    std::cout << parser.Usage();
    return 0;
  }
  // A misspelt variable would otherwise leave its setting at the default without a word.
  for (const auto& [var, hint] : parser.UnknownVariables(config::ProcessVariableNames("CP_"))) {
    log::Warn("environment variable names no setting of this binary and is ignored",
              {{"variable", var}, {"did_you_mean", hint}});
  }
  log::Level level;
  if (!log::ParseLevel(cfg.log_level, &level)) {
    return Fail(kExitBadConfig, "bad setting",
                absl::InvalidArgumentError(
                    absl::StrCat("setting --log_level (CP_LOG_LEVEL): '", cfg.log_level,
                                 "' is not one of debug, info, warn, error")));
  }
  log::Init(spec.name, level);
  absl::StatusOr<auth::KeySet> keys = LoadKeys(cfg.jwks_file);
  if (!keys.ok()) return Fail(kExitBadConfig, "bad setting", keys.status());
  {
    std::string effective;
    for (const auto& [name, value] : parser.Effective())
      absl::StrAppend(&effective, name, "=", value, " ");
    log::Info("starting", {{"settings", effective}});
  }

  ServiceDeps deps;
  deps.config = &cfg;
  std::unique_ptr<pg::PgPool> pool;
  if (spec.uses_postgres) {
    absl::StatusOr<std::unique_ptr<pg::PgPool>> connected =
        pg::PgPool::Connect({.url = cfg.pg_url,
                             .schema = spec.name,
                             .pool_size = static_cast<int>(cfg.pg_pool_size),
                             .connect_timeout = cfg.db_connect_timeout});
    if (!connected.ok()) {
      const int code = connected.status().code() == absl::StatusCode::kInvalidArgument
                           ? kExitBadConfig
                           : kExitStartFailed;
      return Fail(code, "cannot connect to PostgreSQL", connected.status());
    }
    pool = *std::move(connected);
    absl::StatusOr<std::vector<pg::Migration>> migrations = pg::MigrationsFromFiles(
        spec.migrations ? spec.migrations() : std::vector<std::pair<std::string, std::string>>{});
    if (!migrations.ok()) return Fail(kExitStartFailed, "bad migration files", migrations.status());
    absl::StatusOr<pg::MigrationReport> report;
    absl::Status run = pool->WithConnection("apply migrations", [&](pqxx::connection_base& conn) {
      report = pg::ApplyMigrations(conn, spec.name, *migrations, spec.sql_enums);
      return report.status();
    });
    if (!run.ok()) return Fail(kExitStartFailed, "migrations failed", run);
    log::Info("schema up to date", {{"schema", spec.name},
                                    {"applied", report->applied},
                                    {"already_applied", report->already_applied}});
    if (cfg.migrate_only) return 0;
    deps.pg = pool.get();
  }

  std::unique_ptr<redis::RedisClient> redis;
  if (spec.uses_redis) {
    redis::RedisOptions options;
    options.pool_size = static_cast<int>(cfg.redis_pool_size);
    if (absl::Status s = redis::ParseRedisAddress(cfg.redis_addr, &options); !s.ok()) {
      return Fail(kExitBadConfig, "bad setting",
                  absl::InvalidArgumentError(
                      absl::StrCat("setting --redis_addr (CP_REDIS_ADDR): ", s.message())));
    }
    options.startup_timeout = cfg.db_connect_timeout;
    absl::StatusOr<std::unique_ptr<redis::RedisClient>> connected =
        redis::RedisClient::Connect(options);
    if (!connected.ok())
      return Fail(kExitStartFailed, "cannot connect to Redis", connected.status());
    redis = *std::move(connected);
    deps.redis = redis.get();
  }

  std::shared_ptr<auth::KeyProvider> key_provider;
  if (spec.own_keys) {
    absl::StatusOr<std::shared_ptr<auth::KeyProvider>> own = spec.own_keys(deps);
    if (!own.ok()) {
      // A setting the keys need (identity's master key file) is missing or unreadable: exit 2.
      return own.status().code() == absl::StatusCode::kInvalidArgument
                 ? Fail(kExitBadConfig, "bad setting", own.status())
                 : Fail(kExitStartFailed, "cannot load token keys", own.status());
    }
    key_provider = *std::move(own);
  } else {
    key_provider = std::make_shared<auth::StaticKeyProvider>(*std::move(keys));
    if (!cfg.identity_addr.empty()) {
      auto remote = std::make_shared<IdentityKeyProvider>(cfg.identity_addr, key_provider);
      // Identity may start after us: a failed first fetch is retried on the first token.
      if (absl::Status s = remote->Refresh(); !s.ok()) {
        log::Warn("identity's keys not fetched yet; will retry on the first token",
                  {{"identity_addr", cfg.identity_addr}, {"error", std::string(s.message())}});
      }
      key_provider = std::move(remote);
    }
  }
  std::unique_ptr<ServiceToken> service_token;
  if (spec.own_service_token) {
    service_token = spec.own_service_token(deps);
    deps.service_token = service_token.get();
  } else if (spec.calls_services || (spec.publishes_events && !cfg.events_addr.empty())) {
    for (const auto& [value, name] :
         {std::pair{&cfg.identity_addr, "identity_addr"},
          std::pair{&cfg.service_api_key_file, "service_api_key_file"}}) {
      if (value->empty()) {
        return Fail(
            kExitBadConfig, "bad setting",
            absl::InvalidArgumentError(absl::StrCat(
                "setting --", name, " (CP_", absl::AsciiStrToUpper(name),
                ") is required: this service ",
                spec.calls_services ? "calls the others" : "publishes events to events_addr")));
      }
    }
    absl::StatusOr<std::string> api_key = ReadApiKeyFile(cfg.service_api_key_file);
    if (!api_key.ok()) {
      return Fail(kExitBadConfig, "bad setting",
                  absl::InvalidArgumentError(
                      absl::StrCat("setting --service_api_key_file (CP_SERVICE_API_KEY_FILE): ",
                                   api_key.status().message())));
    }
    service_token = std::make_unique<ApiKeyServiceToken>(cfg.identity_addr, *std::move(api_key));
    deps.service_token = service_token.get();
  }
  // Revoked tokens: identity knows them itself; every other process polls identity's list.
  std::shared_ptr<const auth::RevocationChecker> revocations;
  if (spec.own_revocations) {
    revocations = spec.own_revocations(deps);
  } else if (!cfg.identity_addr.empty()) {
    revocations = std::make_shared<IdentityRevocations>(cfg.identity_addr, cfg.revocation_poll);
  }
  auto verifier = std::make_shared<const auth::TokenVerifier>(std::move(key_provider));
  auth::Authorizer authorizer(verifier, revocations);
  deps.authorizer = &authorizer;

  absl::StatusOr<std::vector<BuiltService>> built = factory(deps);
  if (!built.ok()) return Fail(kExitStartFailed, "cannot build services", built.status());
  std::vector<HostedService> hosted;
  for (BuiltService& b : *built) {
    if (b.service != nullptr) hosted.push_back({b.name, b.service.get()});
  }

  absl::StatusOr<std::unique_ptr<ServiceHost>> host =
      ServiceHost::Start({.service_name = spec.name,
                          .host = cfg.listen_host,
                          .grpc_port = cfg.grpc_port,
                          .metrics_port = cfg.metrics_port,
                          .max_threads = static_cast<int>(cfg.max_request_threads),
                          .generic_service = deps.generic_service,
                          .reflected_services = deps.reflected_services,
                          .log_calls = deps.generic_service == nullptr},
                         hosted);
  if (!host.ok()) return Fail(kExitStartFailed, "cannot start server", host.status());
  std::function<void()> stop_extra;
  if (spec.after_start) {
    absl::StatusOr<std::function<void()>> started = spec.after_start(deps, **host);
    if (!started.ok()) return Fail(kExitStartFailed, "cannot start server", started.status());
    stop_extra = *std::move(started);
  }
  stop->serving = true;

  stop->requested.WaitForNotification();
  log::Info("stopping", {{"signal", stop->signal.load()},
                         {"grace_ms", absl::ToInt64Milliseconds(cfg.shutdown_grace)}});
  // A handler that ignores cancellation must not keep the process past its grace.
  std::thread([grace = cfg.shutdown_grace] {
    absl::SleepFor(grace + absl::Seconds(1));
    log::Warn("calls did not finish after cancellation; exiting anyway");
    std::_Exit(0);
  }).detach();
  if (stop_extra) stop_extra();
  (*host)->Shutdown(cfg.shutdown_grace);
  log::Info("stopped");
  return 0;
}

}  // namespace civicpoints::server
