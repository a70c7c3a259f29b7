// civicpoints-ledger: points accounts, append-only journal, holds, history, live rankings.
// Wiring only: store, group committer and rankings under the Ledger rules, behind the gRPC face,
// the relay that publishes the journal's events, and the feed of riders' names from identity.
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "common/config/config_parser.h"
#include "common/events/event_relay.h"
#include "common/log/log.h"
#include "common/server/peer_channel.h"
#include "common/server/service_main.h"
#include "services/ledger/group_committer.h"
#include "services/ledger/journal_events.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_grpc_service.h"
#include "services/ledger/pg_ledger_store.h"
#include "services/ledger/ranking_name_feed.h"
#include "services/ledger/ranking_names.h"
#include "services/ledger/ranking_projector.h"
#include "services/ledger/sql_enums.h"

std::vector<std::pair<std::string, std::string>> LedgerMigrations();

namespace {

using namespace civicpoints;

// The ledger's own settings.
struct LedgerSettings {
  int64_t committers = 2;
  int64_t max_batch = 256;
  int64_t top_ranking_cache_ms = 250;
};
LedgerSettings g_settings;

// What the ledger's gRPC face uses, in dependency order (BuiltService::parts).
struct LedgerParts {
  explicit LedgerParts(server::ServiceDeps& deps)
      : store(deps.pg),
        committer(deps.pg, {.committers = static_cast<int>(g_settings.committers),
                            .max_batch = static_cast<int>(g_settings.max_batch)}),
        projection(deps.redis),
        projector(deps.pg, &projection),
        event_relay(
            events::StartEventRelay("ledger", deps, std::make_unique<ledger::JournalLog>())),
        ledger(&store, &committer, &projection, &projector,
               absl::Milliseconds(g_settings.top_ranking_cache_ms)) {
    // The journal is the ledger's outbox: each commit of the group committer wakes the relay.
    if (event_relay != nullptr) ledger.OnCommit([relay = event_relay.get()] { relay->Nudge(); });
    // Riders' names on rankings come from identity's feed, with the service token; a ledger
    // without one (no events_addr: a bench, a test) ranks riders without names.
    if (deps.service_token != nullptr && !deps.config->identity_addr.empty()) {
      name_feed = std::make_unique<ledger::RankingNameFeed>(
          server::PeerChannel(deps.config->identity_addr), deps.service_token, &names);
      name_feed->Start();
    } else {
      log::Warn("rankings carry no riders' names: no service token to follow identity's feed");
    }
    ledger.UseRankingNames(&names);
    ledger.StartBackground();
  }
  ledger::PgLedgerStore store;
  ledger::GroupCommitter committer;
  ledger::RankingProjection projection;
  ledger::RankingProjector projector;
  std::unique_ptr<events::EventRelay> event_relay;  // null without --events_addr
  ledger::RankingNames names;
  ledger::Ledger ledger;
  std::unique_ptr<ledger::RankingNameFeed> name_feed;  // null without a service token
};

}  // namespace

int main(int argc, char** argv) {
  return server::RunService(
      {.name = "ledger",
       .description = "points accounts, append-only journal, holds, history, live rankings",
       .default_grpc_port = 50053,
       .default_metrics_port = 9153,
       .uses_postgres = true,
       .uses_redis = true,
       .publishes_events = true,
       .migrations = &LedgerMigrations,
       .sql_enums = ledger::LedgerSqlEnums(),
       .extra_settings =
           [](config::ConfigParser& parser) {
             parser.AddInt("ledger_committers",
                           "transactions group-committing at once (each holds a connection; keep "
                           "below pg_pool_size)",
                           &g_settings.committers, 1, 64);
             parser.AddInt("ledger_max_batch", "most requests in one group commit",
                           &g_settings.max_batch, 1, 10000);
             parser.AddInt("ledger_top_ranking_cache_ms",
                           "how long a top-N ranking answer is reused (0: read Redis every time); "
                           "this replica's own writes drop it at once",
                           &g_settings.top_ranking_cache_ms, 0, 60000);
           }},
      argc, argv,
      [](server::ServiceDeps& deps) -> absl::StatusOr<std::vector<server::BuiltService>> {
        auto parts = std::make_shared<LedgerParts>(deps);
        std::vector<server::BuiltService> services;
        services.push_back({.name = ledger::v1::LedgerService::service_full_name(),
                            .parts = parts,
                            .service = std::make_unique<ledger::LedgerGrpcService>(
                                &parts->ledger, deps.authorizer)});
        return services;
      });
}
