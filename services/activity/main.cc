// civicpoints-activity: places, governance posts, activities, service records, points rules.
// Wiring only: the identity directory, the award relay to the ledger, the event relay to the
// feed, then the service.
#include <memory>

#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "common/config/config_parser.h"
#include "common/events/event_relay.h"
#include "common/server/service_main.h"
#include "services/activity/activity_service.h"
#include "services/activity/award_relay.h"
#include "services/activity/directory.h"
#include "services/activity/sql_enums.h"

std::vector<std::pair<std::string, std::string>> ActivityMigrations();

namespace {

using namespace civicpoints;

struct ActivitySettings {
  std::string ledger_addr = "127.0.0.1:50053";
  absl::Duration relay_poll = absl::Seconds(1);
  absl::Duration min_start_lead = absl::Minutes(10);
};
ActivitySettings g_settings;

// What activity's service uses, in dependency order (BuiltService::parts).
struct ActivityParts {
  ActivityParts(server::ServiceDeps& deps, const activity::AwardRelay::Options& relay_options)
      : directory(deps.config->identity_addr, deps.service_token, deps.pg),
        relay(deps.pg, g_settings.ledger_addr, deps.service_token, relay_options),
        event_relay(events::StartEventRelay("activity", deps)) {
    relay.Start();
  }
  activity::IdentityDirectory directory;
  activity::AwardRelay relay;
  std::unique_ptr<events::EventRelay> event_relay;
};

}  // namespace

int main(int argc, char** argv) {
  return server::RunService(
      {.name = "activity",
       .description = "places, governance posts, activities, service records, points rules",
       .default_grpc_port = 50052,
       .default_metrics_port = 9152,
       .uses_postgres = true,
       .uses_redis = false,
       .calls_services = true,
       .publishes_events = true,
       .migrations = &ActivityMigrations,
       .sql_enums = activity::ActivitySqlEnums(),
       .extra_settings =
           [](config::ConfigParser& parser) {
             parser.AddString("ledger_addr",
                              "the ledger's gRPC host:port, where confirmed awards are delivered",
                              &g_settings.ledger_addr);
             parser.AddDuration("activity_relay_poll",
                                "how often the award relay looks for awards due (it is also woken "
                                "by each confirmation)",
                                &g_settings.relay_poll, absl::Milliseconds(10), absl::Minutes(1));
             parser.AddDuration("activity_min_start_lead",
                                "how far ahead of its creation an activity must start, so riders "
                                "can enrol (end-to-end tests shorten it to seconds)",
                                &g_settings.min_start_lead, absl::ZeroDuration(), absl::Hours(24));
           }},
      argc, argv,
      [](server::ServiceDeps& deps) -> absl::StatusOr<std::vector<server::BuiltService>> {
        activity::AwardRelay::Options relay_options;
        relay_options.idle_poll = g_settings.relay_poll;
        auto parts = std::make_shared<ActivityParts>(deps, relay_options);
        std::vector<server::BuiltService> services;
        services.push_back({.name = activity::v1::ActivityService::service_full_name(),
                            .parts = parts,
                            .service = std::make_unique<activity::ActivityServiceImpl>(
                                deps.pg, deps.authorizer, &parts->directory, &parts->relay,
                                g_settings.min_start_lead)});
        return services;
      });
}
