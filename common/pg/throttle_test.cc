// The sliding-window throttle against PostgreSQL, with the clock given: a limit holds over the last
// window exactly, a refused caller is told the exact wait, growing delays never lock, and refunds
// give attempts back.
#include "common/pg/throttle.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "common/pg/pg_pool.h"
#include "common/pg/transactions.h"
#include "common/status/grpc_status.h"
#include "common/testing/test_env.h"
#include "google/protobuf/empty.pb.h"

namespace civicpoints::pg {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'794'000'000);

// The wait a refusal tells, or -1 s when the attempt was admitted.
absl::Duration Refused(const absl::StatusOr<Throttle::Ticket>& t) {
  if (t.ok()) return absl::Seconds(-1);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kResourceExhausted) << t.status();
  std::optional<absl::Duration> wait = RetryDelayOf(t.status());
  EXPECT_TRUE(wait.has_value());
  return wait.value_or(absl::ZeroDuration());
}

// A scratch database with the table every service's migrations create for the throttle.
class ThrottleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Run("CREATE TABLE throttle_events (event_id bigserial PRIMARY KEY, bucket text NOT NULL, "
        "at_us bigint NOT NULL)");
    absl::StatusOr<std::unique_ptr<PgPool>> pool =
        PgPool::Connect({.url = db_.url(), .pool_size = 2});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::move(*pool);
    throttle_ = std::make_unique<Throttle>(pool_.get());
  }
  // Runs `sql` in a transaction of its own.
  void Run(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    tx.exec(sql);
    tx.commit();
  }

  testing::ScratchDatabase db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<Throttle> throttle_;
};

TEST_F(ThrottleTest, TheWindowSlidesAndARefusalTellsTheExactWait) {
  const Throttle::Limit limit{.bucket = "t:addr", .limit = 3, .window = absl::Minutes(15)};
  ASSERT_TRUE(throttle_->Take({limit}, kT0).ok());
  ASSERT_TRUE(throttle_->Take({limit}, kT0 + absl::Minutes(5)).ok());
  ASSERT_TRUE(throttle_->Take({limit}, kT0 + absl::Minutes(10)).ok());
  // The oldest attempt leaves the window at kT0 + 15 min: four minutes from now, not at the end of
  // a clock slot.
  absl::StatusOr<Throttle::Ticket> refused = throttle_->Take({limit}, kT0 + absl::Minutes(11));
  EXPECT_EQ(Refused(refused), absl::Minutes(4));
  EXPECT_NE(refused.status().message().find("240 seconds"), std::string::npos);
  // A refused attempt is not counted: at exactly the time told, the next one is admitted.
  EXPECT_TRUE(throttle_->Take({limit}, kT0 + absl::Minutes(15)).ok());
  // Fractions round up, so a client waiting the whole seconds told is never refused again.
  EXPECT_EQ(Refused(throttle_->Take({limit}, kT0 + absl::Minutes(15) + absl::Milliseconds(300))),
            absl::Seconds(300));
}

TEST_F(ThrottleTest, GrowingDelaysSlowAnAttackerButNeverLock) {
  const Throttle::Limit limit{.bucket = "t:phone",
                              .limit = 2,
                              .window = absl::Hours(24),
                              .first_delay = absl::Seconds(1),
                              .max_delay = absl::Seconds(8)};
  absl::Time t = kT0;
  ASSERT_TRUE(throttle_->Take({limit}, t).ok());
  ASSERT_TRUE(throttle_->Take({limit}, t).ok());
  // Beyond the limit each attempt waits after the latest: 1, 2, 4, 8, 8 seconds.
  for (int64_t delay : {1, 2, 4, 8, 8}) {
    EXPECT_EQ(Refused(throttle_->Take({limit}, t)), absl::Seconds(delay));
    t += absl::Seconds(delay);
    EXPECT_TRUE(throttle_->Take({limit}, t).ok()) << "after " << delay << " s";
  }
}

