// The ledger against a real PostgreSQL (a scratch database per test) and a Redis of its own.
#include "services/ledger/ledger.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "civicpoints/ledger/v1/events.pb.h"
#include "services/ledger/journal_events.h"
#include "services/ledger/ledger_test_env.h"
#include "services/ledger/ranking_keys.h"
#include "services/ledger/ranking_names.h"

namespace civicpoints::ledger {
namespace {

using ::testing::HasSubstr;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    ledger_ = &env_.ledger();
    redis_ = &env_.redis();
    committer_ = &env_.committer();
  }

  static common::v1::OrgPath Path(const std::string& community = "c_west") {
    common::v1::OrgPath p;
    p.set_district_id("d_pingcheng");
    p.set_street_id("s_qingyuan");
    p.set_community_id(community);
    return p;
  }

  static v1::AwardRequest AwardReq(const std::string& key, const std::string& person,
                                   int64_t amount, const std::string& source = "") {
    v1::AwardRequest r;
    r.set_idempotency_key(key);
    r.set_person_id(person);
    r.set_amount(amount);
    r.set_source_kind(v1::SOURCE_KIND_ACTIVITY_ATTENDANCE);
    r.set_source_id(source.empty() ? key : source);
    r.set_verified_by_person_id("staff_1");
    r.set_points_rule_id("rule_1");
    *r.mutable_org_path() = Path();
    r.set_reason("环境整治");
    return r;
  }

  v1::Account Balance(const std::string& person) { return *ledger_->GetBalance(person); }

  int64_t Sql(const std::string& query) { return env_.Sql(query); }

  LedgerTestEnv env_;
  Ledger* ledger_ = nullptr;
  redis::RedisClient* redis_ = nullptr;
  GroupCommitter* committer_ = nullptr;
};

TEST_F(LedgerTest, AwardCreditsTheAccountAndARetryReturnsTheFirstResult) {
  absl::StatusOr<v1::AwardResponse> first = ledger_->Award(AwardReq("k1", "p1", 5), "svc:activity");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->account().available(), 5);
  EXPECT_EQ(first->entry().available_after(), 5);
  EXPECT_EQ(first->entry().reason(), "环境整治");
  EXPECT_EQ(first->entry().hash().size(), 32u);
  absl::StatusOr<v1::AwardResponse> again = ledger_->Award(AwardReq("k1", "p1", 5), "svc:activity");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->entry().entry_id(), first->entry().entry_id());
  EXPECT_EQ(Balance("p1").available(), 5);
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.entries"), 1);
}

TEST_F(LedgerTest, PostingWorksWhateverTheCallersSearchPath) {
  pqxx::connection c(env_.db_url());  // default search_path, not the ledger schema
  pqxx::work tx(c);
  EXPECT_NO_THROW(tx.exec(
      "SELECT ledger.post_entry('p9', true, 1::smallint, 5, 5, 0, 5, 1::smallint, 's', 'r', 'v', "
      "'d', 's', 'c', '', 'svc', '', '', '', NULL)"));
}

TEST_F(LedgerTest, SameKeyWithADifferentRequestIsRefused) {
  ASSERT_TRUE(ledger_->Award(AwardReq("k1", "p1", 5), "svc").ok());
  absl::Status s = ledger_->Award(AwardReq("k1", "p1", 6), "svc").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("different Award request"));
  EXPECT_EQ(Balance("p1").available(), 5);
}

TEST_F(LedgerTest, SecondAwardForTheSameSourceUnderAnotherKeyIsRefused) {
  ASSERT_TRUE(ledger_->Award(AwardReq("k1", "p1", 5, "activity/a1"), "svc").ok());
  absl::Status s = ledger_->Award(AwardReq("k2", "p1", 5, "activity/a1"), "svc").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Balance("p1").available(), 5);
}

TEST_F(LedgerTest, BadAwardsAreRefusedPreciselyAndWriteNothing) {
  struct Case {
    std::function<void(v1::AwardRequest&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.set_amount(0); }, "amount: must be 1-1000000"},
      {[](auto& r) { r.set_amount(-3); }, "amount: must be 1-1000000"},
      {[](auto& r) { r.set_amount(1000001); }, "amount: must be 1-1000000"},
      {[](auto& r) { r.clear_idempotency_key(); }, "idempotency_key: is required"},
      {[](auto& r) { r.set_idempotency_key("has space"); }, "printable ASCII"},
      {[](auto& r) { r.clear_person_id(); }, "person_id: is required"},
      {[](auto& r) { r.clear_org_path(); }, "org_path: must name"},
      {[](auto& r) { r.set_source_kind(v1::SOURCE_KIND_UNSPECIFIED); }, "source_kind: is required"},
      {[](auto& r) { r.clear_verified_by_person_id(); }, "verified_by_person_id: is required"},
      {[](auto& r) {
         r.mutable_occur_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 3600);
       },
       "occur_time: is in the future"},
      {[](auto& r) { r.set_reason(std::string(501, 'x')); }, "reason: is longer"},
  };
  for (const Case& c : cases) {
    v1::AwardRequest r = AwardReq("k", "p1", 5);
    c.mutate(r);
    absl::Status s = ledger_->Award(r, "svc").status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(s.message(), HasSubstr(c.message));
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.entries"), 0);
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.accounts"), 0);
}

v1::HoldRequest HoldReq(const std::string& key, const std::string& order, const std::string& person,
                        int64_t amount) {
  v1::HoldRequest r;
  r.set_idempotency_key(key);
  r.set_order_id(order);
  r.set_person_id(person);
  r.set_amount(amount);
  return r;
}

v1::CaptureRequest CaptureReq(const std::string& key, const std::string& order) {
  v1::CaptureRequest r;
  r.set_idempotency_key(key);
  r.set_order_id(order);
  return r;
}

v1::ReleaseRequest ReleaseReq(const std::string& key, const std::string& order) {
  v1::ReleaseRequest r;
  r.set_idempotency_key(key);
  r.set_order_id(order);
  return r;
}

