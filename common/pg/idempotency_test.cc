// RunIdempotent against PostgreSQL: the key is looked up after the body, so a repeat's body runs
// and must leave nothing behind; a repeat answers the stored response whether its body succeeds,
// refuses or fails on a database error; two concurrent first calls commit once.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <pqxx/pqxx>
#include <thread>

#include "absl/synchronization/notification.h"
#include "common/pg/pg_pool.h"
#include "common/pg/transactions.h"
#include "common/testing/test_env.h"
#include "google/protobuf/wrappers.pb.h"

namespace civicpoints::pg {
namespace {

class IdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Sql("CREATE TABLE idempotency_keys (method text NOT NULL, key text NOT NULL, request_hash "
        "bytea NOT NULL, response bytea NOT NULL, PRIMARY KEY (method, key))");
    Sql("CREATE TABLE notes (note_id serial PRIMARY KEY, body text UNIQUE NOT NULL)");
    absl::StatusOr<std::unique_ptr<PgPool>> pool =
        PgPool::Connect({.url = db_.url(), .pool_size = 3});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::move(*pool);
  }
  // Runs `sql` in a transaction of its own; the first field of the first row, if any.
  std::string Sql(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    pqxx::result r = tx.exec(sql);
    tx.commit();
    return r.empty() || r.columns() == 0 ? "" : r[0][0].c_str();
  }
  // Writes a note with `body` and answers the count of notes: what a create method does. A body
  // already there is refused as ALREADY_EXISTS when `check_first`, else left to the unique index.
  absl::Status AddNote(const std::string& key, const std::string& body,
                       google::protobuf::Int64Value* response, bool check_first = true,
                       std::function<void()> before_key = nullptr) {
    return RunIdempotent(
        *pool_, "AddNote", key, body, response,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          ++bodies_run_;
          if (check_first && !tx.exec_params("SELECT 1 FROM notes WHERE body = $1", body).empty()) {
            return absl::AlreadyExistsError("a note says that already");
          }
          tx.exec_params("INSERT INTO notes (body) VALUES ($1)", body);
          response->set_value(tx.exec1("SELECT count(*) FROM notes")[0].as<int64_t>());
          AfterCommit([this] { ++commits_seen_; });
          if (before_key) before_key();
          return absl::OkStatus();
        },
        absl::FailedPreconditionError("key reused"));
  }

  testing::ScratchDatabase db_;
  std::unique_ptr<PgPool> pool_;
  std::atomic<int> bodies_run_{0};
  std::atomic<int> commits_seen_{0};
};

TEST_F(IdempotencyTest, ARepeatReplaysTheFirstAnswerAndItsBodyLeavesNothing) {
  google::protobuf::Int64Value first, again;
  ASSERT_TRUE(AddNote("k1", "bring gloves", &first).ok());
  EXPECT_EQ(first.value(), 1);
  // A second note makes the count 2, so a repeat that re-ran for real would answer differently.
  ASSERT_TRUE(AddNote("k2", "bring water", &again).ok());
  EXPECT_EQ(again.value(), 2);

  // The repeat's body refuses (its own work is found done): the stored answer is given.
  again.Clear();
  absl::Status s = AddNote("k1", "bring gloves", &again);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(again.value(), 1);
  // The repeat's body succeeds (no check first) but fails on the unique index: the same.
  again.Clear();
  s = AddNote("k1", "bring gloves", &again, /*check_first=*/false);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(again.value(), 1);
  EXPECT_EQ(Sql("SELECT count(*) FROM notes"), "2");
  EXPECT_EQ(commits_seen_.load(), 2) << "a replay runs no after-commit work";

  // Another request under the key, whether its body succeeds or not.
  s = AddNote("k1", "bring a pump", &again);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(s.message(), "key reused");
  s = AddNote("k1", "bring water", &again);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(Sql("SELECT count(*) FROM notes"), "2") << "the rolled-back bodies wrote nothing";
  EXPECT_EQ(Sql("SELECT count(*) FROM idempotency_keys"), "2");

  // A refusal of a fresh key stores nothing: a retry is judged again.
  s = AddNote("k3", "bring gloves", &again);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(Sql("SELECT count(*) FROM idempotency_keys"), "2");
}

TEST_F(IdempotencyTest, ARefusalThatCountsIsKeptUnderAKeyAnsweredBefore) {
  // A wrong guess under an old key (another request's) is still a guess: what its refusal wrote
  // is committed, and the answer is the key's.
  google::protobuf::Int64Value response;
  ASSERT_TRUE(AddNote("old", "bring gloves", &response).ok());
  auto guess = [&](const std::string& key, const std::string& request) {
    return RunIdempotent(
        *pool_, "AddNote", key, request, &response,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          tx.exec_params("INSERT INTO notes (body) VALUES ($1)", request);
          return CommitAndRefuse(absl::InvalidArgumentError("wrong code"));
        },
        absl::FailedPreconditionError("key reused"));
  };
  absl::Status s = guess("old", "guess 1");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(Sql("SELECT count(*) FROM notes WHERE body = 'guess 1'"), "1");
  s = guess("fresh", "guess 2");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(Sql("SELECT count(*) FROM notes WHERE body = 'guess 2'"), "1");
  EXPECT_EQ(Sql("SELECT count(*) FROM idempotency_keys"), "1") << "a refusal stores no key";
}

TEST_F(IdempotencyTest, TwoConcurrentFirstCallsCommitOnceAndAnswerAlike) {
  // The first call holds its uncommitted key while the second runs its body and reaches the key:
  // the second waits for the first's commit and then replays it.
  // Without the unique body the second's note waits for nothing: only its key insert does.
  Sql("ALTER TABLE notes DROP CONSTRAINT notes_body_key");
  absl::Notification first_in_body, second_started;
  google::protobuf::Int64Value a, b;
  absl::Status sa, sb;
  std::thread first([&] {
    sa = AddNote("same", "sweep the lane", &a, /*check_first=*/false, [&] {
      first_in_body.Notify();
      second_started.WaitForNotificationWithTimeout(absl::Seconds(10));
      absl::SleepFor(absl::Milliseconds(300));  // the second reaches its insert and waits
    });
  });
  first_in_body.WaitForNotification();
  std::thread second([&] {
    second_started.Notify();
    sb = AddNote("same", "sweep the lane", &b, /*check_first=*/false);
  });
  first.join();
  second.join();
  ASSERT_TRUE(sa.ok()) << sa;
  ASSERT_TRUE(sb.ok()) << sb;
  EXPECT_EQ(a.value(), 1);
  EXPECT_EQ(b.value(), 1) << "the second call answers the first's response";
  EXPECT_EQ(Sql("SELECT count(*) FROM notes"), "1");
  EXPECT_EQ(commits_seen_.load(), 1);
}

}  // namespace
}  // namespace civicpoints::pg
