#include "services/ledger/ranking_projection.h"

#include <gtest/gtest.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/redis/redis_client.h"
#include "common/testing/redis_server.h"

namespace civicpoints::ledger {
namespace {

constexpr char kStreet[] = "street:s-1|all";

class RankingProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    auto client = redis::RedisClient::Connect({.port = server_.port()});
    ASSERT_TRUE(client.ok()) << client.status();
    redis_ = *std::move(client);
    projection_ = std::make_unique<RankingProjection>(redis_.get());
  }

  RankingChange Change(const std::string& rider, int64_t delta, int64_t sequence) {
    return {rider, delta, sequence, t0_ + absl::Milliseconds(sequence)};
  }

  // "rider:points" for each place, best first.
  std::vector<std::string> Board(const std::string& key = kStreet, int64_t* total = nullptr) {
    auto places = projection_->Range(key, 0, 100, total);
    EXPECT_TRUE(places.ok()) << places.status();
    std::vector<std::string> out;
    if (!places.ok()) return out;
    for (const RankingPlace& p : *places) out.push_back(absl::StrCat(p.person_id, ":", p.points));
    return out;
  }

  testing::RedisServer server_;
  std::unique_ptr<redis::RedisClient> redis_;
  std::unique_ptr<RankingProjection> projection_;
  const absl::Time t0_ = absl::FromUnixSeconds(1764547200);  // 2025-12-01
};

TEST_F(RankingProjectionTest, EqualPointsGoToWhoeverReachedThemFirstInJournalOrder) {
  // Four riders at one activity, confirmed in the same second: the journal decides.
  ASSERT_TRUE(projection_
                  ->Apply({{kStreet,
                            {Change("r-b", 13, 101), Change("r-a", 13, 102), Change("r-d", 5, 103),
                             Change("r-c", 13, 104)}}},
                          104)
                  .ok());
  EXPECT_EQ(Board(), (std::vector<std::string>{"r-b:13", "r-a:13", "r-c:13", "r-d:5"}));
  auto top = projection_->Range(kStreet, 0, 2);
  ASSERT_TRUE(top.ok()) << top.status();
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].rank, 1);
  EXPECT_EQ((*top)[0].reach_sequence, 101);
  EXPECT_EQ((*top)[0].reach_time, t0_ + absl::Milliseconds(101));
  EXPECT_EQ((*top)[1].reach_sequence, 102);
  // r-d passes them later: its reach moves to the raising entry.
  ASSERT_TRUE(projection_->Apply({{kStreet, {Change("r-d", 8, 110)}}}, 110).ok());
  auto d = projection_->PlaceOf(kStreet, "r-d");
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->rank, 4);  // 13 reached last
  EXPECT_EQ((*d)->reach_sequence, 110);
}

TEST_F(RankingProjectionTest, ApplyingTheSameChangesAgainOrInOverlappingBatchesCountsEachOnce) {
  std::vector<RankingChange> all;
  for (int64_t seq = 1; seq <= 1200; ++seq)
    all.push_back(Change(absl::StrCat("r-", seq % 7), 1, seq));
  // One projector applies 1..700, another 300..1200, and the first one again: 1,200 points in all.
  std::vector<RankingChange> first(all.begin(), all.begin() + 700);
  std::vector<RankingChange> second(all.begin() + 299, all.end());
  ASSERT_TRUE(projection_->Apply({{kStreet, first}}, 700).ok());
  ASSERT_TRUE(projection_->Apply({{kStreet, second}}, 1200).ok());
  absl::StatusOr<int64_t> again = projection_->Apply({{kStreet, first}}, 700);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  int64_t total = 0;
  int64_t sum = 0;
  auto places = projection_->Range(kStreet, 0, 10, &total);
  ASSERT_TRUE(places.ok()) << places.status();
  for (const RankingPlace& p : *places) sum += p.points;
  EXPECT_EQ(total, 7);
  EXPECT_EQ(sum, 1200);
  // A Redis that restarted forgets its scripts; the changes are still counted once.
  ASSERT_TRUE(redis_->Command({"SCRIPT", "FLUSH"}).ok());
  ASSERT_TRUE(projection_->Apply({{kStreet, second}}, 1200).ok());
  ASSERT_TRUE(projection_->Apply({{kStreet, {Change("r-0", 5, 1201)}}}, 1201).ok());
  places = projection_->Range(kStreet, 0, 10);
  ASSERT_TRUE(places.ok());
  sum = 0;
  for (const RankingPlace& p : *places) sum += p.points;
  EXPECT_EQ(sum, 1205);
}

TEST_F(RankingProjectionTest, PointsAreTheSumOfChangesShownWhileAboveZero) {
  ASSERT_TRUE(projection_
                  ->Apply({{kStreet, {Change("r-a", 10, 1), Change("r-b", 4, 2)}},
                           {"city|all", {Change("r-a", 10, 1)}}},
                          2)
                  .ok());
  // A deduction larger than what the period earned takes the rider off the board; a later award
  // counts on top of the deficit, whatever order a rebuild would add them in.
  ASSERT_TRUE(projection_->Apply({{kStreet, {Change("r-a", -15, 3)}}}, 3).ok());
  EXPECT_EQ(Board(), (std::vector<std::string>{"r-b:4"}));
  ASSERT_TRUE(projection_->Apply({{kStreet, {Change("r-a", 7, 4)}}}, 4).ok());
  EXPECT_EQ(Board(), (std::vector<std::string>{"r-b:4", "r-a:2"}));
  // A fall keeps the reaching entry of the raise before it.
  ASSERT_TRUE(projection_->Apply({{kStreet, {Change("r-b", -1, 5)}}}, 5).ok());
  auto b = projection_->PlaceOf(kStreet, "r-b");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->points, 3);
  EXPECT_EQ((*b)->reach_sequence, 2);
  EXPECT_EQ(Board("city|all"), (std::vector<std::string>{"r-a:10"}));
}

