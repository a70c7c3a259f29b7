#include "services/ledger/ranking_projector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/ledger/ledger_test_env.h"
#include "services/ledger/ranking_keys.h"

namespace civicpoints::ledger {
namespace {

class RankingProjectorTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.ok()); }

  static common::v1::OrgPath Path(const std::string& street, const std::string& community) {
    common::v1::OrgPath p;
    p.set_district_id("d_pingcheng");
    p.set_street_id(street);
    p.set_community_id(community);
    return p;
  }

  v1::AwardResponse Award(const std::string& key, const std::string& person, int64_t amount,
                          const common::v1::OrgPath& path) {
    v1::AwardRequest r;
    r.set_idempotency_key(key);
    r.set_person_id(person);
    r.set_amount(amount);
    r.set_source_kind(v1::SOURCE_KIND_ACTIVITY_ATTENDANCE);
    r.set_source_id(key);
    r.set_verified_by_person_id("staff_1");
    r.set_points_rule_id("rule_1");
    *r.mutable_org_path() = path;
    absl::StatusOr<v1::AwardResponse> out = env_.ledger().Award(r, "svc:activity");
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : v1::AwardResponse();
  }

  // "rider:points" best first.
  std::vector<std::string> Board(const std::string& key) {
    auto places = projection_.Range(key, 0, 100);
    EXPECT_TRUE(places.ok()) << places.status();
    std::vector<std::string> out;
    if (!places.ok()) return out;
    for (const RankingPlace& p : *places) out.push_back(absl::StrCat(p.person_id, ":", p.points));
    return out;
  }

  std::string Month() { return "month:" + MonthKey(absl::Now()); }

  LedgerTestEnv env_;
  RankingProjection projection_{&env_.redis()};
};

TEST_F(RankingProjectorTest, AwardsReversalsAndDeductionsCountWhereTheJournalSaysTheyDo) {
  const auto west = Path("s_qingyuan", "c_west");
  const auto east = Path("s_qingyuan", "c_east");
  const auto other = Path("s_xinwang", "c_far");
  Award("a1", "p1", 10, west);
  const v1::AwardResponse reversed = Award("a2", "p2", 30, east);
  Award("a3", "p2", 5, east);
  Award("a4", "p3", 7, other);
  Award("a5", "p4", 10, west);  // equal to p1, reached later
  v1::ReverseRequest reverse;
  reverse.set_idempotency_key("rev");
  reverse.set_entry_id(reversed.entry().entry_id());
  reverse.set_reason("recorded twice");
  ASSERT_TRUE(env_.ledger().Reverse(reverse, "staff").ok());
  v1::DeductRequest deduct;
  deduct.set_idempotency_key("ded");
  deduct.set_person_id("p1");
  deduct.set_amount(4);
  deduct.set_reason("correction");
  ASSERT_TRUE(env_.ledger().Deduct(deduct, "staff").ok());

  RankingProjector projector(&env_.pool(), &projection_);
  absl::StatusOr<ProjectionRun> reached = projector.CatchUp();
  ASSERT_TRUE(reached.ok()) << reached.status();
  EXPECT_EQ(reached->watermark, env_.Sql("SELECT max(sequence) FROM ledger.entries"));
  EXPECT_EQ(Board("street:s_qingyuan|all"), (std::vector<std::string>{"p4:10", "p1:6", "p2:5"}));
  EXPECT_EQ(Board("community:c_west|" + Month()), (std::vector<std::string>{"p4:10", "p1:6"}));
  EXPECT_EQ(Board("community:c_east|all"), (std::vector<std::string>{"p2:5"}));
  EXPECT_EQ(Board("city|all"), (std::vector<std::string>{"p4:10", "p3:7", "p1:6", "p2:5"}));

  // Nothing new: a second pass changes nothing; Redis flushed: the journal is replayed.
  ASSERT_TRUE(projector.CatchUp().ok());
  EXPECT_EQ(Board("city|all"), (std::vector<std::string>{"p4:10", "p3:7", "p1:6", "p2:5"}));
  ASSERT_TRUE(env_.redis().Command({"FLUSHALL"}).ok());
  ASSERT_TRUE(projector.CatchUp().ok());
  EXPECT_EQ(Board("city|all"), (std::vector<std::string>{"p4:10", "p3:7", "p1:6", "p2:5"}));
}

