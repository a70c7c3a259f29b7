#include "common/pg/pg_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <pqxx/pqxx>
#include <thread>

#include "common/pg/pg_errors.h"
#include "common/pg/transactions.h"
#include "common/testing/test_env.h"

namespace civicpoints::pg {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PgPoolTest, ConnectionsUseTheServiceSchemaAsSearchPath) {
  testing::ScratchDatabase db;
  absl::StatusOr<std::unique_ptr<PgPool>> pool =
      PgPool::Connect({.url = db.url(), .schema = "ledger", .pool_size = 2});
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::string path;
  ASSERT_TRUE((*pool)
                  ->WithConnection("read search_path",
                                   [&](pqxx::connection_base& c) {
                                     pqxx::read_transaction tx(c);
                                     path = tx.exec1("SHOW search_path")[0].as<std::string>();
                                     return absl::OkStatus();
                                   })
                  .ok());
  EXPECT_THAT(path, HasSubstr("ledger"));
}

TEST(PgPoolTest, ConnectionsDetectAVanishedPeerWithKeepalivesAndAUserTimeout) {
  const std::string conninfo =
      WithNetworkDefaults("postgresql://cp:s3cret@127.0.0.1:5432/db?keepalives_idle=5");
  EXPECT_THAT(conninfo, HasSubstr("keepalives='1'"));
  EXPECT_THAT(conninfo, HasSubstr("keepalives_idle='5'"));  // the URL's own value wins
  EXPECT_THAT(conninfo, HasSubstr("tcp_user_timeout='30000'"));
  EXPECT_THAT(conninfo, HasSubstr("password='s3cret'"));
  EXPECT_THAT(RedactUrl(conninfo), Not(HasSubstr("s3cret")));

  testing::ScratchDatabase db;
  absl::StatusOr<std::unique_ptr<PgPool>> pool =
      PgPool::Connect({.url = db.url(), .schema = "ledger", .pool_size = 1});
  ASSERT_TRUE(pool.ok()) << pool.status();
  // And the pool connects with them (libpq accepts every keyword it was given).
  EXPECT_TRUE((*pool)
                  ->WithConnection("select 1",
                                   [&](pqxx::connection_base& c) {
                                     pqxx::read_transaction tx(c);
                                     return tx.exec1("SELECT 1")[0].as<int>() == 1
                                                ? absl::OkStatus()
                                                : absl::InternalError("1 != 1");
                                   })
                  .ok());
}

TEST(PgPoolTest, SqlErrorsBecomeSpecificStatusesWithoutSqlText) {
  testing::ScratchDatabase db;
  auto pool = PgPool::Connect({.url = db.url(), .pool_size = 1});
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto run = [&](const std::string& sql) {
    return (*pool)->WithConnection("test op", [&](pqxx::connection_base& c) {
      pqxx::work tx(c);
      tx.exec(sql);
      tx.commit();
      return absl::OkStatus();
    });
  };
  ASSERT_TRUE(run("CREATE TABLE t (id int PRIMARY KEY, n int CHECK (n >= 0))").ok());
  ASSERT_TRUE(run("INSERT INTO t VALUES (1, 1)").ok());
  absl::Status dup = run("INSERT INTO t VALUES (1, 2)");
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(dup.message(), HasSubstr("test op"));
  EXPECT_THAT(dup.message(), Not(HasSubstr("INSERT")));
  EXPECT_EQ(run("INSERT INTO t VALUES (2, -1)").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(run("SELEC nonsense").code(), absl::StatusCode::kInternal);
  // The pool keeps working after errors.
  EXPECT_TRUE(run("INSERT INTO t VALUES (3, 3)").ok());
}

TEST(PgPoolTest, ExhaustedPoolAnswersResourceExhausted) {
  testing::ScratchDatabase db;
  PgOptions options{.url = db.url(), .pool_size = 1};
  options.acquire_timeout = absl::Milliseconds(100);
  auto pool = PgPool::Connect(options);
  ASSERT_TRUE(pool.ok()) << pool.status();
  absl::Status inner;
  absl::Status outer = (*pool)->WithConnection("outer", [&](pqxx::connection_base&) {
    inner =
        (*pool)->WithConnection("inner", [](pqxx::connection_base&) { return absl::OkStatus(); });
    return absl::OkStatus();
  });
  EXPECT_TRUE(outer.ok());
  EXPECT_EQ(inner.code(), absl::StatusCode::kResourceExhausted);
}

TEST(PgPoolTest, UnreachableDatabaseFailsAfterRetryingAndRedactsThePassword) {
  const int port = testing::FreePort();
  PgOptions options{.url = "postgresql://cp:hunter2@127.0.0.1:" + std::to_string(port) + "/x"};
  options.connect_timeout = absl::Milliseconds(600);
  const absl::Time start = absl::Now();
  auto pool = PgPool::Connect(options);
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(pool.status().message(), HasSubstr("unreachable after"));
  EXPECT_THAT(pool.status().message(), Not(HasSubstr("hunter2")));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));  // it did retry
}

TEST(PgPoolTest, MalformedUrlIsInvalidArgumentAtOnce) {
  auto pool = PgPool::Connect({.url = "host=127.0.0.1 port"});
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(pool.status().message(), HasSubstr("malformed"));
}

TEST(PgPoolTest, MalformedUrlMessageDoesNotRepeatThePassword) {
  auto pool = PgPool::Connect({.url = "postgresql://cp:hunter2@[::1/x"});
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(pool.status().message(), Not(HasSubstr("hunter2")));
}