TEST_F(RankingProjectionTest, ExcludedRidersAreSkippedByEveryReadAndComeBackWhenRestored) {
  std::vector<RankingChange> changes;
  for (int i = 0; i < 6; ++i) changes.push_back(Change(absl::StrCat("r-", i), 60 - 10 * i, i + 1));
  ASSERT_TRUE(projection_->Apply({{kStreet, changes}}, 6).ok());
  ASSERT_TRUE(projection_->SetExcluded("r-0", true).ok());
  ASSERT_TRUE(projection_->SetExcluded("r-2", true).ok());
  int64_t total = 0;
  EXPECT_EQ(Board(kStreet, &total),
            (std::vector<std::string>{"r-1:50", "r-3:30", "r-4:20", "r-5:10"}));
  EXPECT_EQ(total, 4);
  auto page = projection_->Range(kStreet, 1, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].person_id, "r-3");
  EXPECT_EQ((*page)[0].rank, 2);
  EXPECT_EQ((*page)[1].person_id, "r-4");
  auto excluded = projection_->PlaceOf(kStreet, "r-2");
  ASSERT_TRUE(excluded.ok());
  EXPECT_FALSE(excluded->has_value());
  auto four = projection_->PlaceOf(kStreet, "r-4");
  ASSERT_TRUE(four.ok() && four->has_value());
  EXPECT_EQ((*four)->rank, 3);
  auto around = projection_->Around(kStreet, "r-4", 1, 1);
  ASSERT_TRUE(around.ok());
  ASSERT_EQ(around->size(), 3u);
  EXPECT_EQ((*around)[0].person_id, "r-3");
  EXPECT_EQ((*around)[2].person_id, "r-5");
  EXPECT_EQ((*around)[2].rank, 4);
  // Restoring is one set write; the projection never lost the rider's points.
  ASSERT_TRUE(projection_->ReplaceExcluded({"r-0"}).ok());
  EXPECT_EQ(Board(), (std::vector<std::string>{"r-1:50", "r-2:40", "r-3:30", "r-4:20", "r-5:10"}));
  ASSERT_TRUE(projection_->ReplaceExcluded({}).ok());
  EXPECT_EQ(Board().size(), 6u);
}

TEST_F(RankingProjectionTest, TheGlobalWatermarkIsAbsentUntilSetAndOnlyRises) {
  auto none = projection_->Watermark();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(projection_->RaiseWatermark(0).ok());
  ASSERT_TRUE(projection_->RaiseWatermark(40).ok());
  ASSERT_TRUE(projection_->RaiseWatermark(12).ok());
  auto wm = projection_->Watermark();
  ASSERT_TRUE(wm.ok() && wm->has_value());
  EXPECT_EQ(**wm, 40);
  ASSERT_TRUE(redis_->Command({"FLUSHALL"}).ok());
  wm = projection_->Watermark();
  ASSERT_TRUE(wm.ok());
  EXPECT_FALSE(wm->has_value()) << "a flushed Redis must say it holds no projection";
  // A pass that began before the flush does not bring the watermark back (the next catch-up
  // must rebuild the whole journal, not trust the pass's few changes).
  ASSERT_TRUE(projection_->RaiseWatermark(50, /*only_if_present=*/true).ok());
  wm = projection_->Watermark();
  ASSERT_TRUE(wm.ok());
  EXPECT_FALSE(wm->has_value());
}

TEST_F(RankingProjectionTest, AnotherProcessSeesAnExclusionWithinASecond) {
  RankingProjection other(redis_.get());
  ASSERT_TRUE(projection_->Apply({{kStreet, {Change("r-1", 5, 1), Change("r-2", 3, 2)}}}, 2).ok());
  ASSERT_TRUE(other.PlaceOf(kStreet, "r-1").ok());  // `other` now keeps an empty exclusion set
  ASSERT_TRUE(projection_->SetExcluded("r-1", true).ok());
  EXPECT_FALSE(projection_->PlaceOf(kStreet, "r-1")->has_value()) << "the writer sees it at once";
  const absl::Time written = absl::Now();
  while (other.PlaceOf(kStreet, "r-1")->has_value() && absl::Now() < written + absl::Seconds(3)) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_LT(absl::Now() - written, absl::Milliseconds(1500));
  EXPECT_FALSE(other.PlaceOf(kStreet, "r-1")->has_value());
}

TEST_F(RankingProjectionTest, TheLeaseHasOneHolderUntilReleasedOrExpired) {
  auto held = projection_->HoldLease("a", absl::Seconds(10));
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_TRUE(*held);
  EXPECT_FALSE(*projection_->HoldLease("b", absl::Seconds(10)));
  EXPECT_TRUE(*projection_->HoldLease("a", absl::Seconds(10))) << "the holder renews it";
  ASSERT_TRUE(projection_->ReleaseLease("b").ok());
  EXPECT_FALSE(*projection_->HoldLease("b", absl::Seconds(10))) << "only the holder releases it";
  ASSERT_TRUE(projection_->ReleaseLease("a").ok());
  EXPECT_TRUE(*projection_->HoldLease("b", absl::Milliseconds(50)));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_TRUE(*projection_->HoldLease("a", absl::Seconds(10))) << "a holder that went quiet";
}

}  // namespace
}  // namespace civicpoints::ledger