TEST_F(LedgerTest, HoldCaptureAndReleaseMoveBalancesOnceAndRefuseWrongStates) {
  ASSERT_TRUE(ledger_->Award(AwardReq("a", "p1", 109), "svc").ok());
  // More than the balance: refused, nothing held.
  absl::Status big = ledger_->Hold(HoldReq("h0", "o0", "p1", 110), "svc:rewards").status();
  EXPECT_EQ(big.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(big.message(), HasSubstr("not enough points"));
  EXPECT_EQ(ledger_->Hold(HoldReq("hx", "ox", "nobody", 1), "svc").status().code(),
            absl::StatusCode::kNotFound);

  auto held = ledger_->Hold(HoldReq("h1", "o1", "p1", 30), "svc:rewards");
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->account().available(), 79);
  EXPECT_EQ(held->account().held(), 30);
  EXPECT_EQ(ledger_->Hold(HoldReq("h1-other", "o1", "p1", 30), "svc").status().code(),
            absl::StatusCode::kAlreadyExists);

  auto captured = ledger_->Capture(CaptureReq("c1", "o1"), "svc:rewards");
  ASSERT_TRUE(captured.ok()) << captured.status();
  EXPECT_EQ(captured->account().held(), 0);
  EXPECT_EQ(captured->account().lifetime_spent(), 30);
  EXPECT_EQ(captured->hold().state(), v1::HOLD_STATE_CAPTURED);
  EXPECT_EQ(ledger_->Capture(CaptureReq("c1", "o1"), "svc:rewards")->entry().entry_id(),
            captured->entry().entry_id());  // retry by the same caller: same result
  EXPECT_THAT(ledger_->Capture(CaptureReq("c2", "o1"), "svc").status().message(),
              HasSubstr("already captured"));
  EXPECT_EQ(ledger_->Release(ReleaseReq("r1", "o1"), "svc").status().code(),
            absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(ledger_->Hold(HoldReq("h2", "o2", "p1", 9), "svc").ok());
  auto released = ledger_->Release(ReleaseReq("r2", "o2"), "svc");
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->account().available(), 79);
  // Releasing again under a new key succeeds without moving points; capture is refused.
  auto again = ledger_->Release(ReleaseReq("r3", "o2"), "svc");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->entry().entry_id(), released->entry().entry_id());
  EXPECT_THAT(ledger_->Capture(CaptureReq("c3", "o2"), "svc").status().message(),
              HasSubstr("was released"));
  EXPECT_EQ(ledger_->Capture(CaptureReq("c4", "nope"), "svc").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Balance("p1").available(), 79);
  EXPECT_EQ(Balance("p1").net_earned(), 109);  // spending never lowers earned points
}

TEST_F(LedgerTest, HoldPastItsTimeoutIsReleasedByTheLedger) {
  ASSERT_TRUE(ledger_->Award(AwardReq("a", "p1", 20), "svc").ok());
  v1::HoldRequest req = HoldReq("h", "o1", "p1", 15);
  req.mutable_timeout()->set_seconds(60);
  ASSERT_TRUE(ledger_->Hold(req, "svc").ok());
  env_.Change("UPDATE ledger.holds SET expire_time = now() - interval '1 second'");
  absl::StatusOr<int> released = ledger_->ReleaseDueHolds();
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(*released, 1);
  EXPECT_TRUE(ledger_->GetHold("o1")->expired());
  EXPECT_EQ(Balance("p1").available(), 20);
  EXPECT_THAT(ledger_->Capture(CaptureReq("c", "o1"), "svc").status().message(),
              HasSubstr("timed out"));
}

TEST_F(LedgerTest, ReverseUndoesAnAwardOnceAndLowersItsRankings) {
  auto award = ledger_->Award(AwardReq("a1", "p1", 10), "svc");
  ASSERT_TRUE(award.ok());
  ASSERT_TRUE(ledger_->Award(AwardReq("a2", "p1", 4), "svc").ok());
  v1::ReverseRequest req;
  req.set_idempotency_key("rev1");
  req.set_entry_id(award->entry().entry_id());
  req.set_reason("录入错误");
  auto reversed = ledger_->Reverse(req, "staff_9");
  ASSERT_TRUE(reversed.ok()) << reversed.status();
  EXPECT_EQ(reversed->account().available(), 4);
  EXPECT_EQ(reversed->reversed_entry().reversed_by_entry_id(), reversed->entry().entry_id());
  req.set_idempotency_key("rev2");
  EXPECT_THAT(ledger_->Reverse(req, "staff_9").status().message(), HasSubstr("already reversed"));
  req.set_entry_id(reversed->entry().entry_id());
  EXPECT_THAT(ledger_->Reverse(req, "staff_9").status().message(), HasSubstr("only awards"));

  v1::GetRankRequest rank;
  rank.set_person_id("p1");
  rank.mutable_scope()->set_level(common::v1::ORG_LEVEL_CITY);
  rank.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  EXPECT_EQ(ledger_->GetRank(rank)->entry().score(), 4);
}

TEST_F(LedgerTest, DeductNeedsAReasonAndCannotOverdraw) {
  ASSERT_TRUE(ledger_->Award(AwardReq("a", "p1", 10), "svc").ok());
  v1::DeductRequest req;
  req.set_idempotency_key("d1");
  req.set_person_id("p1");
  req.set_amount(11);
  EXPECT_THAT(ledger_->Deduct(req, "staff").status().message(), HasSubstr("reason: is required"));
  req.set_reason("违规刷分");
  EXPECT_EQ(ledger_->Deduct(req, "staff").status().code(), absl::StatusCode::kFailedPrecondition);
  req.set_amount(3);
  auto done = ledger_->Deduct(req, "staff");
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->account().available(), 7);
  EXPECT_EQ(done->entry().actor_id(), "staff");
}

// The journal as the ledger's outbox: awards, deductions and reversals become events in journal
// order, holds do not, and a read after the watermark rose finds nothing again.
TEST_F(LedgerTest, TheJournalIsReadAsEventsOnceInOrder) {
  auto award = ledger_->Award(AwardReq("a1", "p1", 10), "svc");
  ASSERT_TRUE(award.ok());
  ASSERT_TRUE(ledger_->Award(AwardReq("a0", "p1", 20), "svc").ok());  // enough left to reverse
  v1::HoldRequest hold;
  hold.set_idempotency_key("h1");
  hold.set_person_id("p1");
  hold.set_amount(2);
  hold.set_order_id("o1");
  ASSERT_TRUE(ledger_->Hold(hold, "svc").ok());
  v1::DeductRequest deduct;
  deduct.set_idempotency_key("d1");
  deduct.set_person_id("p1");
  deduct.set_amount(3);
  deduct.set_reason("违规刷分");
  ASSERT_TRUE(ledger_->Deduct(deduct, "staff").ok());
  v1::ReverseRequest reverse;
  reverse.set_idempotency_key("r1");
  reverse.set_entry_id(award->entry().entry_id());
  reverse.set_reason("录入错误");
  ASSERT_TRUE(ledger_->Reverse(reverse, "staff").ok());

  pqxx::connection conn(env_.db_url());
  pqxx::nontransaction(conn).exec("SET search_path TO ledger");
  JournalLog log;
  events::PendingEvents batch = log.Unpublished(conn, 100);
  EXPECT_EQ(batch.read, 5);  // the hold was read and passed over
  ASSERT_EQ(batch.request.events_size(), 4);
  std::vector<std::string> types;
  for (const auto& e : batch.request.events()) types.push_back(e.type());
  EXPECT_EQ(types,
            (std::vector<std::string>{
                "civicpoints.ledger.v1.points_awarded", "civicpoints.ledger.v1.points_awarded",
                "civicpoints.ledger.v1.points_deducted", "civicpoints.ledger.v1.points_reversed"}));
  const events::v1::Event& first = batch.request.events(0);
  v1::PointsPosted posted;
  ASSERT_TRUE(first.data().UnpackTo(&posted));
  EXPECT_EQ(posted.entry_id(), award->entry().entry_id());
  EXPECT_EQ(posted.amount(), 10);
  EXPECT_EQ(posted.available_balance(), 10);
  EXPECT_EQ(first.subject(), "accounts/p1");
  EXPECT_EQ(first.org_path().community_id(), "c_west");
  EXPECT_EQ(first.source(), "/civicpoints/ledger");
  EXPECT_EQ(first.id(), EntryEventId(std::stoll(award->entry().entry_id())));
  EXPECT_EQ(first.id().size(), 36u);
  EXPECT_NE(first.id(), batch.request.events(1).id());
  // A deduction stored without a path counts at the account's.
  EXPECT_EQ(batch.request.events(2).org_path().community_id(), "c_west");
  ASSERT_TRUE(batch.request.events(3).data().UnpackTo(&posted));
  EXPECT_EQ(posted.amount(), -10);
  EXPECT_EQ(posted.reverses_entry_id(), award->entry().entry_id());

  log.MarkPublished(conn, batch);
  EXPECT_EQ(log.Unpublished(conn, 100).read, 0);
  ASSERT_TRUE(ledger_->Award(AwardReq("a2", "p1", 4), "svc").ok());
  EXPECT_EQ(log.Unpublished(conn, 100).request.events_size(), 1);
}