TEST_F(ThrottleTest, AllBucketsCountOrNoneAndARefundGivesTheAttemptBack) {
  const Throttle::Limit narrow{.bucket = "t:narrow", .limit = 1, .window = absl::Minutes(1)};
  const Throttle::Limit wide{.bucket = "t:wide", .limit = 2, .window = absl::Minutes(1)};
  absl::StatusOr<Throttle::Ticket> first = throttle_->Take({narrow, wide}, kT0);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->event_ids.size(), 2u);
  // Refused by the narrow bucket: the wide one counts nothing either.
  EXPECT_EQ(Refused(throttle_->Take({narrow, wide}, kT0)), absl::Minutes(1));
  EXPECT_TRUE(throttle_->Take({wide}, kT0).ok());
  EXPECT_EQ(Refused(throttle_->Take({wide}, kT0)), absl::Minutes(1));
  throttle_->Refund(*first);
  EXPECT_TRUE(throttle_->Take({narrow, wide}, kT0).ok());
  // Read without counting, as a caller that must not even try while refused does.
  ASSERT_TRUE(pool_
                  ->WithConnection("peek",
                                   [&](pqxx::connection_base& c) {
                                     pqxx::work tx(c);
                                     EXPECT_EQ(Throttle::WaitIn(tx, narrow, kT0), absl::Minutes(1));
                                     EXPECT_EQ(Throttle::WaitIn(tx, narrow, kT0 + absl::Minutes(1)),
                                               absl::ZeroDuration());
                                     return absl::OkStatus();
                                   })
                  .ok());
  EXPECT_EQ(throttle_->Take({{.bucket = "t:long", .limit = 1, .window = absl::Hours(48)}}, kT0)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ThrottleTest, AnAttemptJudgedInTheCallersTransactionIsCountedWithItsRefusal) {
  // A table for idempotency keys, as every service's migrations create it.
  Run("CREATE TABLE idempotency_keys (method text NOT NULL, key text NOT NULL, request_hash "
      "bytea NOT NULL, response bytea NOT NULL, PRIMARY KEY (method, key))");
  const Throttle::Limit limit{.bucket = "code:a:r", .limit = 2, .window = absl::Minutes(10)};
  google::protobuf::Empty response;
  // A wrong guess: counted in the commit that refuses it; the key is not stored.
  auto guess = [&](absl::Time at, bool right) {
    return RunIdempotent(
        *pool_, "CheckIn:r", "key-1", "hash", &response,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          Throttle::LockIn(tx, limit.bucket);
          if (Throttle::WaitIn(tx, limit, at) > absl::ZeroDuration()) {
            return absl::ResourceExhaustedError("wait");
          }
          if (right) return absl::OkStatus();
          Throttle::CountIn(tx, limit.bucket, at);
          return CommitAndRefuse(absl::InvalidArgumentError("wrong code"));
        },
        absl::FailedPreconditionError("reused"));
  };
  absl::Status wrong = guess(kT0, false);
  EXPECT_EQ(wrong.code(), absl::StatusCode::kInvalidArgument) << wrong;
  EXPECT_EQ(wrong.message(), "wrong code");
  EXPECT_FALSE(wrong.GetPayload("civicpoints.dev/commit-and-refuse").has_value());
  EXPECT_EQ(guess(kT0 + absl::Seconds(1), false).code(), absl::StatusCode::kInvalidArgument);
  // Two wrong guesses fill the limit, even under the same key (a refusal stores no answer).
  EXPECT_EQ(guess(kT0 + absl::Seconds(2), true).code(), absl::StatusCode::kResourceExhausted);
  pqxx::connection c(db_.url());
  pqxx::read_transaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM throttle_events")[0].as<int>(), 2);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM idempotency_keys")[0].as<int>(), 0);
}

}  // namespace
}  // namespace civicpoints::pg
