// CheckInvariants: opens the stores and runs each family of checks (invariant_checks.h).
#include "tests/fault/invariants.h"

#include <exception>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/pg/pg_pool.h"
#include "common/redis/redis_client.h"
#include "tests/fault/invariant_checks.h"

namespace civicpoints::fault {
namespace {

// Each check reads its own snapshot: the statements of one check agree with each other, and a
// check that fails (a database error) leaves the others to run.
using ReadSnapshot = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

// Runs `check` in a fresh snapshot; an exception is a finding too, since what could not be read
// could not be confirmed.
void InSnapshot(pqxx::connection& db, const char* invariant, Tally& tally,
                const std::function<void(pqxx::transaction_base&)>& check) {
  try {
    ReadSnapshot tx(db);
    check(tx);
  } catch (const std::exception& e) {
    tally.Holds(false);
    tally.Violation(invariant, absl::StrCat("could not check: ", e.what()));
  }
}

absl::StatusOr<std::unique_ptr<redis::RedisClient>> ConnectRedis(const std::string& address) {
  redis::RedisOptions options{.pool_size = 1, .startup_timeout = absl::Seconds(5)};
  if (absl::Status parsed = redis::ParseRedisAddress(address, &options); !parsed.ok()) {
    return parsed;
  }
  return redis::RedisClient::Connect(options);
}

void CheckDatabase(const SuiteStores& stores, const Acknowledged& acked, Tally& tally) {
  std::unique_ptr<pqxx::connection> db;
  try {
    db = std::make_unique<pqxx::connection>(pg::WithNetworkDefaults(stores.pg_url));
  } catch (const std::exception& e) {
    tally.Holds(false);
    tally.Violation("database", absl::StrCat("cannot connect to ", pg::RedactUrl(stores.pg_url),
                                             ": ", e.what()));
    return;
  }
  InSnapshot(*db, "awards", tally, [&](pqxx::transaction_base& tx) { CheckAwards(tx, tally); });
  InSnapshot(*db, "balances", tally, [&](pqxx::transaction_base& tx) { CheckAccounts(tx, tally); });
  InSnapshot(*db, "stock", tally, [&](pqxx::transaction_base& tx) { CheckStock(tx, tally); });
  InSnapshot(*db, "holds", tally,
             [&](pqxx::transaction_base& tx) { CheckOrdersAndHolds(tx, tally); });
  InSnapshot(*db, "acknowledged", tally,
             [&](pqxx::transaction_base& tx) { CheckAcknowledged(tx, acked, tally); });
  InSnapshot(*db, "events", tally, [&](pqxx::transaction_base& tx) { CheckEvents(tx, tally); });

  absl::StatusOr<std::unique_ptr<redis::RedisClient>> redis = ConnectRedis(stores.redis_addr);
  if (!tally.Holds(redis.ok())) {
    tally.Violation("rankings", absl::StrCat("cannot reach Redis at ", stores.redis_addr, ": ",
                                             redis.status().ToString()));
    return;
  }
  InSnapshot(*db, "rankings", tally,
             [&](pqxx::transaction_base& tx) { CheckRankings(tx, **redis, tally); });
}

}  // namespace

InvariantReport CheckInvariants(const SuiteStores& stores, const Acknowledged& acked) {
  InvariantReport report;
  Tally tally(&report);
  CheckDatabase(stores, acked, tally);
  CheckJournalChains(stores, tally);
  return report;
}

}  // namespace civicpoints::fault