TEST_F(RankingProjectorTest, ALongJournalIsAppliedInBoundedPassesAndSeasonsCountTheirRange) {
  const absl::Time now = absl::Now();
  v1::CreateSeasonRequest create;
  create.set_idempotency_key("season-1");
  create.set_display_name("冬季");
  create.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  create.mutable_scope()->set_org_id("s_qingyuan");
  create.mutable_start_time()->set_seconds(absl::ToUnixSeconds(now - absl::Hours(24)));
  create.mutable_end_time()->set_seconds(absl::ToUnixSeconds(now + absl::Hours(24)));
  absl::StatusOr<v1::Season> season = env_.ledger().CreateSeason(create, "staff");
  ASSERT_TRUE(season.ok()) << season.status();
  for (int i = 0; i < 23; ++i) {
    Award(absl::StrCat("k", i), absl::StrCat("p", i % 5), 1 + i,
          i % 2 == 0 ? Path("s_qingyuan", "c_west") : Path("s_xinwang", "c_far"));
  }
  RankingProjector projector(&env_.pool(), &projection_, {.max_entries_per_pass = 4});
  ASSERT_TRUE(projector.CatchUp().ok());
  // p0: 1+11+21 = 33 and p2 (i=2,12,22): 3+13+23 = 39 and p4 (4,14): 5+15 = 20, p1 (6,16) ...
  int64_t total = 0;
  int64_t sum = 0;
  auto city = projection_.Range("city|all", 0, 10, &total);
  ASSERT_TRUE(city.ok());
  for (const RankingPlace& p : *city) sum += p.points;
  EXPECT_EQ(total, 5);
  EXPECT_EQ(sum, 23 * 24 / 2);
  // The season counts only its street's awards (i even: 1+3+...+23 = 144).
  auto in_season = projection_.Range("street:s_qingyuan|season:" + season->season_id(), 0, 10);
  ASSERT_TRUE(in_season.ok());
  sum = 0;
  for (const RankingPlace& p : *in_season) sum += p.points;
  EXPECT_EQ(sum, 144);
  EXPECT_EQ(Board("community:c_west|season:" + season->season_id()).size(), 5u);
  EXPECT_TRUE(Board("street:s_xinwang|season:" + season->season_id()).empty());

  // A season created after its entries were applied is filled from the journal, once.
  create.set_idempotency_key("season-2");
  create.mutable_scope()->set_org_id("s_xinwang");
  absl::StatusOr<v1::Season> late = env_.ledger().CreateSeason(create, "staff");
  ASSERT_TRUE(late.ok()) << late.status();
  Award("after", "p9", 100, Path("s_xinwang", "c_far"));
  projector.SeasonsChanged();  // this projector is not the ledger's, which was told
  for (int pass = 0; pass < 2; ++pass) {
    ASSERT_TRUE(projector.CatchUp().ok());
    auto far = projection_.Range("street:s_xinwang|season:" + late->season_id(), 0, 10);
    ASSERT_TRUE(far.ok());
    sum = 0;
    for (const RankingPlace& p : *far) sum += p.points;
    EXPECT_EQ(sum, 23 * 24 / 2 - 144 + 100);
  }
}