TEST_F(LedgerTest, BulkAwardIsAllOrNothing) {
  ASSERT_TRUE(ledger_->Award(AwardReq("a", "p2", 5, "activity/cleanup"), "svc").ok());
  v1::BulkAwardRequest req;
  req.set_idempotency_key("bulk1");
  req.set_source_kind(v1::SOURCE_KIND_ACTIVITY_ATTENDANCE);
  req.set_source_id("activity/cleanup");
  req.set_verified_by_person_id("staff_1");
  req.set_points_rule_id("rule_1");
  for (const char* p : {"p1", "p2", "p3"}) {
    v1::BulkAwardItem* item = req.add_items();
    item->set_person_id(p);
    item->set_amount(5);
    *item->mutable_org_path() = Path();
  }
  absl::Status s = ledger_->BulkAward(req, "svc").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr("p2"));
  EXPECT_EQ(Balance("p1").available(), 0);
  EXPECT_EQ(Balance("p3").available(), 0);

  req.set_idempotency_key("bulk2");
  req.mutable_items()->DeleteSubrange(1, 1);
  auto ok = ledger_->BulkAward(req, "svc");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->entries_size(), 2);
  EXPECT_EQ(Balance("p1").available(), 5);
  EXPECT_EQ(Balance("p3").available(), 5);
}

TEST_F(LedgerTest, ListEntriesPagesNewestFirstWithFilters) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(ledger_->Award(AwardReq(absl::StrCat("a", i), "p1", i + 1), "svc").ok());
  }
  ASSERT_TRUE(ledger_->Hold(HoldReq("h", "o", "p1", 2), "svc").ok());
  v1::ListEntriesRequest req;
  req.set_person_id("p1");
  req.set_page_size(4);
  auto page1 = ledger_->ListEntries(req);
  ASSERT_TRUE(page1.ok()) << page1.status();
  ASSERT_EQ(page1->entries_size(), 4);
  EXPECT_EQ(page1->entries(0).kind(), v1::ENTRY_KIND_HOLD);
  req.set_page_token(page1->next_page_token());
  auto page2 = ledger_->ListEntries(req);
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(page2->entries_size(), 2);
  EXPECT_EQ(page2->entries(1).amount(), 1);

  req.add_kinds(v1::ENTRY_KIND_AWARD);  // the token no longer matches the filters
  EXPECT_THAT(ledger_->ListEntries(req).status().message(), HasSubstr("page_token"));
  req.clear_page_token();
  EXPECT_EQ(ledger_->ListEntries(req)->entries(0).kind(), v1::ENTRY_KIND_AWARD);
}

TEST_F(LedgerTest, VerifyJournalFindsTheFirstEditedEntry) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(ledger_->Award(AwardReq(absl::StrCat("a", i), "p1", 5), "svc").ok());
  }
  EXPECT_TRUE(ledger_->VerifyJournal({})->intact());
  {
    // Someone with database superuser rights bypasses the append-only trigger.
    pqxx::connection c(env_.db_url());
    pqxx::work tx(c);
    EXPECT_THROW(tx.exec("UPDATE ledger.entries SET amount = 50 WHERE account_sequence = 2"),
                 pqxx::sql_error);
  }
  env_.Change(
      "ALTER TABLE ledger.entries DISABLE TRIGGER entries_append_only; "
      "UPDATE ledger.entries SET reason = 'forged' WHERE account_sequence = 2");
  auto result = ledger_->VerifyJournal({});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->intact());
  EXPECT_EQ(result->first_break().kind(), v1::JOURNAL_BREAK_KIND_HASH_MISMATCH);
  EXPECT_EQ(result->first_break().account_sequence(), 2);
}

// The nightly audit walks the journal in bounded chunks, each one call holding its connection only
// for its own entries, and a break or a balance that disagrees is found in whichever chunk holds
// it.
TEST_F(LedgerTest, VerifyJournalWalksTheJournalInBoundedChunks) {
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(
        ledger_->Award(AwardReq(absl::StrCat("c", i), absl::StrCat("p", i % 3), 5), "svc").ok());
  }
  auto walk = [&](int chunk, int* calls) -> v1::VerifyJournalResponse {
    v1::VerifyJournalRequest req;
    req.set_max_entries(chunk);
    int64_t checked = 0;
    for (*calls = 0; *calls < 20; ++*calls) {
      absl::StatusOr<v1::VerifyJournalResponse> r = ledger_->VerifyJournal(req);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) return {};
      checked += r->entries_checked();
      EXPECT_LE(r->entries_checked(), chunk);
      if (!r->intact() || r->next_start_sequence() == 0) {
        v1::VerifyJournalResponse last = *r;
        last.set_entries_checked(checked);
        ++*calls;
        return last;
      }
      req.set_start_sequence(r->next_start_sequence());
    }
    return {};
  };
  int calls = 0;
  v1::VerifyJournalResponse whole = walk(5, &calls);
  EXPECT_TRUE(whole.intact());
  EXPECT_EQ(whole.entries_checked(), 12);
  EXPECT_EQ(calls, 3);

  // A balance changed behind the journal's back is found in the chunk holding the account's last
  // entry.
  env_.Change(
      "UPDATE ledger.accounts SET available = available + 5, earned = earned + 5 "
      "WHERE person_id = 'p1'");
  v1::VerifyJournalResponse broken = walk(5, &calls);
  EXPECT_FALSE(broken.intact());
  EXPECT_EQ(broken.first_break().kind(), v1::JOURNAL_BREAK_KIND_ACCOUNT_MISMATCH);
  EXPECT_EQ(broken.first_break().person_id(), "p1");
  EXPECT_EQ(broken.next_start_sequence(), 0);

  // Bad chunks are refused; a cancelled caller stops the walk.
  v1::VerifyJournalRequest bad;
  bad.set_start_sequence(-1);
  EXPECT_EQ(ledger_->VerifyJournal(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad.set_start_sequence(0);
  bad.set_max_entries(1000001);
  EXPECT_EQ(ledger_->VerifyJournal(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->VerifyJournal({}, [] { return true; }).status().code(),
            absl::StatusCode::kCancelled);
}

// Many threads award, hold, capture and release with random retries of the same keys; afterwards
// every account balances against its journal and no key was applied twice.
TEST_F(LedgerTest, TheSameAwardSentAtOnceFromManyThreadsIsAppliedOnce) {
  // A client that times out and retries while the first call is still queued: the copies share a
  // batch queue, so the committer keeps them in separate batches and the later ones replay.
  for (int round = 0; round < 5; ++round) {
    const std::string key = absl::StrCat("burst-", round);
    std::vector<std::string> entries(8);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        absl::StatusOr<v1::AwardResponse> r =
            ledger_->Award(AwardReq(key, absl::StrCat("burst-rider-", round), 5), "svc");
        ASSERT_TRUE(r.ok()) << r.status();
        entries[t] = r->entry().entry_id();
      });
    }
    for (auto& th : threads) th.join();
    for (const std::string& e : entries) EXPECT_EQ(e, entries[0]);
    EXPECT_EQ(Sql(absl::StrCat("SELECT count(*) FROM ledger.entries WHERE person_id = "
                               "'burst-rider-",
                               round, "'")),
              1);
  }
}

