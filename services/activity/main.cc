// civicpoints-activity: places, governance posts, activities, service records, points rules.
// Wiring only; the shared runtime (common/server/service_main.h) does settings, storage,
// migrations and the server.
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "common/server/service_main.h"

std::vector<std::pair<std::string, std::string>> ActivityMigrations();

int main(int argc, char** argv) {
  using civicpoints::activity::v1::ActivityService;
  return civicpoints::server::RunService(
      {.name = "activity",
       .description = "places, governance posts, activities, service records, points rules",
       .default_grpc_port = 50052,
       .default_metrics_port = 9152,
       .uses_postgres = true,
       .uses_redis = false,
       .migrations = &ActivityMigrations},
      argc, argv, civicpoints::server::HostUnimplemented<ActivityService>());
}
