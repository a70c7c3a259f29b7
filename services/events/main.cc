// civicpoints-events: the suite's read side for consumers. The event feed city systems subscribe
// to (events_service.proto), the dashboards' figures (insights_service.proto), which it gathers
// from the other services with its own service token, and the rider app's screens
// (app_service.proto), gathered with the rider's own token.
// Wiring only: the feed's store, the tail that follows it, org paths from identity, webhooks and
// their dispatcher, the overview's and the home screen's sources, the three services.
#include <memory>

#include "civicpoints/app/v1/app_service.grpc.pb.h"
#include "civicpoints/events/v1/events_service.grpc.pb.h"
#include "civicpoints/insights/v1/insights_service.grpc.pb.h"
#include "common/config/config_parser.h"
#include "common/server/peer_channel.h"
#include "common/server/service_main.h"
#include "services/app/app_service.h"
#include "services/events/events_service.h"
#include "services/events/feed_store.h"
#include "services/events/feed_tail.h"
#include "services/events/sql_enums.h"
#include "services/events/webhook_dispatcher.h"
#include "services/events/webhook_store.h"
#include "services/insights/insights_service.h"

std::vector<std::pair<std::string, std::string>> EventsMigrations();

namespace {

using namespace civicpoints;

struct EventsSettings {
  absl::Duration retention = absl::Hours(24 * 7);
  int64_t max_subscribers = 128;
  int64_t tail_capacity = 20'000;
  bool webhook_allow_loopback = false;
  absl::Duration webhook_first_retry = absl::Seconds(5);
  absl::Duration webhook_give_up_after = absl::Hours(24);
  int64_t webhook_workers = 4;
  std::string activity_addr = "127.0.0.1:50052";
  std::string ledger_addr = "127.0.0.1:50053";
  std::string rewards_addr = "127.0.0.1:50054";
  int64_t small_cell_threshold = 5;
  int64_t max_overviews = 16;
};
EventsSettings g_settings;

// What the events service uses, in dependency order (BuiltService::parts).
struct EventsParts {
  explicit EventsParts(server::ServiceDeps& deps)
      : store(deps.pg),
        tail(&store, {.capacity = static_cast<size_t>(g_settings.tail_capacity),
                      .retention = g_settings.retention}),
        orgs(deps.config->identity_addr),
        webhooks(deps.pg),
        dispatcher(&webhooks, &tail, deps.authorizer->revocations(),
                   {.allow_loopback = g_settings.webhook_allow_loopback},
                   {.workers = static_cast<int>(g_settings.webhook_workers),
                    .first_retry = g_settings.webhook_first_retry,
                    .give_up_after = g_settings.webhook_give_up_after}),
        sources({.identity = server::PeerChannel(deps.config->identity_addr),
                 .activity = server::PeerChannel(g_settings.activity_addr),
                 .ledger = server::PeerChannel(g_settings.ledger_addr),
                 .rewards = server::PeerChannel(g_settings.rewards_addr)},
                deps.service_token),
        home({.identity = server::PeerChannel(deps.config->identity_addr),
              .activity = server::PeerChannel(g_settings.activity_addr),
              .ledger = server::PeerChannel(g_settings.ledger_addr),
              .rewards = server::PeerChannel(g_settings.rewards_addr)}) {}
  events::FeedStore store;
  events::FeedTail tail;
  events::OrgPaths orgs;
  events::WebhookStore webhooks;
  events::WebhookDispatcher dispatcher;  // stopped before the stores it uses
  insights::OverviewSources sources;
  app::HomeSources home;
};

}  // namespace

int main(int argc, char** argv) {
  return server::RunService(
      {.name = "events",
       .description = "the event feed (every service's domain events, resumable by cursor) and "
                      "the dashboards' overviews",
       .default_grpc_port = 50055,
       .default_metrics_port = 9155,
       .uses_postgres = true,
       .uses_redis = false,
       .calls_services = true,  // the overview asks identity, activity, the ledger and rewards
       .migrations = &EventsMigrations,
       .sql_enums = events::EventsSqlEnums(),
       .extra_settings =
           [](config::ConfigParser& parser) {
             parser.AddDuration("events_retention",
                                "how long the feed keeps an event; an older cursor is OUT_OF_RANGE",
                                &g_settings.retention, absl::Minutes(1), absl::Hours(24 * 90));
             parser.AddInt("events_max_subscribers",
                           "streams served at once (each holds a request thread; keep below "
                           "max_request_threads)",
                           &g_settings.max_subscribers, 1, 10'000);
             parser.AddInt("events_tail_capacity", "newest events kept in memory for subscribers",
                           &g_settings.tail_capacity, 100, 1'000'000);
             parser.AddBool("events_webhook_allow_loopback",
                            "let webhooks post to loopback, over http too (development only)",
                            &g_settings.webhook_allow_loopback);
             parser.AddDuration("events_webhook_first_retry",
                                "wait before retrying a failed webhook delivery; doubles to 1 h",
                                &g_settings.webhook_first_retry, absl::Milliseconds(10),
                                absl::Hours(1));
             parser.AddDuration("events_webhook_give_up_after",
                                "how long a webhook may fail before it turns FAILING",
                                &g_settings.webhook_give_up_after, absl::Seconds(1),
                                absl::Hours(24 * 30));
             parser.AddInt("events_webhook_workers", "webhooks delivered to at once",
                           &g_settings.webhook_workers, 1, 64);
             parser.AddString("activity_addr", "activity's gRPC host:port (for overviews)",
                              &g_settings.activity_addr);
             parser.AddString("ledger_addr", "the ledger's gRPC host:port (for overviews)",
                              &g_settings.ledger_addr);
             parser.AddString("rewards_addr", "rewards' gRPC host:port (for overviews)",
                              &g_settings.rewards_addr);
             parser.AddInt("insights_small_cell_threshold",
                           "counts of riders from 1 to this less one are withheld (\"<5\") for "
                           "org viewers; 1 withholds nothing",
                           &g_settings.small_cell_threshold, 1, 100);
             parser.AddInt("insights_max_overviews",
                           "overviews gathered at once (each holds a thread per source call); "
                           "beyond, callers are told to retry in a second",
                           &g_settings.max_overviews, 1, 1000);
           }},
      argc, argv,
      [](server::ServiceDeps& deps) -> absl::StatusOr<std::vector<server::BuiltService>> {
        auto parts = std::make_shared<EventsParts>(deps);
        if (absl::Status s = parts->tail.Start(); !s.ok()) return s;
        parts->dispatcher.Start();
        std::vector<server::BuiltService> services;
        services.push_back(
            {.name = events::v1::EventService::service_full_name(),
             .parts = parts,
             .service = std::make_unique<events::EventServiceImpl>(
                 &parts->store, &parts->tail, deps.authorizer, &parts->orgs, &parts->webhooks,
                 deps.pg,
                 events::EventServiceOptions{
                     .max_subscribers = static_cast<int>(g_settings.max_subscribers),
                     .webhook_urls = {.allow_loopback = g_settings.webhook_allow_loopback}})});
        services.push_back({.name = insights::v1::InsightsService::service_full_name(),
                            .parts = parts,
                            .service = std::make_unique<insights::InsightsServiceImpl>(
                                deps.authorizer, &parts->sources,
                                static_cast<int>(g_settings.small_cell_threshold),
                                static_cast<int>(g_settings.max_overviews))});
        services.push_back(
            {.name = app::v1::AppService::service_full_name(),
             .parts = parts,
             .service = std::make_unique<app::AppServiceImpl>(deps.authorizer, &parts->home)});
        return services;
      });
}