TEST_F(RankingProjectorTest, WaitersSeeTheirAwardAndDoNotWaitWhileRedisIsDown) {
  RankingProjector projector(&env_.pool(), &projection_,
                             {.idle_poll = absl::Seconds(30), .retry = absl::Milliseconds(100)});
  projector.Start();
  const v1::AwardResponse award = Award("w1", "p1", 3, Path("s_qingyuan", "c_west"));
  int64_t sequence = 0;
  ASSERT_TRUE(absl::SimpleAtoi(award.entry().entry_id(), &sequence));
  EXPECT_TRUE(projector.WaitFor(sequence, absl::Seconds(5)));
  EXPECT_EQ(Board("city|all"), (std::vector<std::string>{"p1:3"}));

  env_.redis_server().Stop();
  const v1::AwardResponse during = Award("w2", "p2", 4, Path("s_qingyuan", "c_west"));
  ASSERT_TRUE(absl::SimpleAtoi(during.entry().entry_id(), &sequence));
  const absl::Time t0 = absl::Now();
  EXPECT_FALSE(projector.WaitFor(sequence, absl::Seconds(5)));
  EXPECT_LT(absl::Now() - t0, absl::Seconds(3)) << "a waiter must not wait on a Redis that is down";
  ASSERT_TRUE(env_.redis_server().Start());
  // Back: the projector retries on its own and the waiter gets its award.
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  while (!projector.WaitFor(sequence, absl::Seconds(1)) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_GE(projector.applied(), sequence);
  EXPECT_EQ(Board("city|all"), (std::vector<std::string>{"p2:4", "p1:3"}));
}

// The city's totals in the projection against the journal's.
void ExpectCityMatchesTheJournal(LedgerTestEnv& env, RankingProjection& projection) {
  auto city = projection.Range("city|all", 0, 1000);
  ASSERT_TRUE(city.ok()) << city.status();
  std::map<std::string, int64_t> got;
  for (const RankingPlace& p : *city) got[p.person_id] = p.points;
  pqxx::connection c(env.db_url());
  pqxx::read_transaction tx(c);
  std::map<std::string, int64_t> want;
  for (const auto& row : tx.exec("SELECT person_id, sum(earned_delta) FROM ledger.entries "
                                 "GROUP BY person_id HAVING sum(earned_delta) > 0")) {
    want[row[0].c_str()] = row[1].as<int64_t>();
  }
  EXPECT_EQ(got, want);
}

TEST_F(RankingProjectorTest, AnAwardWhoseAnswerWasLostReachesTheRankingsExactlyOnce) {
  // Redis is down when the award commits: the caller gets its answer late or not at all, and
  // retries with its key.
  env_.redis_server().Stop();
  Award("lost-answer", "p1", 7, Path("s_qingyuan", "c_west"));
  Award("lost-answer", "p1", 7, Path("s_qingyuan", "c_west"));
  ASSERT_TRUE(env_.redis_server().Start());
  const int64_t head = env_.Sql("SELECT max(sequence) FROM ledger.entries");
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  while (!env_.projector().WaitFor(head, absl::Seconds(1)) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Board("city|all"), (std::vector<std::string>{"p1:7"}));
  // Another projector (a restarted ledger) applies nothing twice.
  RankingProjector again(&env_.pool(), &projection_);
  ASSERT_TRUE(again.CatchUp().ok());
  ASSERT_TRUE(again.CatchUp().ok());
  EXPECT_EQ(Board("city|all"), (std::vector<std::string>{"p1:7"}));
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM ledger.entries"), 1);
}

TEST_F(RankingProjectorTest, ARebuildDuringAwardsConverges) {
  std::atomic<int> next{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = next++; i < 200; i = next++) {
        Award(absl::StrCat("k", i), absl::StrCat("p", i % 23), 1 + i % 11,
              Path("s_qingyuan", i % 2 ? "c_west" : "c_east"));
      }
    });
  }
  for (int r = 0; r < 3; ++r) {
    absl::StatusOr<v1::RebuildRankingsResponse> rebuilt = env_.ledger().RebuildRankings();
    EXPECT_TRUE(rebuilt.ok()) << rebuilt.status();
  }
  for (std::thread& w : writers) w.join();
  ASSERT_TRUE(env_.projector().CatchUp().ok());
  ExpectCityMatchesTheJournal(env_, projection_);
}

