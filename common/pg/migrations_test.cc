#include "common/pg/migrations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "common/testing/test_env.h"

namespace civicpoints::pg {
namespace {

using ::testing::HasSubstr;

std::vector<Migration> Files(std::vector<std::pair<std::string, std::string>> files) {
  absl::StatusOr<std::vector<Migration>> m = MigrationsFromFiles(std::move(files));
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : std::vector<Migration>{};
}

const std::vector<std::pair<std::string, std::string>> kTwo = {
    {"0002_add_points.sql", "ALTER TABLE accounts ADD COLUMN points bigint NOT NULL DEFAULT 0;"},
    {"0001_create_accounts.sql", "CREATE TABLE accounts (id text PRIMARY KEY);"},
};

int64_t Count(pqxx::connection& c, const std::string& sql) {
  pqxx::read_transaction tx(c);
  return tx.exec1(sql)[0].as<int64_t>();
}

TEST(MigrationsTest, FreshSchemaGetsEveryFileInOrderAndARecordOfEach) {
  testing::ScratchDatabase db;
  pqxx::connection c(db.url());
  absl::StatusOr<MigrationReport> r = ApplyMigrations(c, "ledger", Files(kTwo));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->applied, 2);
  EXPECT_EQ(Count(c, "SELECT count(*) FROM ledger.schema_migrations"), 2);
  EXPECT_EQ(Count(c,
                  "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                  "'ledger' AND table_name = 'accounts' AND column_name = 'points'"),
            1);
}

TEST(MigrationsTest, ReRunAppliesNothingAndALaterFileOnlyItself) {
  testing::ScratchDatabase db;
  pqxx::connection c(db.url());
  ASSERT_TRUE(ApplyMigrations(c, "ledger", Files(kTwo)).ok());
  absl::StatusOr<MigrationReport> again = ApplyMigrations(c, "ledger", Files(kTwo));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->applied, 0);
  EXPECT_EQ(again->already_applied, 2);
  auto three = kTwo;
  three.push_back({"0003_index.sql", "CREATE INDEX accounts_points ON accounts (points);"});
  absl::StatusOr<MigrationReport> later = ApplyMigrations(c, "ledger", Files(three));
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->applied, 1);
}

TEST(MigrationsTest, FailingFileRollsBackWholeAndNamesItself) {
  testing::ScratchDatabase db;
  pqxx::connection c(db.url());
  auto files = kTwo;
  files.push_back({"0003_broken.sql",
                   "CREATE TABLE half_done (id int); ALTER TABLE no_such_table ADD COLUMN x int;"});
  absl::StatusOr<MigrationReport> r = ApplyMigrations(c, "ledger", Files(files));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("0003_broken.sql"));
  EXPECT_THAT(r.status().message(), HasSubstr("no_such_table"));
  // The good files before it stay applied; nothing of the broken one remains.
  EXPECT_EQ(Count(c, "SELECT count(*) FROM ledger.schema_migrations"), 2);
  EXPECT_EQ(
      Count(c, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'"), 0);
}

TEST(MigrationsTest, EditedAppliedFileIsRefused) {
  testing::ScratchDatabase db;
  pqxx::connection c(db.url());
  ASSERT_TRUE(ApplyMigrations(c, "ledger", Files(kTwo)).ok());
  auto edited = kTwo;
  edited[1].second = "CREATE TABLE accounts (id text PRIMARY KEY, extra int);";
  absl::StatusOr<MigrationReport> r = ApplyMigrations(c, "ledger", Files(edited));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("0001_create_accounts.sql was changed"));
}

TEST(MigrationsTest, ConcurrentRunnersApplyEachFileOnce) {
  testing::ScratchDatabase db;
  std::vector<absl::StatusOr<MigrationReport>> reports(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      pqxx::connection c(db.url());
      reports[i] = ApplyMigrations(c, "ledger", Files(kTwo));
    });
  }
  for (auto& t : threads) t.join();
  int applied = 0;
  for (const auto& r : reports) {
    ASSERT_TRUE(r.ok()) << r.status();
    applied += r->applied;
  }
  EXPECT_EQ(applied, 2);
}

TEST(MigrationsTest, BadNamesAndDuplicateVersionsAreRefused) {
  EXPECT_THAT(MigrationsFromFiles({{"1_x.sql", ""}}).status().message(),
              HasSubstr("not named NNNN_lower_words.sql"));
  EXPECT_THAT(MigrationsFromFiles({{"0001_a.sql", ""}, {"0001_b.sql", ""}}).status().message(),
              HasSubstr("share version 1"));
  EXPECT_THAT(MigrationsFromFiles({{"0000_a.sql", ""}}).status().message(), HasSubstr("0001"));
}

TEST(MigrationsTest, BadSchemaNameIsRefusedBeforeTouchingTheDatabase) {
  testing::ScratchDatabase db;
  pqxx::connection c(db.url());
  EXPECT_EQ(ApplyMigrations(c, "Robert'); DROP", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace civicpoints::pg
