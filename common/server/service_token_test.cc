// ApiKeyServiceToken against a stand-in identity that answers ExchangeApiKey with short-lived
// tokens and can be slowed, stopped and started again on its port: no caller waits on identity
// once a token is held, renewal is one call at a time, and service resumes when identity returns.
#include "common/server/service_token.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/testing/test_env.h"

namespace civicpoints::server {
namespace {

// Answers ExchangeApiKey with "token-<n>" valid for `ttl`, after `delay`.
class StandInIdentity final : public identity::v1::IdentityService::Service {
 public:
  grpc::Status ExchangeApiKey(grpc::ServerContext*, const identity::v1::ExchangeApiKeyRequest*,
                              identity::v1::ExchangeApiKeyResponse* resp) override {
    const int n = ++calls;
    in_flight_max = std::max(in_flight_max.load(), ++in_flight);
    absl::SleepFor(absl::Milliseconds(delay_ms.load()));
    --in_flight;
    resp->set_access_token(absl::StrCat("token-", n));
    resp->mutable_access_token_expire_time()->set_seconds(
        absl::ToUnixSeconds(absl::Now() + absl::Milliseconds(ttl_ms.load())));
    return grpc::Status::OK;
  }

  std::atomic<int> calls{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> in_flight_max{0};
  std::atomic<int> delay_ms{0};
  std::atomic<int> ttl_ms{8000};
};

class ServiceTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::FreePort();
    Start();
  }
  void Start() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port_), grpc::InsecureServerCredentials());
    builder.RegisterService(&identity_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void Stop() {
    server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
  }
  std::string Addr() const { return absl::StrCat("127.0.0.1:", port_); }

  // Calls Get from 4 threads for `d`; returns the slowest call and counts the answers.
  absl::Duration Hammer(ApiKeyServiceToken& token, absl::Duration d, int* ok, int* failed) {
    std::atomic<int64_t> slowest_us{0};
    std::atomic<int> oks{0}, fails{0};
    std::vector<std::thread> threads;
    const absl::Time end = absl::Now() + d;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] {
        while (absl::Now() < end) {
          const absl::Time t0 = absl::Now();
          const bool good = token.Get().ok();
          const int64_t us = absl::ToInt64Microseconds(absl::Now() - t0);
          int64_t seen = slowest_us.load();
          while (us > seen && !slowest_us.compare_exchange_weak(seen, us)) {
          }
          (good ? oks : fails)++;
          absl::SleepFor(absl::Milliseconds(5));
        }
      });
    }
    for (std::thread& t : threads) t.join();
    *ok = oks;
    *failed = fails;
    return absl::Microseconds(slowest_us.load());
  }

  StandInIdentity identity_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(ServiceTokenTest, TheFirstCallerGetsTheFirstTokenAndLaterOnesReuseIt) {
  ApiKeyServiceToken token(Addr(), "cpk_ak_x_secret");
  absl::StatusOr<std::string> first = token.Get();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "token-1");
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*token.Get(), "token-1");
  EXPECT_EQ(token.exchanges(), 1);
}

TEST_F(ServiceTokenTest, RenewalRunsAheadOfExpiryWithOneCallInFlightAndNobodyWaitsForIt) {
  identity_.ttl_ms = 8000;
  ApiKeyServiceToken token(Addr(), "cpk_ak_x_secret");
  ASSERT_TRUE(token.Get().ok());
  // The next exchange (at half the lifetime, 4 s) takes 2 s: callers keep the old token at once.
  identity_.delay_ms = 2000;
  int ok = 0, failed = 0;
  const absl::Duration slowest = Hammer(token, absl::Seconds(7), &ok, &failed);
  EXPECT_LT(slowest, absl::Milliseconds(100));
  EXPECT_EQ(failed, 0);
  EXPECT_GT(ok, 100);
  EXPECT_EQ(identity_.in_flight_max.load(), 1);
  EXPECT_EQ(*token.Get(), "token-2");  // renewed before the first one expired
}

TEST_F(ServiceTokenTest, AnIdentityOutageLongerThanATokenFailsCallsAtOnceAndServiceResumes) {
  identity_.ttl_ms = 6000;
  ApiKeyServiceToken token(Addr(), "cpk_ak_x_secret",
                           {.call_timeout = absl::Seconds(1),
                            .min_backoff = absl::Milliseconds(100),
                            .max_backoff = absl::Milliseconds(800)});
  ASSERT_TRUE(token.Get().ok());
  Stop();
  // Identity stays down for longer than a token lives: first the held token serves, then every
  // call fails fast; none waits on the exchanges retried in the background.
  int ok = 0, failed = 0;
  const absl::Duration slowest = Hammer(token, absl::Seconds(8), &ok, &failed);
  EXPECT_LT(slowest, absl::Milliseconds(100));
  EXPECT_GT(ok, 0);
  EXPECT_GT(failed, 0);
  const absl::Status down = token.Get().status();
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable) << down;
  // Backoff: a handful of attempts, not a flood.
  EXPECT_LT(token.exchanges(), 20);

  Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  absl::StatusOr<std::string> back = token.Get();
  while (!back.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    back = token.Get();
  }
  ASSERT_TRUE(back.ok()) << back.status();
}

TEST_F(ServiceTokenTest, AnUnreachableIdentityAtStartAnswersUnavailableWithinTheFirstWait) {
  Stop();
  ApiKeyServiceToken token(
      Addr(), "cpk_ak_x_secret",
      {.call_timeout = absl::Milliseconds(300), .first_token_wait = absl::Seconds(2)});
  const absl::Time t0 = absl::Now();
  EXPECT_EQ(token.Get().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - t0, absl::Seconds(3));
}

}  // namespace
}  // namespace civicpoints::server
