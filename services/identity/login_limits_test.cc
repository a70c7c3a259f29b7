// Limits that cannot be turned against the people they protect: failed logins count per phone and
// address and per address, guesses at one phone from many addresses only slow down, a device that
// signed in before keeps its own budget, wrong API keys never stop the right one, registration
// tells nobody which phones are registered, and argon2id runs within its memory budget.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/status/grpc_status.h"
#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

constexpr char kPhone[] = "13800138000";

// An environment that takes the client's address from x-client-address, as behind the gateway.
void BehindTheGateway(IdentityOptions& o) { o.trust_client_address_header = true; }

class LoginLimitsTest : public ::testing::Test {
 protected:
  explicit LoginLimitsTest(std::function<void(IdentityOptions&)> adjust = BehindTheGateway)
      : env_(adjust) {}
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    env_.Register(kPhone, "小李");
  }

  grpc::Status Login(const std::string& password, const std::string& address,
                     const std::string& device_token = "", v1::LoginResponse* out = nullptr) {
    v1::LoginRequest req;
    req.set_phone(kPhone);
    req.set_password(password);
    req.set_device_token(device_token);
    auto ctx = env_.With("");
    ctx->AddMetadata("x-client-address", address);
    v1::LoginResponse resp;
    return env_.stub().Login(ctx.get(), req, out ? out : &resp);
  }

  IdentityTestEnv env_;
};

TEST_F(LoginLimitsTest, OneAddressFailingCannotLockTheRiderOutFromAnother) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Login("wrong-pass-1", "203.0.113.7").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::Status locked = Login(kRiderPassword, "203.0.113.7");
  EXPECT_EQ(locked.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The wait told is the time until the oldest failure leaves the 15-minute window.
  std::optional<absl::Duration> wait = RetryDelayOf(FromGrpcStatus(locked));
  ASSERT_TRUE(wait.has_value());
  EXPECT_GT(*wait, absl::Minutes(14));
  EXPECT_LE(*wait, absl::Minutes(15));
  // The rider, elsewhere, signs in at once.
  EXPECT_TRUE(Login(kRiderPassword, "198.51.100.20").ok());
}

