// civicpoints-ledger: points accounts, append-only journal, holds, history, live rankings.
// Wiring only: store, group committer and rankings under the Ledger rules, behind the gRPC face.
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "common/server/service_main.h"
#include "services/ledger/group_committer.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_grpc_service.h"
#include "services/ledger/pg_ledger_store.h"
#include "services/ledger/rankings.h"

std::vector<std::pair<std::string, std::string>> LedgerMigrations();

namespace {

using namespace civicpoints;

// Owns the ledger's parts for the life of the process, in dependency order.
class LedgerProcess final : public ledger::LedgerGrpcService {
 public:
  explicit LedgerProcess(server::ServiceDeps& deps)
      : LedgerGrpcService(&ledger_, deps.authorizer),
        store_(deps.pg),
        committer_(deps.pg,
                   {.committers = std::max(1, static_cast<int>(deps.config->pg_pool_size) / 2)}),
        rankings_(deps.redis),
        ledger_(&store_, &committer_, &rankings_) {
    ledger_.StartBackground();
  }

 private:
  ledger::PgLedgerStore store_;
  ledger::GroupCommitter committer_;
  ledger::Rankings rankings_;
  ledger::Ledger ledger_;
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
       .migrations = &LedgerMigrations},
      argc, argv,
      [](server::ServiceDeps& deps) -> absl::StatusOr<std::vector<server::BuiltService>> {
        std::vector<server::BuiltService> services;
        services.push_back({ledger::v1::LedgerService::service_full_name(),
                            std::make_unique<LedgerProcess>(deps)});
        return services;
      });
}
