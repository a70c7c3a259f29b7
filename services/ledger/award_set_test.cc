// Awards in sets (award_set.h) against a real PostgreSQL: what the process computes is what the
// database would have, refusals are decided per call, and a set that fails runs its calls alone.
#include "services/ledger/award_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <pqxx/pqxx>
#include <thread>

#include "google/protobuf/util/message_differencer.h"
#include "services/ledger/ledger_test_env.h"

namespace civicpoints::ledger {
namespace {

using ::testing::HasSubstr;

class AwardSetTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.ok()); }

  static v1::AwardRequest AwardReq(const std::string& key, const std::string& person,
                                   int64_t amount, const std::string& source,
                                   const std::string& reason) {
    v1::AwardRequest r;
    r.set_idempotency_key(key);
    r.set_person_id(person);
    r.set_amount(amount);
    r.set_source_kind(v1::SOURCE_KIND_ACTIVITY_ATTENDANCE);
    r.set_source_id(source);
    r.set_verified_by_person_id("staff_1");
    r.set_points_rule_id("rule_1");
    r.mutable_org_path()->set_district_id("d_pingcheng");
    r.mutable_org_path()->set_street_id("s_qingyuan");
    r.mutable_org_path()->set_community_id("c_west");
    r.set_reason(reason);
    return r;
  }

  int64_t Sql(const std::string& query) { return env_.Sql(query); }

  LedgerTestEnv env_;
};

TEST_F(AwardSetTest, EntriesWrittenInSetsAreWhatTheDatabaseWouldHaveWritten) {
  // Many riders awarded at once, several times each in one batch, with reasons of several
  // scripts, odd microseconds, bulk awards and corrections without a source.
  constexpr int kThreads = 16;
  constexpr int kAwardsPerThread = 15;
  const char* const kReasons[] = {"环境整治", "a", "", "🚲 骑手驿站", "naïve ç"};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  std::vector<v1::Entry> answered(kThreads * kAwardsPerThread);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAwardsPerThread; ++i) {
        v1::AwardRequest r =
            AwardReq(absl::StrCat("set-", t, "-", i), absl::StrCat("rider-", i % 4),
                     1 + (t + i) % 7, absl::StrCat("act-", t, "-", i), kReasons[(t + i) % 5]);
        if (i % 5 == 1) {
          r.mutable_occur_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 3600 - i);
          r.mutable_occur_time()->set_nanos(123456789 + t);
        }
        if (i % 7 == 3) {
          r.set_source_kind(v1::SOURCE_KIND_CORRECTION);
          r.clear_source_id();
        }
        absl::StatusOr<v1::AwardResponse> got = env_.ledger().Award(r, "svc:activity");
        if (!got.ok()) {
          ++failures;
          ADD_FAILURE() << got.status();
          continue;
        }
        answered[t * kAwardsPerThread + i] = got->entry();
      }
      v1::BulkAwardRequest bulk;
      bulk.set_idempotency_key(absl::StrCat("bulk-", t));
      bulk.set_source_kind(v1::SOURCE_KIND_POST_SHIFT);
      bulk.set_source_id(absl::StrCat("post-", t));
      bulk.set_verified_by_person_id("staff_2");
      bulk.set_points_rule_id("rule_2");
      bulk.set_reason("楼道长");
      for (int p = 0; p < 3; ++p) {
        v1::BulkAwardItem* item = bulk.add_items();
        item->set_person_id(absl::StrCat("rider-", (t + p) % 6));
        item->set_amount(2 + p);
        *item->mutable_org_path() = AwardReq("", "", 1, "", "").org_path();
      }
      if (!env_.ledger().BulkAward(bulk, "svc:governance").ok()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  EXPECT_GT(env_.committer().stats().set_items, 0);

  // Every stored hash is the one entry_hash() computes, and every chain holds.
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.entries e WHERE e.hash <> ledger.entry_hash(e)"), 0);
  absl::StatusOr<v1::VerifyJournalResponse> verified = env_.ledger().VerifyJournal({});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->intact());
  EXPECT_EQ(verified->entries_checked(), kThreads * kAwardsPerThread + kThreads * 3);
  // Each account is the sum of its journal; an account's entries follow the journal's order.
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.accounts a WHERE a.available <> "
                "(SELECT sum(available_delta) FROM ledger.entries e WHERE e.person_id = "
                "a.person_id) OR a.earned <> a.gross_earned OR a.entry_count <> "
                "(SELECT count(*) FROM ledger.entries e WHERE e.person_id = a.person_id)"),
            0);
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.entries a JOIN ledger.entries b "
                "ON a.person_id = b.person_id AND a.account_sequence < b.account_sequence "
                "AND a.sequence > b.sequence"),
            0);
  // The answer a caller got is the entry as stored, field for field.
  for (const v1::Entry& e : answered) {
    absl::StatusOr<v1::Entry> stored = env_.ledger().GetEntry(e.entry_id());
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(e, *stored))
        << e.DebugString() << " vs " << stored->DebugString();
  }
}

