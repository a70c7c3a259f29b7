// civicpoints-rewards: gift catalog, station stock, exchange windows, redemptions.
// Wiring only: ledger and directory clients (with the service token), the event relay, then the
// service and its background pass.
#include <grpcpp/grpcpp.h>

#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "common/config/config_parser.h"
#include "common/events/event_relay.h"
#include "common/server/peer_channel.h"
#include "common/server/service_main.h"
#include "services/rewards/directory.h"
#include "services/rewards/ledger_client.h"
#include "services/rewards/rewards_service.h"
#include "services/rewards/sql_enums.h"

std::vector<std::pair<std::string, std::string>> RewardsMigrations();

namespace {

using namespace civicpoints;

struct RewardsSettings {
  std::string ledger_addr;
  std::string activity_addr = "127.0.0.1:50052";
  absl::Duration pickup_ttl = absl::Hours(24);
  absl::Duration recovery_age = absl::Seconds(60);
  int64_t low_stock_threshold = 5;
};
RewardsSettings g_settings;

// What rewards' service uses, in dependency order (BuiltService::parts).
struct RewardsParts {
  explicit RewardsParts(server::ServiceDeps& deps)
      : ledger(server::PeerChannel(g_settings.ledger_addr), deps.service_token),
        directory(server::PeerChannel(g_settings.activity_addr),
                  server::PeerChannel(deps.config->identity_addr), deps.service_token),
        event_relay(events::StartEventRelay("rewards", deps)) {}
  rewards::LedgerClient ledger;
  rewards::GrpcDirectory directory;
  std::unique_ptr<events::EventRelay> event_relay;  // null without --events_addr
};

}  // namespace

int main(int argc, char** argv) {
  return server::RunService(
      {.name = "rewards",
       .description = "gift catalog, station stock, exchange windows, redemptions",
       .default_grpc_port = 50054,
       .default_metrics_port = 9154,
       .uses_postgres = true,
       .uses_redis = false,
       .calls_services = true,
       .publishes_events = true,
       .migrations = &RewardsMigrations,
       .sql_enums = rewards::RewardsSqlEnums(),
       .extra_settings =
           [](config::ConfigParser& parser) {
             // Checked when the service starts rather than by the parser, so the migration
             // job (--migrate_only) need not name the ledger.
             parser.AddString("ledger_addr",
                              "host:port of the ledger (holds, captures and releases of points); "
                              "required to serve",
                              &g_settings.ledger_addr);
             parser.AddString("activity_addr",
                              "host:port of activity (which places are rider stations)",
                              &g_settings.activity_addr);
             parser.AddDuration("rewards_pickup_ttl",
                                "how long a READY order waits for pickup in windows that do not "
                                "set their own pickup_ttl",
                                &g_settings.pickup_ttl, absl::Minutes(10), absl::Hours(24 * 7));
             parser.AddDuration("rewards_recovery_age",
                                "age after which the recovery pass takes over an order left "
                                "half-way (longer than any call's deadline)",
                                &g_settings.recovery_age, absl::Seconds(30), absl::Hours(1));
             parser.AddInt("rewards_low_stock_threshold",
                           "announce stock_low when an order takes a station's gift to this many "
                           "available or fewer (0: never)",
                           &g_settings.low_stock_threshold, 0, 1'000'000);
           }},
      argc, argv,
      [](server::ServiceDeps& deps) -> absl::StatusOr<std::vector<server::BuiltService>> {
        if (g_settings.ledger_addr.empty()) {
          return absl::InvalidArgumentError(
              "setting --ledger_addr (CP_LEDGER_ADDR) is required: the ledger's host:port");
        }
        auto parts = std::make_shared<RewardsParts>(deps);
        auto service = std::make_unique<rewards::RewardsServiceImpl>(
            deps.pg, deps.authorizer, &parts->ledger, &parts->directory,
            rewards::RewardsOptions{
                .default_pickup_ttl = g_settings.pickup_ttl,
                .recovery_age = g_settings.recovery_age,
                .low_stock_threshold = static_cast<int>(g_settings.low_stock_threshold)});
        service->StartBackground();
        std::vector<server::BuiltService> services;
        services.push_back({.name = rewards::v1::RewardsService::service_full_name(),
                            .parts = parts,
                            .service = std::move(service)});
        return services;
      });
}