TEST_F(RankingProjectorTest, ASeasonCreatedDuringARunCountsExactlyTheAwardsInItsRange) {
  const absl::Time now = absl::Now();
  std::atomic<int> next{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = next++; i < 160; i = next++) {
        Award(absl::StrCat("k", i), absl::StrCat("p", i % 17), 1 + i % 5,
              Path(i % 3 ? "s_qingyuan" : "s_xinwang", "c_" + std::to_string(i % 4)));
      }
    });
  }
  // The season comes once a quarter of the awards are in, with the rest still coming.
  while (next.load() < 40) absl::SleepFor(absl::Milliseconds(1));
  v1::CreateSeasonRequest create;
  create.set_idempotency_key("mid-run");
  create.set_display_name("冬季");
  create.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  create.mutable_scope()->set_org_id("s_qingyuan");
  create.mutable_start_time()->set_seconds(absl::ToUnixSeconds(now - absl::Hours(1)));
  create.mutable_end_time()->set_seconds(absl::ToUnixSeconds(now + absl::Hours(1)));
  absl::StatusOr<v1::Season> season = env_.ledger().CreateSeason(create, "staff");
  ASSERT_TRUE(season.ok()) << season.status();
  for (std::thread& w : writers) w.join();
  ASSERT_TRUE(env_.projector().CatchUp().ok());
  auto board = projection_.Range("street:s_qingyuan|season:" + season->season_id(), 0, 100);
  ASSERT_TRUE(board.ok()) << board.status();
  std::map<std::string, int64_t> got;
  for (const RankingPlace& p : *board) got[p.person_id] = p.points;
  pqxx::connection c(env_.db_url());
  pqxx::read_transaction tx(c);
  std::map<std::string, int64_t> want;
  for (const auto& row : tx.exec("SELECT person_id, sum(earned_delta) FROM ledger.entries "
                                 "WHERE street_id = 's_qingyuan' GROUP BY person_id")) {
    want[row[0].c_str()] = row[1].as<int64_t>();
  }
  EXPECT_EQ(got, want);
}

