// civicpoints-ledger: points accounts, append-only journal, holds, history, live rankings.
// Wiring only; the shared runtime (common/server/service_main.h) does settings, storage,
// migrations and the server.
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "common/server/service_main.h"

std::vector<std::pair<std::string, std::string>> LedgerMigrations();

int main(int argc, char** argv) {
  using civicpoints::ledger::v1::LedgerService;
  return civicpoints::server::RunService(
      {.name = "ledger",
       .description = "points accounts, append-only journal, holds, history, live rankings",
       .default_grpc_port = 50053,
       .default_metrics_port = 9153,
       .uses_postgres = true,
       .uses_redis = true,
       .migrations = &LedgerMigrations},
      argc, argv, civicpoints::server::HostUnimplemented<LedgerService>());
}
