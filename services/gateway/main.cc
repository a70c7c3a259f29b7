// civicpoints-gateway: the one door from outside (gRPC for city systems, REST/JSON for apps).
// Today it runs the shared bootstrap only (health, reflection, metrics, clean stop); forwarding,
// authentication and the REST face are the gateway issue's work.
#include "common/server/service_main.h"

int main(int argc, char** argv) {
  return civicpoints::server::RunService(
      {.name = "gateway",
       .description = "API gateway for city systems (gRPC) and apps and dashboards (REST/JSON)",
       .default_grpc_port = 50050,
       .default_metrics_port = 9150},
      argc, argv,
      [](civicpoints::server::ServiceDeps&)
          -> absl::StatusOr<std::vector<civicpoints::server::BuiltService>> {
        return std::vector<civicpoints::server::BuiltService>{};
      });
}
