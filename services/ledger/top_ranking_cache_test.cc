#include "services/ledger/top_ranking_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/clock.h"

namespace civicpoints::ledger {
namespace {

TopRead Answer(int64_t points) {
  TopRead read;
  read.riders.push_back({"rider-1", points, 1});
  read.total = 1;
  return read;
}

TEST(TopRankingCacheTest, CallersAskingTheSameAtOnceShareOneRead) {
  TopRankingCache cache(absl::Minutes(1));
  std::atomic<int> reads{0};
  std::vector<std::thread> threads;
  std::atomic<int> right{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      auto got = cache.Get("city|all|top:10", [&]() -> absl::StatusOr<TopRead> {
        ++reads;
        absl::SleepFor(absl::Milliseconds(100));
        return Answer(109);
      });
      if (got.ok() && (*got)->riders[0].points == 109) ++right;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(reads.load(), 1);
  EXPECT_EQ(right.load(), 16);
  EXPECT_EQ(cache.loads(), 1);
}

TEST(TopRankingCacheTest, AnAnswerIsReadAgainAfterItsTimeOrAnInvalidate) {
  TopRankingCache cache(absl::Milliseconds(200));
  int64_t points = 10;
  auto read = [&]() -> absl::StatusOr<TopRead> { return Answer(points); };
  EXPECT_EQ((*cache.Get("q", read))->riders[0].points, 10);
  points = 11;
  EXPECT_EQ((*cache.Get("q", read))->riders[0].points, 10);  // fresh: kept
  cache.Invalidate();
  EXPECT_EQ((*cache.Get("q", read))->riders[0].points, 11);
  points = 12;
  absl::SleepFor(absl::Milliseconds(250));
  EXPECT_EQ((*cache.Get("q", read))->riders[0].points, 12);
  EXPECT_EQ(cache.loads(), 3);
  // Other questions are answered apart.
  EXPECT_EQ((*cache.Get("other", read))->riders[0].points, 12);
  EXPECT_EQ(cache.loads(), 4);
}

TEST(TopRankingCacheTest, AReadThatSpansAWriteIsNotKept) {
  TopRankingCache cache(absl::Minutes(1));
  int64_t points = 10;
  // The write lands (and invalidates) while the read is in flight: the read may hold the old
  // score, so the next caller must read again.
  auto read_during_write = [&]() -> absl::StatusOr<TopRead> {
    TopRead before = Answer(points);
    points = 20;
    cache.Invalidate();
    return before;
  };
  EXPECT_EQ((*cache.Get("q", read_during_write))->riders[0].points, 10);
  auto read = [&]() -> absl::StatusOr<TopRead> { return Answer(points); };
  EXPECT_EQ((*cache.Get("q", read))->riders[0].points, 20);
}

TEST(TopRankingCacheTest, FailuresAreNotKept) {
  TopRankingCache cache(absl::Minutes(1));
  auto fail = []() -> absl::StatusOr<TopRead> { return absl::UnavailableError("redis down"); };
  EXPECT_EQ(cache.Get("q", fail).status().code(), absl::StatusCode::kUnavailable);
  auto read = []() -> absl::StatusOr<TopRead> { return Answer(5); };
  EXPECT_EQ((*cache.Get("q", read))->riders[0].points, 5);
  EXPECT_EQ(cache.loads(), 2);
}

TEST(TopRankingCacheTest, ZeroTimeReadsEveryTime) {
  TopRankingCache cache(absl::ZeroDuration());
  auto read = []() -> absl::StatusOr<TopRead> { return Answer(5); };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cache.Get("q", read).ok());
  EXPECT_EQ(cache.loads(), 3);
}

}  // namespace
}  // namespace civicpoints::ledger
