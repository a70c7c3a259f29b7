#include "services/ledger/ranking_writer.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/ledger/ledger_test_env.h"

namespace civicpoints::ledger {
namespace {

TEST(RankingWriterTest, ConcurrentWritersAllLandAndTheNewestVersionWins) {
  LedgerTestEnv env;
  ASSERT_TRUE(env.ok());
  Rankings rankings(&env.redis());
  RankingWriter writer(&rankings);
  const absl::Time t = absl::Now();
  // 32 callers, each writing one rider into 3 rankings; rider-0 is written by every caller with
  // its own version, so only the highest version may stand.
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(32);
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&, i] {
      std::vector<RankingScore> scores;
      for (const char* key : {"test:a|all", "test:b|all", "test:c|all"}) {
        scores.push_back({key, absl::StrCat("rider-", i + 1), 10 + i, t, 1});
        scores.push_back({key, "rider-0", 100 + i, t, 1 + i});
      }
      results[i] = writer.Write(std::move(scores));
    });
  }
  for (std::thread& th : threads) th.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_LE(writer.writes(), 32);
  for (const char* key : {"test:a|all", "test:b|all", "test:c|all"}) {
    absl::StatusOr<std::vector<RankedRider>> top = rankings.Top(key, 100);
    ASSERT_TRUE(top.ok()) << top.status();
    ASSERT_EQ(top->size(), 33u) << key;
    EXPECT_EQ((*top)[0].person_id, "rider-0");
    EXPECT_EQ((*top)[0].points, 131);
    EXPECT_EQ((*top)[1].person_id, "rider-32");
    EXPECT_EQ((*top)[1].points, 41);
  }
}

TEST(RankingWriterTest, ARedisThatForgotTheScriptIsWrittenWithItsText) {
  LedgerTestEnv env;
  ASSERT_TRUE(env.ok());
  Rankings rankings(&env.redis());
  const absl::Time t = absl::Now();
  ASSERT_TRUE(rankings.Apply({{"test:s|all", "rider-1", 5, t, 1}}).ok());
  // As after a Redis restart: the script cache is empty, the SHA1 the writer knows is stale.
  ASSERT_TRUE(env.redis().Command({"SCRIPT", "FLUSH"}).ok());
  ASSERT_TRUE(rankings.Apply({{"test:s|all", "rider-1", 7, t, 2}}).ok());
  ASSERT_TRUE(rankings.Apply({{"test:s|all", "rider-2", 3, t, 1}}).ok());
  absl::StatusOr<std::vector<RankedRider>> top = rankings.Top("test:s|all", 10);
  ASSERT_TRUE(top.ok()) << top.status();
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].points, 7);
  EXPECT_EQ((*top)[1].points, 3);
}

}  // namespace
}  // namespace civicpoints::ledger