TEST_F(AwardSetTest, OneSourceSentUnderManyKeysAtOnceIsAwardedOnce) {
  for (int round = 0; round < 4; ++round) {
    const std::string rider = absl::StrCat("twice-", round);
    std::atomic<int> awarded{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        absl::StatusOr<v1::AwardResponse> r = env_.ledger().Award(
            AwardReq(absl::StrCat("dup-", round, "-", t), rider, 3, "one-activity", "x"), "svc");
        if (r.ok()) {
          ++awarded;
        } else if (r.status().code() == absl::StatusCode::kAlreadyExists) {
          EXPECT_THAT(r.status().message(), HasSubstr("already has award"));
          ++refused;
        } else {
          ADD_FAILURE() << r.status();
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(awarded.load(), 1);
    EXPECT_EQ(refused.load(), 7);
    EXPECT_EQ(
        Sql(absl::StrCat("SELECT count(*) FROM ledger.entries WHERE person_id = '", rider, "'")),
        1);
  }
}

TEST_F(AwardSetTest, AnAwardOverTheAccountsBoundIsRefusedAndWritesNothing) {
  ASSERT_TRUE(env_.ledger().Award(AwardReq("near-1", "near", 5, "a1", "x"), "svc").ok());
  env_.Change(
      "UPDATE ledger.accounts SET available = 999999999998, earned = 999999999998, "
      "gross_earned = 999999999998 WHERE person_id = 'near'");
  absl::StatusOr<v1::AwardResponse> over =
      env_.ledger().Award(AwardReq("near-2", "near", 5, "a2", "x"), "svc");
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted) << over.status();
  EXPECT_THAT(over.status().message(), HasSubstr("would exceed 1000000000000 points"));
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.entries"), 1);
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.idempotency_keys"), 1);
}

// A runner that refuses every set (as a set whose statement the database failed), or sends each
// item's first try to a later batch.
class StubbornRunner : public SetRunner {
 public:
  explicit StubbornRunner(bool fail) : fail_(fail) {}
  absl::Status RunSet(pqxx::dbtransaction& tx, const std::vector<SetItem*>& items) override {
    ++sets;
    if (fail_) {
      // A prepared statement, as the store runs them: the transaction is left failed.
      tx.conn().prepare("divide_by_zero", "SELECT 1/0");
      tx.exec_prepared("divide_by_zero");
      return absl::OkStatus();
    }
    for (SetItem* item : items) {
      item->result = ++tries[item] == 1 ? absl::AbortedError("later") : absl::OkStatus();
    }
    return absl::OkStatus();
  }
  std::atomic<int> sets{0};
  std::map<SetItem*, int> tries;

 private:
  const bool fail_;
};

TEST_F(AwardSetTest, ASetThatFailsRunsItsCallsOneAtATimeAndAnItemCanWaitForTheNextBatch) {
  GroupCommitter committer(&env_.pool(), GroupCommitOptions{.committers = 1});
  StubbornRunner failing(true);
  SetItem item;
  item.runner = &failing;
  int unit_runs = 0;
  absl::Status s = committer.Run(
      "k",
      [&](pqxx::dbtransaction& tx) {
        ++unit_runs;
        tx.exec("SELECT 1");  // in a transaction that works
        return absl::OkStatus();
      },
      &item);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(unit_runs, 1);
  EXPECT_EQ(failing.sets.load(), 1);
  EXPECT_EQ(committer.stats().set_fallbacks, 1);

  StubbornRunner later(false);
  SetItem waits;
  waits.runner = &later;
  s = committer.Run(
      "k",
      [&](pqxx::dbtransaction&) {
        ++unit_runs;
        return absl::OkStatus();
      },
      &waits);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(unit_runs, 1);  // both tries ran in sets
  EXPECT_EQ(later.sets.load(), 2);
  EXPECT_EQ(committer.stats().set_items, 2);
}

}  // namespace
}  // namespace civicpoints::ledger