TEST(PgPoolTest, RedactUrlHidesPasswordsInBothForms) {
  EXPECT_EQ(RedactUrl("postgresql://u:p@ss@h/db"), "postgresql://u:****@h/db");
  EXPECT_EQ(RedactUrl("postgresql://u:secret@h:5432/db"), "postgresql://u:****@h:5432/db");
  EXPECT_EQ(RedactUrl("host=h password=secret dbname=x"), "host=h password=**** dbname=x");
  EXPECT_EQ(RedactUrl("postgresql://u@h/db"), "postgresql://u@h/db");
}

TEST(PgErrorsTest, SqlStatesMapToCodes) {
  EXPECT_EQ(CodeForSqlState("23505"), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(CodeForSqlState("23514"), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CodeForSqlState("40001"), absl::StatusCode::kAborted);
  EXPECT_EQ(CodeForSqlState("40P01"), absl::StatusCode::kAborted);
  EXPECT_EQ(CodeForSqlState("08006"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeForSqlState("57014"), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(CodeForSqlState("42601"), absl::StatusCode::kInternal);
}

TEST(PgPoolTest, ALostConnectionIsReplacedAndReadsRetryOnce) {
  testing::ScratchDatabase db;
  auto pool = PgPool::Connect({.url = db.url(), .pool_size = 1});
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto backend = [&](std::string* pid) {
    return [pid](pqxx::connection_base& c) {
      pqxx::read_transaction tx(c);
      *pid = tx.exec1("SELECT pg_backend_pid()")[0].c_str();
      return absl::OkStatus();
    };
  };
  auto cut = [&](const std::string& pid) {
    // What a server restart does to an idle pooled connection.
    pqxx::connection admin(db.url());
    pqxx::nontransaction tx(admin);
    tx.exec("SELECT pg_terminate_backend(" + pid + ")");
  };
  std::string pid, after;
  ASSERT_TRUE((*pool)->WithConnection("pid", backend(&pid)).ok());
  cut(pid);
  // A read is retried on a fresh connection and succeeds.
  ASSERT_TRUE((*pool)->WithReadConnection("read", backend(&after)).ok());
  EXPECT_NE(after, pid);
  cut(after);
  // Other work is not repeated: the caller hears UNAVAILABLE once, then the pool has recovered.
  EXPECT_EQ((*pool)->WithConnection("write", backend(&pid)).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE((*pool)->WithConnection("write", backend(&pid)).ok());
}

TEST(PgPoolTest, ConcurrentCallersShareThePool) {
  testing::ScratchDatabase db;
  auto pool = PgPool::Connect({.url = db.url(), .pool_size = 3});
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 10; ++j) {
        absl::Status s = (*pool)->WithConnection("select", [](pqxx::connection_base& c) {
          pqxx::read_transaction tx(c);
          tx.exec1("SELECT 1");
          return absl::OkStatus();
        });
        if (s.ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
}

TEST(TransactionsTest, AfterCommitRunsOnlyOnceTheTransactionCommitted) {
  testing::ScratchDatabase db;
  auto pool = PgPool::Connect({.url = db.url(), .pool_size = 2});
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_TRUE(InTx(**pool, "table", [](pqxx::transaction_base& tx) {
                tx.exec("CREATE TABLE t (n int)");
                return absl::OkStatus();
              }).ok());
  // What the callback sees: the row is visible from another connection when it runs.
  std::vector<std::string> seen;
  auto rows_elsewhere = [&] {
    absl::Status s = InReadTx(**pool, "count", [&](pqxx::transaction_base& tx) {
      seen.push_back(tx.exec1("SELECT count(*) FROM t")[0].as<std::string>());
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
  };
  ASSERT_TRUE(InTx(**pool, "insert", [&](pqxx::transaction_base& tx) {
                tx.exec("INSERT INTO t VALUES (1)");
                AfterCommit(rows_elsewhere);
                EXPECT_TRUE(seen.empty());  // not before the commit
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(seen, std::vector<std::string>{"1"});

  // A body that fails rolls back, and its callbacks never run; nor does one outside any InTx.
  EXPECT_FALSE(InTx(**pool, "refused", [&](pqxx::transaction_base& tx) {
                 tx.exec("INSERT INTO t VALUES (2)");
                 AfterCommit(rows_elsewhere);
                 return absl::FailedPreconditionError("no");
               }).ok());
  EXPECT_FALSE(InTx(**pool, "throws", [&](pqxx::transaction_base& tx) -> absl::Status {
                 AfterCommit(rows_elsewhere);
                 tx.exec("SELECT * FROM no_such_table");
                 return absl::OkStatus();
               }).ok());
  AfterCommit(rows_elsewhere);
  EXPECT_EQ(seen, std::vector<std::string>{"1"});

  // A nested InTx keeps its own list: the inner one runs at the inner commit.
  ASSERT_TRUE(InTx(**pool, "outer", [&](pqxx::transaction_base& tx) {
                tx.exec("INSERT INTO t VALUES (3)");
                EXPECT_TRUE(InTx(**pool, "inner", [&](pqxx::transaction_base& inner) {
                              inner.exec("INSERT INTO t VALUES (4)");
                              AfterCommit(rows_elsewhere);
                              return absl::OkStatus();
                            }).ok());
                EXPECT_EQ(seen.back(), "2");  // the inner row only
                AfterCommit(rows_elsewhere);
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "3"}));
}

}  // namespace
}  // namespace civicpoints::pg