TEST_F(LedgerTest, TheSameHoldAndCaptureSentAtOnceReplayInsteadOfFailing) {
  // The rider has points for one hold only: a concurrent copy that ran the hold again would find
  // too few points; it must instead replay the first call's answer. The same for the capture.
  ASSERT_TRUE(ledger_->Award(AwardReq("hold-burst-award", "hold-burst-rider", 10), "svc").ok());
  std::vector<std::string> holds(8), captures(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<v1::HoldResponse> r =
          ledger_->Hold(HoldReq("hold-burst", "order-burst", "hold-burst-rider", 10), "svc");
      ASSERT_TRUE(r.ok()) << r.status();
      holds[t] = r->entry().entry_id();
    });
  }
  for (auto& th : threads) th.join();
  threads.clear();
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<v1::CaptureResponse> r =
          ledger_->Capture(CaptureReq("capture-burst", "order-burst"), "svc");
      ASSERT_TRUE(r.ok()) << r.status();
      captures[t] = r->entry().entry_id();
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) {
    EXPECT_EQ(holds[t], holds[0]);
    EXPECT_EQ(captures[t], captures[0]);
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.entries WHERE person_id = 'hold-burst-rider'"), 3);
  EXPECT_EQ(Sql("SELECT spent FROM ledger.accounts WHERE person_id = 'hold-burst-rider'"), 10);
}

TEST_F(LedgerTest, ConcurrentMutationsWithRetriesKeepTheBooksBalanced) {
  constexpr int kThreads = 16;
  constexpr int kOpsPerThread = 40;
  constexpr int kRiders = 6;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kOpsPerThread; ++i) {
        const std::string person = absl::StrCat("r", rng() % kRiders);
        const std::string key = absl::StrCat("t", t, "-", i);
        const int64_t amount = 1 + rng() % 10;
        const bool capture = rng() % 2 == 0;
        const int tries = 1 + rng() % 3;  // a retry repeats the same key and request
        for (int attempt = 0; attempt < tries; ++attempt) {
          absl::Status s;
          switch (i % 4) {
            case 0:
            case 1:
              s = ledger_->Award(AwardReq("aw-" + key, person, amount), "svc").status();
              break;
            case 2:
              s = ledger_->Hold(HoldReq("ho-" + key, "o-" + key, person, 1 + i % 5), "svc")
                      .status();
              if (s.code() == absl::StatusCode::kFailedPrecondition ||
                  s.code() == absl::StatusCode::kNotFound) {
                s = absl::OkStatus();  // not enough points yet: a legitimate refusal
              }
              break;
            case 3: {
              const std::string order = absl::StrCat("o-t", t, "-", i - 1);
              s = (capture ? ledger_->Capture(CaptureReq("ca-" + key, order), "svc").status()
                           : ledger_->Release(ReleaseReq("re-" + key, order), "svc").status());
              if (s.code() == absl::StatusCode::kNotFound) s = absl::OkStatus();  // hold refused
              break;
            }
          }
          if (!s.ok()) {
            ++failures;
            ADD_FAILURE() << key << ": " << s;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  // Each account equals the sum of its journal, and the whole journal chains.
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.accounts a WHERE a.available <> "
                "(SELECT coalesce(sum(available_delta), 0) FROM ledger.entries e "
                " WHERE e.person_id = a.person_id) OR a.held <> "
                "(SELECT coalesce(sum(held_delta), 0) FROM ledger.entries e "
                " WHERE e.person_id = a.person_id)"),
            0);
  EXPECT_TRUE(ledger_->VerifyJournal({})->intact());
  // No key applied twice: one award entry per award key, at most one hold per order.
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.entries WHERE kind = 1"),
            Sql("SELECT count(*) FROM ledger.idempotency_keys WHERE method = 'Award'"));
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.entries WHERE kind = 3"),
            Sql("SELECT count(*) FROM ledger.holds"));
  EXPECT_EQ(Sql("SELECT count(*) FROM (SELECT order_id FROM ledger.entries WHERE kind IN (4, 5) "
                "GROUP BY order_id HAVING count(*) > 1) x"),
            0);
  EXPECT_GT(committer_->stats().units, committer_->stats().batches);  // batching happened
}

// Rankings in Redis equal totals computed by SQL from the journal, even after Redis is flushed in
// the middle of a run and the reconciler rebuilds it.
TEST_F(LedgerTest, RankingsConvergeToTheJournalAfterRedisIsFlushed) {
  auto award = [&](int i) {
    v1::AwardRequest r = AwardReq(absl::StrCat("k", i), absl::StrCat("p", i % 7), 1 + i % 9);
    *r.mutable_org_path() = Path(i % 2 ? "c_west" : "c_gongnong");
    ASSERT_TRUE(ledger_->Award(r, "svc").ok());
  };
  for (int i = 0; i < 40; ++i) award(i);
  ASSERT_TRUE(redis_->Command({"FLUSHALL"}).ok());
  for (int i = 40; i < 80; ++i) award(i);
  v1::ReverseRequest rev;
  rev.set_idempotency_key("rev");
  rev.set_entry_id(ledger_
                       ->ListEntries([] {
                         v1::ListEntriesRequest r;
                         r.set_person_id("p3");
                         return r;
                       }())
                       ->entries(0)
                       .entry_id());
  rev.set_reason("mistake");
  ASSERT_TRUE(ledger_->Reverse(rev, "staff").ok());

  auto rebuilt = ledger_->RebuildRankings();
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  // Rebuilding twice changes nothing: versioned writes never double count.
  ASSERT_TRUE(ledger_->RebuildRankings().ok());

  for (const auto& [level, org] : std::vector<std::pair<common::v1::OrgLevel, std::string>>{
           {common::v1::ORG_LEVEL_CITY, ""},
           {common::v1::ORG_LEVEL_STREET, "s_qingyuan"},
           {common::v1::ORG_LEVEL_COMMUNITY, "c_west"},
           {common::v1::ORG_LEVEL_COMMUNITY, "c_gongnong"}}) {
    v1::GetTopRankingRequest req;
    req.mutable_scope()->set_level(level);
    req.mutable_scope()->set_org_id(org);
    req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
    req.set_top_n(100);
    auto top = ledger_->GetTopRanking(req);
    ASSERT_TRUE(top.ok()) << top.status();
    const std::string filter =
        org.empty() ? "true"
                    : absl::StrCat("community_id = '", org, "' OR street_id = '", org, "'");
    pqxx::connection c(env_.db_url());
    pqxx::read_transaction tx(c);
    pqxx::result expected =
        tx.exec("SELECT person_id, sum(earned_delta) FROM ledger.entries WHERE (" + filter +
                ") GROUP BY person_id HAVING sum(earned_delta) > 0 ORDER BY 2 DESC, 1");
    ASSERT_EQ(top->entries_size(), static_cast<int>(expected.size())) << org;
    std::map<std::string, int64_t> want, got;
    for (const auto& row : expected) want[row[0].c_str()] = row[1].as<int64_t>();
    for (const auto& e : top->entries()) got[e.person_id()] = e.score();
    EXPECT_EQ(got, want) << org;
    for (int i = 1; i < top->entries_size(); ++i) {
      EXPECT_GE(top->entries(i - 1).score(), top->entries(i).score());
      EXPECT_EQ(top->entries(i).rank(), i + 1);
    }
  }
}