TEST_F(RankingProjectorTest, ARebuildOfOneScopeOrPeriodRewritesOnlyTheRankingsItNames) {
  Award("a", "p1", 10, Path("s_qingyuan", "c_west"));
  Award("b", "p2", 20, Path("s_xinwang", "c_far"));
  ASSERT_TRUE(env_.projector().CatchUp().ok());
  // Damage two streets' rankings behind the projection's back.
  for (const char* street : {"s_qingyuan", "s_xinwang"}) {
    const std::string key = absl::StrCat("street:", street, "|all");
    ASSERT_TRUE(
        env_.redis().Command({"ZADD", "cp:rk:{" + key + "}:z", "99999999999", "ghost"}).ok());
    ASSERT_TRUE(env_.redis().Command({"HSET", "cp:rk:{" + key + "}:p", "ghost", "90:1:0"}).ok());
  }
  v1::RebuildRankingsRequest req;
  req.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  req.mutable_scope()->set_org_id("s_qingyuan");
  absl::StatusOr<v1::RebuildRankingsResponse> rebuilt = env_.ledger().RebuildRankings(req);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(rebuilt->rankings_rebuilt(), 3);  // all time, this month, this week
  EXPECT_EQ(rebuilt->members_written(), 3);
  EXPECT_EQ(rebuilt->as_of_sequence(), env_.Sql("SELECT max(sequence) FROM ledger.entries"));
  EXPECT_EQ(Board("street:s_qingyuan|all"), (std::vector<std::string>{"p1:10"}));
  EXPECT_EQ(Board("street:s_xinwang|all"), (std::vector<std::string>{"ghost:90", "p2:20"}));

  // One period in every scope: the other street's all-time ranking comes right too.
  req.clear_scope();
  req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  rebuilt = env_.ledger().RebuildRankings(req);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(Board("street:s_xinwang|all"), (std::vector<std::string>{"p2:20"}));
  EXPECT_EQ(Board("city|all"), (std::vector<std::string>{"p2:20", "p1:10"}));
  // Later awards still count once in what was rebuilt.
  Award("c", "p1", 15, Path("s_qingyuan", "c_west"));
  ASSERT_TRUE(env_.projector().CatchUp().ok());
  EXPECT_EQ(Board("city|all"), (std::vector<std::string>{"p1:25", "p2:20"}));

  // Bad requests.
  req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_SEASON);
  req.mutable_period()->set_key("season-404");
  EXPECT_EQ(env_.ledger().RebuildRankings(req).status().code(), absl::StatusCode::kNotFound);
  req.clear_period();
  req.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  EXPECT_EQ(env_.ledger().RebuildRankings(req).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace civicpoints::ledger

namespace civicpoints::ledger {
namespace {

// Every ranking in Redis: each sorted set's members with their scores and each sums hash.
std::map<std::string, std::string> DumpRankings(redis::RedisClient& redis) {
  std::map<std::string, std::string> out;
  std::string cursor = "0";
  do {
    absl::StatusOr<redis::RedisReply> page =
        redis.Command({"SCAN", cursor, "MATCH", "cp:rk:{*", "COUNT", "1000"});
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return out;
    cursor = page->elements[0].str;
    for (const redis::RedisReply& key : page->elements[1].elements) {
      const bool sorted = absl::EndsWith(key.str, ":z");
      if (!sorted && !absl::EndsWith(key.str, ":p")) continue;  // watermarks may differ
      absl::StatusOr<redis::RedisReply> all =
          sorted ? redis.Command({"ZRANGE", key.str, "0", "-1", "WITHSCORES"})
                 : redis.Command({"HGETALL", key.str});
      EXPECT_TRUE(all.ok()) << all.status();
      if (!all.ok()) continue;
      std::map<std::string, std::string> pairs;
      for (size_t i = 0; i + 1 < all->elements.size(); i += 2) {
        pairs[all->elements[i].str] = all->elements[i + 1].str;
      }
      std::string text;
      for (const auto& [member, value] : pairs) absl::StrAppend(&text, member, "=", value, " ");
      out[key.str] = text;
    }
  } while (cursor != "0");
  return out;
}

TEST_F(RankingProjectorTest, ARebuildWritesExactlyWhatThePassesWrote) {
  // Months and weeks apart, equal points reached in different orders, a reversal of an award
  // in an earlier month, a deduction, two seasons (one made after the awards it covers).
  const absl::Time now = absl::Now();
  v1::CreateSeasonRequest season;
  season.set_idempotency_key("s1");
  season.set_display_name("秋");
  season.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  season.mutable_scope()->set_org_id("s_qingyuan");
  season.mutable_start_time()->set_seconds(absl::ToUnixSeconds(now - absl::Hours(24 * 50)));
  season.mutable_end_time()->set_seconds(absl::ToUnixSeconds(now + absl::Hours(24)));
  ASSERT_TRUE(env_.ledger().CreateSeason(season, "staff").ok());
  std::string early_award;
  for (int i = 0; i < 60; ++i) {
    v1::AwardRequest r;
    r.set_idempotency_key(absl::StrCat("x", i));
    r.set_person_id(absl::StrCat("p", i % 9));
    r.set_amount(1 + i % 4);
    r.set_source_kind(v1::SOURCE_KIND_ACTIVITY_ATTENDANCE);
    r.set_source_id(absl::StrCat("x", i));
    r.set_verified_by_person_id("staff_1");
    r.set_points_rule_id("rule_1");
    *r.mutable_org_path() = Path(i % 3 ? "s_qingyuan" : "s_xinwang", absl::StrCat("c_", i % 4));
    r.mutable_occur_time()->set_seconds(absl::ToUnixSeconds(now - absl::Hours(24 * (i % 5) * 9)));
    absl::StatusOr<v1::AwardResponse> got = env_.ledger().Award(r, "svc:activity");
    ASSERT_TRUE(got.ok()) << got.status();
    if (i == 4) early_award = got->entry().entry_id();
  }
  v1::ReverseRequest reverse;
  reverse.set_idempotency_key("rev");
  reverse.set_entry_id(early_award);
  reverse.set_reason("recorded twice");
  ASSERT_TRUE(env_.ledger().Reverse(reverse, "staff").ok());
  v1::DeductRequest deduct;
  deduct.set_idempotency_key("ded");
  deduct.set_person_id("p1");
  deduct.set_amount(3);
  deduct.set_reason("correction");
  ASSERT_TRUE(env_.ledger().Deduct(deduct, "staff").ok());
  season.set_idempotency_key("s2");
  season.mutable_scope()->set_level(common::v1::ORG_LEVEL_CITY);
  season.mutable_scope()->clear_org_id();
  season.mutable_start_time()->set_seconds(absl::ToUnixSeconds(now - absl::Hours(24 * 20)));
  ASSERT_TRUE(env_.ledger().CreateSeason(season, "staff").ok());

  ASSERT_TRUE(env_.projector().CatchUp().ok());
  const std::map<std::string, std::string> passes = DumpRankings(env_.redis());
  ASSERT_GT(passes.size(), 40u);
  absl::StatusOr<std::pair<int64_t, ProjectionRun>> rebuilt = env_.projector().Rebuild();
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(DumpRankings(env_.redis()), passes);
}

TEST_F(RankingProjectorTest, TwoLedgerProcessesTakeTurnsAndEachSeesItsOwnAwards) {
  // A second ledger process's projector over the same journal and Redis: the two share the lease,
  // each waiter sees its award, and every award counts once.
  RankingProjection other_projection(&env_.redis());
  RankingProjector other(&env_.pool(), &other_projection, {.idle_poll = absl::Milliseconds(5)});
  other.Start();
  std::atomic<int> next{0};
  std::atomic<int> unseen{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      RankingProjector& mine = t % 2 ? other : env_.projector();
      for (int i = next++; i < 160; i = next++) {
        const v1::AwardResponse a = Award(absl::StrCat("k", i), absl::StrCat("p", i % 13),
                                          1 + i % 6, Path("s_qingyuan", "c_west"));
        if (!mine.WaitFor(a.entry().sequence(), absl::Seconds(5))) ++unseen;
      }
    });
  }
  for (std::thread& w : writers) w.join();
  EXPECT_EQ(unseen.load(), 0);
  ASSERT_TRUE(other.CatchUp().ok());
  ASSERT_TRUE(env_.projector().CatchUp().ok());
  ExpectCityMatchesTheJournal(env_, projection_);
  other.Stop();
}

TEST_F(RankingProjectorTest, AProjectorStartingOverAnEmptyRedisRebuildsAtOnce) {
  // As `make run` restarts its Redis empty: the first pass runs at start, not at the first poll.
  Award("a1", "p1", 7, Path("s_qingyuan", "c_west"));
  Award("a2", "p2", 9, Path("s_qingyuan", "c_west"));
  ASSERT_TRUE(env_.projector().CatchUp().ok());
  env_.projector().Stop();
  ASSERT_TRUE(env_.redis().Command({"FLUSHALL"}).ok());
  RankingProjector fresh(&env_.pool(), &projection_, {.idle_poll = absl::Seconds(30)});
  const absl::Time started = absl::Now();
  fresh.Start();
  EXPECT_TRUE(fresh.WaitForFirstCatchUp(absl::Seconds(5)));
  EXPECT_LT(absl::Now() - started, absl::Seconds(5));
  EXPECT_EQ(Board("city|all"), (std::vector<std::string>{"p2:9", "p1:7"}));
  fresh.Stop();
}

}  // namespace
}  // namespace civicpoints::ledger
