// A process built on the shared bootstrap that hosts the test service of common/testing/protos,
// so tests can check how any Civic Points process behaves for an operator (stop with a call in
// flight) without depending on a real service's handlers.
#include <grpcpp/grpcpp.h>

#include "common/server/service_main.h"
#include "common/testing/slow_test_service.h"

int main(int argc, char** argv) {
  using civicpoints::server::BuiltService;
  return civicpoints::server::RunService(
      {.name = "testserver", .description = "bootstrap test process"}, argc, argv,
      [](civicpoints::server::ServiceDeps&) -> absl::StatusOr<std::vector<BuiltService>> {
        std::vector<BuiltService> services;
        services.push_back({.name = cptest::v1::TestService::service_full_name(),
                            .service = std::make_unique<civicpoints::testing::SlowTestService>()});
        return services;
      });
}