TEST_F(LedgerTest, TiesGoToWhoeverReachedTheScoreFirst) {
  ASSERT_TRUE(ledger_->Award(AwardReq("a", "early", 10), "svc").ok());
  ASSERT_TRUE(ledger_->Award(AwardReq("b", "late", 10), "svc").ok());  // same second or not
  v1::GetTopRankingRequest req;
  req.mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
  req.mutable_scope()->set_org_id("c_west");
  req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_MONTH);
  req.set_top_n(1);
  req.set_include_ties(true);
  auto top = ledger_->GetTopRanking(req);
  ASSERT_TRUE(top.ok()) << top.status();
  ASSERT_EQ(top->entries_size(), 2);  // the tie at the cut is inside it
  EXPECT_EQ(top->entries(0).person_id(), "early");
  EXPECT_EQ(top->entries(1).person_id(), "late");

  v1::GetRankingNeighboursRequest n;
  n.set_person_id("late");
  *n.mutable_scope() = req.scope();
  *n.mutable_period() = req.period();
  n.set_above(1);
  auto around = ledger_->GetRankingNeighbours(n);
  ASSERT_TRUE(around.ok());
  EXPECT_EQ(around->self().rank(), 2);
  ASSERT_EQ(around->above_size(), 1);
  EXPECT_EQ(around->above(0).person_id(), "early");
}

TEST_F(LedgerTest, OrgStatisticsCountPerShanghaiDayAndPerChild) {
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  // Three consecutive Shanghai days ending three days ago, so the dates never go stale.
  const absl::CivilDay first = absl::ToCivilDay(absl::Now(), shanghai) - 5;
  auto at = [&](int offset, int hour) {
    return absl::FromCivil(absl::CivilHour(first + offset) + hour, shanghai);
  };
  auto award = [&](const std::string& key, const std::string& person, int64_t amount,
                   const std::string& community, absl::Time when) {
    v1::AwardRequest r = AwardReq(key, person, amount);
    *r.mutable_org_path() = Path(community);
    r.mutable_occur_time()->set_seconds(absl::ToUnixSeconds(when));
    ASSERT_TRUE(ledger_->Award(r, "svc").ok());
  };
  // 00:30 in Shanghai is still the day before in UTC: it must count on the Shanghai day.
  award("a1", "p1", 10, "c_west", at(1, 0) + absl::Minutes(30));
  award("a2", "p2", 5, "c_west", at(1, 15));
  award("a3", "p3", 7, "c_gongnong", at(2, 10));

  v1::GetOrgStatisticsRequest req;
  req.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  req.mutable_scope()->set_org_id("s_qingyuan");
  req.set_start_day(absl::FormatCivilTime(first));
  req.set_end_day(absl::FormatCivilTime(first + 2));
  auto stats = ledger_->GetOrgStatistics(req);
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->points_issued_per_day_size(), 3);
  EXPECT_EQ(stats->points_issued_per_day(0).value(), 0);
  EXPECT_EQ(stats->points_issued_per_day(1).day(), absl::FormatCivilTime(first + 1));
  EXPECT_EQ(stats->points_issued_per_day(1).value(), 15);
  EXPECT_EQ(stats->points_issued_per_day(2).value(), 7);
  EXPECT_EQ(stats->total().points_issued(), 22);
  EXPECT_EQ(stats->total().riders_awarded(), 3);
  ASSERT_EQ(stats->children_size(), 2);
  EXPECT_EQ(stats->children(0).scope().org_id(), "c_west");
  EXPECT_EQ(stats->children(0).points_issued(), 15);
  EXPECT_EQ(stats->children(0).scope().level(), common::v1::ORG_LEVEL_COMMUNITY);

  // The whole city, per district (its query names no org id).
  v1::GetOrgStatisticsRequest city = req;
  city.mutable_scope()->set_level(common::v1::ORG_LEVEL_CITY);
  city.mutable_scope()->clear_org_id();
  auto city_stats = ledger_->GetOrgStatistics(city);
  ASSERT_TRUE(city_stats.ok()) << city_stats.status();
  EXPECT_EQ(city_stats->total().points_issued(), 22);
  ASSERT_EQ(city_stats->points_issued_per_day_size(), 3);
  EXPECT_EQ(city_stats->points_issued_per_day(1).value(), 15);
  ASSERT_EQ(city_stats->children_size(), 1);
  EXPECT_EQ(city_stats->children(0).scope().level(), common::v1::ORG_LEVEL_DISTRICT);
  EXPECT_EQ(city_stats->children(0).points_issued(), 22);

  req.set_start_day(absl::FormatCivilTime(first + 3));
  EXPECT_THAT(ledger_->GetOrgStatistics(req).status().message(), HasSubstr("after end_day"));
  req.set_start_day("2026/11/01");
  EXPECT_THAT(ledger_->GetOrgStatistics(req).status().message(), HasSubstr("start_day"));
}

TEST_F(LedgerTest, PeriodTotalsSumARidersStatementPerBucket) {
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), shanghai);
  v1::AwardRequest old = AwardReq("a1", "p1", 10);
  old.mutable_occur_time()->set_seconds(
      absl::ToUnixSeconds(absl::FromCivil(absl::CivilHour(today - 2) + 9, shanghai)));
  ASSERT_TRUE(ledger_->Award(old, "svc").ok());
  ASSERT_TRUE(ledger_->Award(AwardReq("a2", "p1", 4), "svc").ok());
  v1::DeductRequest d;
  d.set_idempotency_key("d");
  d.set_person_id("p1");
  d.set_amount(1);
  d.set_reason("correction");
  ASSERT_TRUE(ledger_->Deduct(d, "staff").ok());

  v1::GetPeriodTotalsRequest req;
  req.set_person_id("p1");
  EXPECT_THAT(ledger_->GetPeriodTotals(req).status().message(), HasSubstr("granularity"));
  req.set_granularity(v1::PERIOD_GRANULARITY_DAY);
  auto days = ledger_->GetPeriodTotals(req);
  ASSERT_TRUE(days.ok()) << days.status();
  ASSERT_EQ(days->totals_size(), 30);
  const v1::PeriodTotal& last = days->totals(29);
  EXPECT_EQ(last.period_key(), absl::FormatCivilTime(today));
  EXPECT_EQ(last.awarded(), 4);
  EXPECT_EQ(last.deducted(), 1);
  EXPECT_EQ(last.net_earned(), 3);
  EXPECT_EQ(days->totals(27).awarded(), 10);
  EXPECT_EQ(days->totals(28).awarded(), 0);

  req.set_granularity(v1::PERIOD_GRANULARITY_MONTH);
  auto months = ledger_->GetPeriodTotals(req);
  ASSERT_TRUE(months.ok());
  int64_t awarded = 0;
  for (const auto& t : months->totals()) awarded += t.awarded();
  EXPECT_EQ(awarded, 14);
}