TEST_F(LoginLimitsTest, ADeviceThatSignedInBeforeIsNotHeldUpByOthersFailures) {
  v1::LoginResponse first;
  ASSERT_TRUE(Login(kRiderPassword, "198.51.100.20", "", &first).ok());
  const std::string device = first.device_token();
  ASSERT_EQ(device.rfind("cpd_", 0), 0u) << device;
  // An attacker behind the same address (one carrier NAT) fails 60 times at this phone and others:
  // the phone-and-address pair and then the whole address are held now.
  for (int i = 0; i < 60; ++i) {
    v1::LoginRequest req;
    req.set_phone(i % 2 ? kPhone : absl::StrCat("1370000", 1000 + i));
    req.set_password("wrong-pass-1");
    auto ctx = env_.With("");
    ctx->AddMetadata("x-client-address", "198.51.100.20");
    v1::LoginResponse resp;
    env_.stub().Login(ctx.get(), req, &resp);
  }
  EXPECT_EQ(Login(kRiderPassword, "198.51.100.20").error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The rider's own phone, with its device token, signs in and gets a fresh token.
  v1::LoginResponse again;
  grpc::Status s = Login(kRiderPassword, "198.51.100.20", device, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(again.device_token().empty());
  // Its own failures count on its own budget of 5.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Login("wrong-pass-2", "198.51.100.20", device).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(Login(kRiderPassword, "198.51.100.20", device).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Another device token still works; one made for another phone is only ignored; a string that
  // is no device token is refused naming the field.
  EXPECT_TRUE(Login(kRiderPassword, "198.51.100.20", again.device_token()).ok());
  env_.Register("13800138001", "小王");
  v1::LoginRequest req;
  req.set_phone("13800138001");
  req.set_password(kRiderPassword);
  v1::LoginResponse theirs;
  ASSERT_TRUE(env_.stub().Login(env_.With("").get(), req, &theirs).ok());
  EXPECT_EQ(Login(kRiderPassword, "198.51.100.20", theirs.device_token()).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  grpc::Status bad = Login(kRiderPassword, "198.51.100.20", "cookie");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("device_token"), std::string::npos);
}

class GrowingDelayTest : public LoginLimitsTest {
 protected:
  GrowingDelayTest()
      : LoginLimitsTest([](IdentityOptions& o) {
          BehindTheGateway(o);
          o.login.phone_failures_before_delays = 3;
          o.login.phone_first_delay = absl::Seconds(1);
          o.login.phone_max_delay = absl::Seconds(2);
        }) {}
};

TEST_F(GrowingDelayTest, GuessesFromManyAddressesAreSlowedDownNotLockedOut) {
  int address = 0;
  auto from_new_address = [&](const std::string& password) {
    return Login(password, absl::StrCat("203.0.113.", ++address));
  };
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(from_new_address("wrong-pass-1").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // Past 3 failures at the phone, from anywhere: a wait after the latest, growing, capped.
  for (int64_t expected : {1, 2, 2}) {
    grpc::Status held = from_new_address("wrong-pass-1");
    ASSERT_EQ(held.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    std::optional<absl::Duration> wait = RetryDelayOf(FromGrpcStatus(held));
    ASSERT_TRUE(wait.has_value());
    EXPECT_LE(*wait, absl::Seconds(expected));
    absl::SleepFor(*wait);
    EXPECT_EQ(from_new_address("wrong-pass-1").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // Never a lockout: the rider, waiting the time told, gets in.
  grpc::Status held = from_new_address(kRiderPassword);
  ASSERT_EQ(held.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  absl::SleepFor(*RetryDelayOf(FromGrpcStatus(held)));
  EXPECT_TRUE(from_new_address(kRiderPassword).ok());
}

TEST_F(LoginLimitsTest, RegisteringATakenPhoneSaysNothingAndCountsAsAFailedLogin) {
  v1::RegisterRiderRequest req;
  req.set_idempotency_key("attacker-1");
  req.set_phone(kPhone);
  req.set_password("guess-pass-7");
  req.set_display_name("冒名");
  req.mutable_consent()->set_policy_version(IdentityOptions().policy_version);
  for (auto p : {v1::CONSENT_PURPOSE_ACCOUNT, v1::CONSENT_PURPOSE_COMMUNITY_SERVICE,
                 v1::CONSENT_PURPOSE_POINTS_AND_RANKINGS}) {
    req.mutable_consent()->add_purposes(p);
  }
  auto register_from = [&](const std::string& key, const std::string& address) {
    req.set_idempotency_key(key);
    auto ctx = env_.With("");
    ctx->AddMetadata("x-client-address", address);
    v1::RegisterRiderResponse resp;
    return env_.stub().RegisterRider(ctx.get(), req, &resp);
  };
  grpc::Status taken = register_from("attacker-1", "203.0.113.9");
  grpc::Status wrong_login = Login("guess-pass-7", "203.0.113.10");
  EXPECT_EQ(taken.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(taken.error_message(), wrong_login.error_message());
  EXPECT_EQ(taken.error_message().find("registered"), std::string::npos);
  for (int i = 2; i <= 5; ++i) register_from(absl::StrCat("attacker-", i), "203.0.113.9");
  // Five guesses from one address through registration: that address is held for this phone.
  EXPECT_EQ(register_from("attacker-6", "203.0.113.9").error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM people WHERE is_rider"), "1");
}

TEST(HashBudgetTest, ConcurrentLoginsBeyondTheBudgetAreToldToRetryAndAllGetInLater) {
  // Hashes of 8 MiB in a budget of 8 MiB: one at a time, and no queueing.
  IdentityTestEnv env([](IdentityOptions& o) {
    BehindTheGateway(o);
    o.hasher.opslimit = 4;
    o.hasher.memlimit_bytes = size_t{8} << 20;
    o.hash_memory_budget_bytes = size_t{8} << 20;
    o.hash_queue_wait = absl::ZeroDuration();
  });
  ASSERT_TRUE(env.ok());
  env.Register(kPhone, "小李");
  constexpr int kCallers = 16;
  std::atomic<int> signed_in{0}, told_to_retry{0}, other{0};
  std::vector<int> retry;
  absl::Mutex mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      v1::LoginRequest req;
      req.set_phone(i % 3 ? kPhone : "13700000000");  // unknown phones hash a dummy too
      req.set_password(kRiderPassword);
      auto ctx = env.With("");
      ctx->AddMetadata("x-client-address", absl::StrCat("198.51.100.", i));
      v1::LoginResponse resp;
      grpc::Status s = env.stub().Login(ctx.get(), req, &resp);
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
          RetryDelayOf(FromGrpcStatus(s)).has_value()) {
        ++told_to_retry;
        absl::MutexLock lock(&mu);
        retry.push_back(i);
      } else if (s.ok() || s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
        ++signed_in;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(told_to_retry.load(), 0);
  EXPECT_EQ(signed_in.load() + told_to_retry.load(), kCallers);
  // Retried one by one, everyone who was turned away gets their answer.
  for (int i : retry) {
    v1::LoginRequest req;
    req.set_phone(i % 3 ? kPhone : "13700000000");
    req.set_password(kRiderPassword);
    auto ctx = env.With("");
    ctx->AddMetadata("x-client-address", absl::StrCat("198.51.100.", i));
    v1::LoginResponse resp;
    grpc::Status s = env.stub().Login(ctx.get(), req, &resp);
    EXPECT_EQ(s.error_code(), i % 3 ? grpc::StatusCode::OK : grpc::StatusCode::UNAUTHENTICATED)
        << s.error_message();
  }
}

}  // namespace
}  // namespace civicpoints::identity
