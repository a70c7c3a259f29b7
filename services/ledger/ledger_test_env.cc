#include "services/ledger/ledger_test_env.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "common/pg/migrations.h"
#include "services/ledger/sql_enums.h"

std::vector<std::pair<std::string, std::string>> LedgerMigrations();

namespace civicpoints::ledger {

LedgerTestEnv::LedgerTestEnv() {
  if (!redis_server_.Start()) {
    ADD_FAILURE() << "redis-server did not start";
    return;
  }
  auto pool = pg::PgPool::Connect({.url = db_.url(), .schema = "ledger", .pool_size = 12});
  if (!pool.ok()) {
    ADD_FAILURE() << pool.status();
    return;
  }
  pool_ = *std::move(pool);
  auto migrations = pg::MigrationsFromFiles(LedgerMigrations());
  absl::Status migrated = pool_->WithConnection("migrate", [&](pqxx::connection_base& c) {
    return pg::ApplyMigrations(c, "ledger", *migrations, LedgerSqlEnums()).status();
  });
  if (!migrated.ok()) {
    ADD_FAILURE() << migrated;
    return;
  }
  redis::RedisOptions ro;
  (void)redis::ParseRedisAddress(redis_server_.address(), &ro);
  ro.pool_size = 8;
  auto redis = redis::RedisClient::Connect(ro);
  if (!redis.ok()) {
    ADD_FAILURE() << redis.status();
    return;
  }
  redis_ = *std::move(redis);
  store_ = std::make_unique<PgLedgerStore>(pool_.get());
  committer_ = std::make_unique<GroupCommitter>(pool_.get(), GroupCommitOptions{.committers = 4});
  projection_ = std::make_unique<RankingProjection>(redis_.get());
  projector_ = std::make_unique<RankingProjector>(
      pool_.get(), projection_.get(),
      RankingProjectorOptions{.idle_poll = absl::Milliseconds(100),
                              .retry = absl::Milliseconds(100)});
  // Top-N answers are kept for an hour, so every test also checks that the projector's changes
  // drop them.
  ledger_ = std::make_unique<Ledger>(store_.get(), committer_.get(), projection_.get(),
                                     projector_.get(), absl::Hours(1));
}

LedgerTestEnv::~LedgerTestEnv() {
  ledger_.reset();
  projector_.reset();
  committer_.reset();
}

int64_t LedgerTestEnv::Sql(const std::string& query) {
  pqxx::connection c(db_.url());
  pqxx::read_transaction tx(c);
  return tx.exec1(query)[0].as<int64_t>();
}

void LedgerTestEnv::Change(const std::string& statements) {
  pqxx::connection c(db_.url());
  pqxx::work tx(c);
  tx.exec(statements);
  tx.commit();
}

}  // namespace civicpoints::ledger