TEST_F(LedgerTest, ExcludedRidersLeaveTheRankingsAndComeBackWhenRestored) {
  ASSERT_TRUE(ledger_->Award(AwardReq("a1", "cheat", 50), "svc").ok());
  ASSERT_TRUE(ledger_->Award(AwardReq("a2", "honest", 10), "svc").ok());
  v1::GetTopRankingRequest top;
  top.mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
  top.mutable_scope()->set_org_id("c_west");
  top.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  EXPECT_EQ(ledger_->GetTopRanking(top)->entries(0).person_id(), "cheat");

  v1::ExcludeFromRankingsRequest ex;
  ex.set_person_id("cheat");
  EXPECT_THAT(ledger_->ExcludeFromRankings(ex, "staff").status().message(),
              HasSubstr("reason: is required"));
  ex.set_reason("刷分");
  auto excluded = ledger_->ExcludeFromRankings(ex, "staff_7");
  ASSERT_TRUE(excluded.ok()) << excluded.status();
  EXPECT_EQ(excluded->exclusion().excluded_by_person_id(), "staff_7");
  EXPECT_EQ(excluded->exclusion().org_path().community_id(), "c_west");
  // Again: the earlier exclusion stands.
  EXPECT_EQ(ledger_->ExcludeFromRankings(ex, "staff_8")->exclusion().excluded_by_person_id(),
            "staff_7");
  auto ranked = ledger_->GetTopRanking(top);
  ASSERT_EQ(ranked->entries_size(), 1);
  EXPECT_EQ(ranked->entries(0).person_id(), "honest");
  // New points while excluded stay out of Redis, even after a rebuild, but stay in the balance.
  ASSERT_TRUE(ledger_->Award(AwardReq("a3", "cheat", 5), "svc").ok());
  ASSERT_TRUE(ledger_->RebuildRankings().ok());
  EXPECT_EQ(ledger_->GetTopRanking(top)->entries_size(), 1);
  EXPECT_EQ(Balance("cheat").available(), 55);
  v1::GetRankRequest rank;
  rank.set_person_id("cheat");
  *rank.mutable_scope() = top.scope();
  *rank.mutable_period() = top.period();
  EXPECT_TRUE(ledger_->GetRank(rank)->excluded());

  v1::ListRankingExclusionsRequest list;
  list.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  list.mutable_scope()->set_org_id("s_qingyuan");
  EXPECT_EQ(ledger_->ListRankingExclusions(list)->exclusions_size(), 1);

  v1::RestoreToRankingsRequest restore;
  restore.set_person_id("cheat");
  restore.set_reason("申诉成立");
  auto restored = ledger_->RestoreToRankings(restore, "staff_7");
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_TRUE(restored->was_excluded());
  EXPECT_FALSE(ledger_->RestoreToRankings(restore, "staff_7")->was_excluded());
  ranked = ledger_->GetTopRanking(top);
  ASSERT_EQ(ranked->entries_size(), 2);
  EXPECT_EQ(ranked->entries(0).person_id(), "cheat");
  EXPECT_EQ(ranked->entries(0).score(), 55);
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.ranking_exclusion_events"), 2);
}

TEST_F(LedgerTest, AScopeHoldsABoundedNumberOfSeasonsThatHaveNotEnded) {
  const absl::Time now = absl::Now();
  auto create = [&](const std::string& key, const std::string& street, absl::Time start,
                    absl::Time end) {
    v1::CreateSeasonRequest r;
    r.set_idempotency_key(key);
    r.set_display_name(key);
    r.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
    r.mutable_scope()->set_org_id(street);
    r.mutable_start_time()->set_seconds(absl::ToUnixSeconds(start));
    r.mutable_end_time()->set_seconds(absl::ToUnixSeconds(end));
    return ledger_->CreateSeason(r, "staff");
  };
  // Ended seasons do not count.
  ASSERT_TRUE(create("old", "s_qingyuan", now - absl::Hours(72), now - absl::Hours(48)).ok());
  for (int i = 0; i < kMaxOpenSeasons; ++i) {
    absl::StatusOr<v1::Season> s = create(absl::StrCat("open-", i), "s_qingyuan",
                                          now + absl::Hours(i), now + absl::Hours(i + 24));
    ASSERT_TRUE(s.ok()) << i << ": " << s.status();
  }
  absl::StatusOr<v1::Season> over = create("one-more", "s_qingyuan", now, now + absl::Hours(24));
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted) << over.status();
  EXPECT_THAT(over.status().message(), HasSubstr("50 upcoming or active seasons"));
  EXPECT_TRUE(create("next-street", "s_xinwang", now, now + absl::Hours(24)).ok());
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.seasons"), kMaxOpenSeasons + 2);
}

TEST_F(LedgerTest, SeasonsCountAwardsInTheirRangeAndScope) {
  const absl::Time now = absl::Now();
  // Earned before the season was created, inside its range: it counts.
  v1::AwardRequest early = AwardReq("early", "p0", 3);
  early.mutable_occur_time()->set_seconds(absl::ToUnixSeconds(now - absl::Hours(2)));
  ASSERT_TRUE(ledger_->Award(early, "svc").ok());
  v1::CreateSeasonRequest create;
  create.set_idempotency_key("season-1");
  create.set_display_name("清远街道 第一次兑换季");
  create.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  create.mutable_scope()->set_org_id("s_qingyuan");
  create.mutable_start_time()->set_seconds(absl::ToUnixSeconds(now - absl::Hours(24)));
  create.mutable_end_time()->set_seconds(absl::ToUnixSeconds(now + absl::Hours(24)));
  auto season = ledger_->CreateSeason(create, "staff");
  ASSERT_TRUE(season.ok()) << season.status();
  EXPECT_EQ(season->state(), v1::SEASON_STATE_ACTIVE);
  EXPECT_EQ(ledger_->CreateSeason(create, "staff")->season_id(), season->season_id());

  ASSERT_TRUE(ledger_->Award(AwardReq("in", "p1", 9), "svc").ok());
  v1::AwardRequest before = AwardReq("before", "p2", 50);
  before.mutable_occur_time()->set_seconds(absl::ToUnixSeconds(now - absl::Hours(48)));
  ASSERT_TRUE(ledger_->Award(before, "svc").ok());
  v1::AwardRequest elsewhere = AwardReq("elsewhere", "p3", 40);
  elsewhere.mutable_org_path()->set_street_id("s_xinwang");
  ASSERT_TRUE(ledger_->Award(elsewhere, "svc").ok());

  v1::GetTopRankingRequest top;
  top.mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
  top.mutable_scope()->set_org_id("c_west");
  top.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_SEASON);
  top.mutable_period()->set_key(season->season_id());
  auto ranked = ledger_->GetTopRanking(top);
  ASSERT_TRUE(ranked.ok()) << ranked.status();
  ASSERT_EQ(ranked->entries_size(), 2);
  EXPECT_EQ(ranked->entries(0).person_id(), "p1");
  EXPECT_EQ(ranked->entries(1).person_id(), "p0");
  EXPECT_EQ(ranked->entries(1).score(), 3);
  // Seasons of a street have no city-wide ranking.
  top.mutable_scope()->set_level(common::v1::ORG_LEVEL_CITY);
  EXPECT_EQ(ledger_->GetTopRanking(top)->entries_size(), 0);

  create.set_idempotency_key("season-2");
  *create.mutable_end_time() = create.start_time();
  EXPECT_THAT(ledger_->CreateSeason(create, "staff").status().message(), HasSubstr("end_time"));
  v1::ListSeasonsRequest list;
  list.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  list.mutable_scope()->set_org_id("s_qingyuan");
  EXPECT_EQ(ledger_->ListSeasons(list)->seasons_size(), 1);
  EXPECT_EQ(ledger_->GetSeason("season-x").status().code(), absl::StatusCode::kNotFound);
}

