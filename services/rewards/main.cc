// civicpoints-rewards: gift catalog, station stock, exchange windows, redemptions.
// Wiring only; the shared runtime (common/server/service_main.h) does settings, storage,
// migrations and the server.
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "common/server/service_main.h"

std::vector<std::pair<std::string, std::string>> RewardsMigrations();

int main(int argc, char** argv) {
  using civicpoints::rewards::v1::RewardsService;
  return civicpoints::server::RunService(
      {.name = "rewards",
       .description = "gift catalog, station stock, exchange windows, redemptions",
       .default_grpc_port = 50054,
       .default_metrics_port = 9154,
       .uses_postgres = true,
       .uses_redis = false,
       .migrations = &RewardsMigrations},
      argc, argv, civicpoints::server::HostUnimplemented<RewardsService>());
}
