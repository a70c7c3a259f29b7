// The one `main` every Civic Points service runs: settings from flags and CP_* variables, JSON
// logs, PostgreSQL pool and migrations, Redis, token verification keys, the gRPC host, and a clean
// stop on SIGTERM. A service's own main.cc names its parts and hands over:
//
//   int main(int argc, char** argv) {
//     return civicpoints::server::RunService(kLedgerSpec, argc, argv, &MakeLedgerServices);
//   }
//
// Exit codes: 0 after a clean stop (or --help, or --migrate_only); 2 for a bad setting; 1 when a
// dependency is unreachable, a migration fails or a port cannot be bound. Every failure is logged
// with a message that names its cause.
#ifndef CIVICPOINTS_COMMON_SERVER_SERVICE_MAIN_H_
#define CIVICPOINTS_COMMON_SERVER_SERVICE_MAIN_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/impl/codegen/service_type.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/method_policy.h"
#include "common/pg/sql_enums.h"
#include "common/server/service_host.h"

namespace grpc {
class CallbackGenericService;
}
namespace civicpoints::pg {
class PgPool;
}
namespace civicpoints::config {
class ConfigParser;
}
namespace civicpoints::redis {
class RedisClient;
}

namespace civicpoints::server {

// The settings every service takes (see RegisterCommonSettings for names and defaults).
struct ServiceConfig {
  std::string listen_host = "127.0.0.1";
  int grpc_port = 0;
  int metrics_port = 0;
  std::string pg_url;
  int64_t pg_pool_size = 8;
  absl::Duration db_connect_timeout = absl::Seconds(30);
  std::string redis_addr = "127.0.0.1:6379";
  int64_t redis_pool_size = 16;
  absl::Duration shutdown_grace = absl::Seconds(3);
  std::string log_level = "info";
  std::string jwks_file;
  std::string identity_addr;
  std::string service_api_key_file;
  std::string events_addr;  // where a service that records events publishes them (empty: nowhere)
  bool migrate_only = false;
  int64_t max_request_threads = 256;
  absl::Duration revocation_poll = absl::Seconds(3);
};

struct ServiceDeps;
class ServiceToken;

struct ServiceSpec {
  std::string name;         // "ledger": log and metric label, PostgreSQL schema
  std::string description;  // one line for --help
  int default_grpc_port = 0;
  int default_metrics_port = 0;
  bool uses_postgres = false;
  bool uses_redis = false;
  // True for a service that calls others of the suite: it then needs identity_addr and an API
  // key of an internal service account (service_api_key_file), and gets deps.service_token.
  bool calls_services = false;
  // True for a service that records domain events (common/events/outbox.h): it takes
  // --events_addr, and its main starts the relay (StartEventRelay), which publishes with
  // deps.service_token (so an API key is required once events_addr is set).
  bool publishes_events = false;
  // The service's embedded migrations as (file name, SQL) pairs.
  std::function<std::vector<std::pair<std::string, std::string>>()> migrations;
  // The proto enums its SQL names values of (common/pg/sql_enums.h).
  pg::SqlEnums sql_enums;
  // Registers the service's own settings beside the common ones (checked the same way).
  std::function<void(config::ConfigParser&)> extra_settings;
  // For the service that keeps the token-signing keys itself (identity): where the keys that
  // verify access tokens come from, called once storage is up. Unset: --jwks_file.
  std::function<absl::StatusOr<std::shared_ptr<auth::KeyProvider>>(ServiceDeps&)> own_keys;
  // For the service that issues tokens (identity): its own token for the calls it makes itself,
  // instead of exchanging an API key (deps.service_token; called after own_keys).
  std::function<std::unique_ptr<ServiceToken>(ServiceDeps&)> own_service_token;
  // For identity: what tells its Authorizer which tokens are revoked, called once storage is up.
  // Unset: identity's ListRevocations at identity_addr, polled every revocation_poll.
  std::function<std::shared_ptr<const auth::RevocationChecker>(ServiceDeps&)> own_revocations;
  // Default of --identity_addr (empty: none), for a process that always needs identity.
  std::string default_identity_addr;
  // For a process serving more than its gRPC services (the gateway's HTTP port): runs once the
  // gRPC server is up; returns what to call on SIGTERM, before the gRPC server drains. Errors
  // abort the start (exit 1).
  std::function<absl::StatusOr<std::function<void()>>(ServiceDeps&, ServiceHost&)> after_start;
};

// What a service's factory gets to build its handlers with. Pointers are null for parts the spec
// does not use; all outlive the services.
struct ServiceDeps {
  const ServiceConfig* config = nullptr;
  pg::PgPool* pg = nullptr;
  redis::RedisClient* redis = nullptr;
  const auth::Authorizer* authorizer = nullptr;
  ServiceToken* service_token = nullptr;  // set when spec.calls_services
  // The factory may set a generic service: it then answers every method no hosted service has,
  // and writes its own access-log lines (the host's call interceptor keeps request ids and
  // metrics only).
  grpc::CallbackGenericService* generic_service = nullptr;
  // The services generic_service answers, for reflection to list and describe.
  std::vector<std::string> reflected_services;
};

// Builds the gRPC services to host. Errors abort the start (exit 1).
//
// Every main owns what its service uses the same way: one `parts` object (clients of other
// services, the rules and their store, background threads), built by the factory in dependency
// order and handed back here with the service, which is destroyed before them (members go in
// reverse order). Initialise with designators: a unique_ptr would convert to `parts` silently.
struct BuiltService {
  std::string name;             // full service name for health checks
  std::shared_ptr<void> parts;  // what `service` uses; outlives it
  // Null for parts alone, such as the gateway's, which answers through deps.generic_service.
  std::unique_ptr<grpc::Service> service;
};
using ServiceFactory = std::function<absl::StatusOr<std::vector<BuiltService>>(ServiceDeps&)>;

// A factory hosting the generated base class of GeneratedService as it is: every method answers
// UNIMPLEMENTED until the service's own handlers replace it.
template <typename GeneratedService>
ServiceFactory HostUnimplemented() {
  return [](ServiceDeps&) -> absl::StatusOr<std::vector<BuiltService>> {
    std::vector<BuiltService> services;
    services.push_back({.name = GeneratedService::service_full_name(),
                        .service = std::make_unique<typename GeneratedService::Service>()});
    return services;
  };
}

// Runs the service until SIGTERM/SIGINT; returns the process exit code described above.
int RunService(const ServiceSpec& spec, int argc, char** argv, const ServiceFactory& factory);

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_SERVICE_MAIN_H_