// A window's cut is computed from the journal in PostgreSQL; it must equal what riders saw in the
// live ranking (Redis) at the same watermark, ties, reversals, deductions and exclusions included.
TEST_F(LedgerTest, ASnapshotEqualsTheLiveRankingAtTheSameWatermark) {
  // Riders confirmed at one activity in the same second, in an order their ids do not follow.
  for (const char* rider : {"r-m", "r-z", "r-a", "r-k", "r-b"}) {
    ASSERT_TRUE(ledger_->Award(AwardReq(absl::StrCat("act-", rider), rider, 13), "svc").ok());
  }
  ASSERT_TRUE(ledger_->Award(AwardReq("extra-b", "r-b", 4), "svc").ok());
  auto first_of_k = ledger_->Award(AwardReq("extra-k", "r-k", 9), "svc");
  ASSERT_TRUE(first_of_k.ok());
  v1::ReverseRequest rev;
  rev.set_idempotency_key("rev-k");
  rev.set_entry_id(first_of_k->entry().entry_id());
  rev.set_reason("recorded twice");
  ASSERT_TRUE(ledger_->Reverse(rev, "staff").ok());
  v1::DeductRequest ded;
  ded.set_idempotency_key("ded-a");
  ded.set_person_id("r-a");
  ded.set_amount(1);
  ded.set_reason("correction");
  ASSERT_TRUE(ledger_->Deduct(ded, "staff").ok());
  v1::ExcludeFromRankingsRequest ex;
  ex.set_person_id("r-z");
  ex.set_reason("under review");
  ASSERT_TRUE(ledger_->ExcludeFromRankings(ex, "staff").ok());

  v1::SnapshotRankingRequest snap_req;
  snap_req.set_idempotency_key("window/w9/snapshot");
  snap_req.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  snap_req.mutable_scope()->set_org_id("s_qingyuan");
  snap_req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  snap_req.set_top_n(10);
  auto snap = ledger_->SnapshotRanking(snap_req, "svc:rewards");
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_TRUE(env_.projector().WaitFor(snap->as_of_sequence(), absl::Seconds(5)));
  v1::GetTopRankingRequest top_req;
  *top_req.mutable_scope() = snap_req.scope();
  *top_req.mutable_period() = snap_req.period();
  top_req.set_top_n(10);
  auto top = ledger_->GetTopRanking(top_req);
  ASSERT_TRUE(top.ok()) << top.status();

  std::vector<std::string> cut, live;
  for (const auto& e : snap->entries()) {
    cut.push_back(absl::StrCat(e.rank(), ":", e.person_id(), ":", e.score(), "@",
                               e.reach_time().seconds(), ".", e.reach_time().nanos()));
  }
  for (const auto& e : top->entries()) {
    live.push_back(absl::StrCat(e.rank(), ":", e.person_id(), ":", e.score(), "@",
                                e.reach_time().seconds(), ".", e.reach_time().nanos()));
  }
  EXPECT_EQ(cut, live);
  std::vector<std::string> order;
  for (const auto& e : snap->entries()) order.push_back(e.person_id());
  // r-b 17; then the 13s in the order they reached 13 (r-z excluded); r-a fell to 12.
  EXPECT_EQ(order, (std::vector<std::string>{"r-b", "r-m", "r-k", "r-a"}));
  EXPECT_GT(top->entries(0).reach_time().seconds(), 0) << "every entry carries its reach time";
}

TEST_F(LedgerTest, SnapshotsFreezeARankingWithItsTies) {
  ASSERT_TRUE(ledger_->Award(AwardReq("a", "first", 30), "svc").ok());
  // The same millisecond or not: journal order breaks the tie.
  ASSERT_TRUE(ledger_->Award(AwardReq("b", "tied", 30), "svc").ok());
  ASSERT_TRUE(ledger_->Award(AwardReq("c", "third", 5), "svc").ok());
  v1::SnapshotRankingRequest req;
  req.set_idempotency_key("window/w1/snapshot");
  req.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  req.mutable_scope()->set_org_id("s_qingyuan");
  req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_MONTH);
  req.set_top_n(1);
  req.set_include_ties(true);
  auto snap = ledger_->SnapshotRanking(req, "svc:rewards");
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_EQ(snap->entries_size(), 2);
  EXPECT_EQ(snap->entries(0).person_id(), "first");
  EXPECT_EQ(snap->entries(1).person_id(), "tied");
  EXPECT_EQ(snap->period().key(), MonthKey(absl::Now()));
  EXPECT_GT(snap->as_of_sequence(), 0);

  // Later points do not move a snapshot, and the same key returns the same one.
  ASSERT_TRUE(ledger_->Award(AwardReq("d", "third", 100), "svc").ok());
  auto again = ledger_->SnapshotRanking(req, "svc:rewards");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->snapshot_id(), snap->snapshot_id());
  EXPECT_EQ(again->entries_size(), 2);
  auto stored = ledger_->GetRankingSnapshot(snap->snapshot_id());
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->entries(1).person_id(), "tied");
  req.set_idempotency_key("window/w2/snapshot");
  req.set_top_n(0);
  EXPECT_THAT(ledger_->SnapshotRanking(req, "svc").status().message(), HasSubstr("top_n"));
}

