// A whole ledger for tests: a scratch PostgreSQL database with the ledger's migrations applied, a
// Redis server of its own, and the store, group committer, rankings and Ledger over them.
#ifndef CIVICPOINTS_SERVICES_LEDGER_LEDGER_TEST_ENV_H_
#define CIVICPOINTS_SERVICES_LEDGER_LEDGER_TEST_ENV_H_

#include <memory>

#include "common/pg/pg_pool.h"
#include "common/redis/redis_client.h"
#include "common/testing/redis_server.h"
#include "common/testing/test_env.h"
#include "services/ledger/group_committer.h"
#include "services/ledger/ledger.h"
#include "services/ledger/pg_ledger_store.h"
#include "services/ledger/ranking_projection.h"
#include "services/ledger/ranking_projector.h"

namespace civicpoints::ledger {

class LedgerTestEnv {
 public:
  // Sets everything up; check ok() (and the test's failures) before use.
  LedgerTestEnv();
  ~LedgerTestEnv();

  bool ok() const { return ledger_ != nullptr; }
  Ledger& ledger() { return *ledger_; }
  redis::RedisClient& redis() { return *redis_; }
  GroupCommitter& committer() { return *committer_; }
  pg::PgPool& pool() { return *pool_; }
  testing::RedisServer& redis_server() { return redis_server_; }
  RankingProjection& projection() { return *projection_; }
  RankingProjector& projector() { return *projector_; }
  const std::string& db_url() const { return db_.url(); }
  // The first column of the first row of a query run on the scratch database.
  int64_t Sql(const std::string& query);
  // Runs statements on the scratch database behind the ledger's back (a tamper, an expiry made
  // due, a state left by an older version) and commits them.
  void Change(const std::string& statements);

 private:
  testing::ScratchDatabase db_;
  testing::RedisServer redis_server_;
  std::unique_ptr<pg::PgPool> pool_;
  std::unique_ptr<redis::RedisClient> redis_;
  std::unique_ptr<PgLedgerStore> store_;
  std::unique_ptr<GroupCommitter> committer_;
  std::unique_ptr<RankingProjection> projection_;
  std::unique_ptr<RankingProjector> projector_;
  std::unique_ptr<Ledger> ledger_;
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_LEDGER_TEST_ENV_H_
