// civicpoints-identity: org tree, people, community check-in, roles, login, API keys.
// Wiring only; the shared runtime (common/server/service_main.h) does settings, storage,
// migrations and the server.
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/server/service_main.h"

std::vector<std::pair<std::string, std::string>> IdentityMigrations();

int main(int argc, char** argv) {
  using civicpoints::identity::v1::IdentityService;
  return civicpoints::server::RunService(
      {.name = "identity",
       .description = "org tree, people, community check-in, roles, login, API keys",
       .default_grpc_port = 50051,
       .default_metrics_port = 9151,
       .uses_postgres = true,
       .uses_redis = false,
       .migrations = &IdentityMigrations},
      argc, argv, civicpoints::server::HostUnimplemented<IdentityService>());
}