// Ranking reads carry each rider's chosen name from memory (identity's feed fills it in the
// service); a name chosen later shows in earlier snapshots too, and an unknown rider has none.
TEST_F(LedgerTest, RankingsCarryTheNamesRidersChose) {
  RankingNames names;
  names.Set({{"first", "王*军"}, {"second", "飞毛腿"}});
  ledger_->UseRankingNames(&names);
  ASSERT_TRUE(ledger_->Award(AwardReq("a", "first", 30), "svc").ok());
  ASSERT_TRUE(ledger_->Award(AwardReq("b", "second", 20), "svc").ok());
  ASSERT_TRUE(ledger_->Award(AwardReq("c", "unnamed", 10), "svc").ok());
  v1::GetTopRankingRequest top;
  top.mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
  top.mutable_scope()->set_org_id("c_west");
  top.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  auto read = ledger_->GetTopRanking(top);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->entries_size(), 3);
  EXPECT_EQ(read->entries(0).display_name(), "王*军");
  EXPECT_EQ(read->entries(1).display_name(), "飞毛腿");
  EXPECT_EQ(read->entries(2).display_name(), "");

  v1::GetRankingNeighboursRequest around;
  around.set_person_id("second");
  *around.mutable_scope() = top.scope();
  *around.mutable_period() = top.period();
  auto near = ledger_->GetRankingNeighbours(around);
  ASSERT_TRUE(near.ok()) << near.status();
  EXPECT_EQ(near->self().display_name(), "飞毛腿");
  ASSERT_EQ(near->above_size(), 1);
  EXPECT_EQ(near->above(0).display_name(), "王*军");
  v1::GetRankRequest rank;
  rank.set_person_id("first");
  *rank.mutable_scope() = top.scope();
  *rank.mutable_period() = top.period();
  EXPECT_EQ(ledger_->GetRank(rank)->entry().display_name(), "王*军");

  v1::SnapshotRankingRequest snap;
  snap.set_idempotency_key("names/snapshot");
  *snap.mutable_scope() = top.scope();
  *snap.mutable_period() = top.period();
  snap.set_top_n(2);
  auto taken = ledger_->SnapshotRanking(snap, "svc:rewards");
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->entries(1).display_name(), "飞毛腿");
  names.Set({{"second", "小哥 #0002"}});  // the rider hides their name afterwards
  auto stored = ledger_->GetRankingSnapshot(taken->snapshot_id());
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->entries(1).display_name(), "小哥 #0002");
  EXPECT_EQ(ledger_->SnapshotRanking(snap, "svc:rewards")->entries(1).display_name(), "小哥 #0002");
  ledger_->UseRankingNames(nullptr);
}

TEST_F(LedgerTest, AKeyBelongsToItsCallerSoAnotherCannotTakeAWindowsCut) {
  ASSERT_TRUE(ledger_->Award(AwardReq("a", "early", 10), "svc").ok());
  v1::SnapshotRankingRequest req;
  req.set_idempotency_key("rewards/window/w1/cut");
  req.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  req.mutable_scope()->set_org_id("s_qingyuan");
  req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  req.set_top_n(2);
  // Someone else freezes the cut early under the window's key, and with another request too.
  auto squatted = ledger_->SnapshotRanking(req, "staff_mallory");
  ASSERT_TRUE(squatted.ok()) << squatted.status();
  v1::SnapshotRankingRequest other = req;
  other.set_top_n(1);
  ASSERT_TRUE(ledger_->SnapshotRanking(other, "staff_eve").ok());

  // The window's owner still gets its own cut, taken now, and its retries replay it.
  ASSERT_TRUE(ledger_->Award(AwardReq("b", "late", 20), "svc").ok());
  auto cut = ledger_->SnapshotRanking(req, "sa_rewards");
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_NE(cut->snapshot_id(), squatted->snapshot_id());
  ASSERT_EQ(cut->entries_size(), 2);
  EXPECT_EQ(cut->entries(0).person_id(), "late");
  auto retry = ledger_->SnapshotRanking(req, "sa_rewards");
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->snapshot_id(), cut->snapshot_id());
  // And the first caller's replay is still its own.
  auto replay = ledger_->SnapshotRanking(req, "staff_mallory");
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->snapshot_id(), squatted->snapshot_id());
  ASSERT_EQ(replay->entries_size(), 1);
  EXPECT_EQ(replay->entries(0).person_id(), "early");
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.idempotency_keys WHERE key = "
                "'rewards/window/w1/cut'"),
            3);
}

TEST_F(LedgerTest, ADeductionKeyOfOneStaffMemberDoesNotAnswerAnother) {
  ASSERT_TRUE(ledger_->Award(AwardReq("a", "p1", 10), "svc").ok());
  v1::DeductRequest d;
  d.set_idempotency_key("fix-1");
  d.set_person_id("p1");
  d.set_amount(3);
  d.set_reason("abuse");
  ASSERT_TRUE(ledger_->Deduct(d, "staff_a").ok());
  // The same key from someone else is that caller's own request, not a replay of staff_a's.
  d.set_amount(2);
  auto second = ledger_->Deduct(d, "staff_b");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->account().available(), 5);
  EXPECT_EQ(second->entry().actor_id(), "staff_b");
  // staff_a's key with staff_a's other request is still refused.
  EXPECT_EQ(ledger_->Deduct(d, "staff_a").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LedgerTest, AnAwardStoredBeforeKeysHadCallersStillReplays) {
  auto first = ledger_->Award(AwardReq("activity/a1/rider/p1", "p1", 5), "sa_activity");
  ASSERT_TRUE(first.ok());
  // As migrations/0007 left a key stored before it.
  env_.Change("UPDATE ledger.idempotency_keys SET caller = ''");
  auto again = ledger_->Award(AwardReq("activity/a1/rider/p1", "p1", 5), "sa_activity");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->entry().entry_id(), first->entry().entry_id());
  EXPECT_EQ(Balance("p1").available(), 5);
}

TEST_F(LedgerTest, AMutationWhoseCallerHasNoSubjectIsRefused) {
  // Its key would otherwise land among the rows stored before keys had callers.
  EXPECT_EQ(ledger_->Award(AwardReq("a", "p1", 5), "").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Sql("SELECT count(*) FROM ledger.entries"), 0);
}

TEST_F(LedgerTest, AStreetOrCommunityIsPlacedByTheAccountsUnderIt) {
  ASSERT_TRUE(ledger_->Award(AwardReq("a", "p1", 5), "svc").ok());
  common::v1::OrgScope scope;
  scope.set_level(common::v1::ORG_LEVEL_COMMUNITY);
  scope.set_org_id("c_west");
  auto place = ledger_->PlaceOf(scope);
  ASSERT_TRUE(place.ok()) << place.status();
  EXPECT_TRUE(place->placed);
  EXPECT_EQ(place->path.district_id(), "d_pingcheng");
  EXPECT_EQ(place->path.street_id(), "s_qingyuan");
  scope.set_level(common::v1::ORG_LEVEL_STREET);
  scope.set_org_id("s_qingyuan");
  place = ledger_->PlaceOf(scope);
  ASSERT_TRUE(place.ok());
  EXPECT_EQ(place->path.district_id(), "d_pingcheng");
  EXPECT_TRUE(place->path.community_id().empty());
  scope.set_org_id("s_unknown");
  place = ledger_->PlaceOf(scope);
  ASSERT_TRUE(place.ok());
  EXPECT_FALSE(place->placed);
  EXPECT_EQ(place->path.street_id(), "s_unknown");
  scope.set_org_id("");
  EXPECT_THAT(ledger_->PlaceOf(scope).status().message(), HasSubstr("scope.org_id"));
}

TEST_F(LedgerTest, RankingRequestsNameTheirBadFields) {
  v1::GetTopRankingRequest req;
  EXPECT_THAT(ledger_->GetTopRanking(req).status().message(), HasSubstr("scope.level"));
  req.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  EXPECT_THAT(ledger_->GetTopRanking(req).status().message(), HasSubstr("scope.org_id"));
  req.mutable_scope()->set_org_id("s1");
  req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_MONTH);
  req.mutable_period()->set_key("2026-13");
  EXPECT_THAT(ledger_->GetTopRanking(req).status().message(), HasSubstr("not a month"));
}

}  // namespace
}  // namespace civicpoints::ledger
