// Identity under concurrent callers: a retried registration racing itself, a rider checking in
// twice at once, and a burst of password guesses against one phone.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

// Runs `call(i)` on `n` threads at once.
void Together(int n, const std::function<void(int)>& call) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(call, i);
  for (auto& t : threads) t.join();
}

TEST(IdentityConcurrencyTest, ARegistrationRacingItselfMakesOnePerson) {
  IdentityTestEnv env;
  ASSERT_TRUE(env.ok());
  v1::GetPrivacyPolicyResponse policy;
  ASSERT_TRUE(env.stub().GetPrivacyPolicy(env.With("").get(), {}, &policy).ok());
  absl::Mutex mu;
  std::set<std::string> people;
  std::atomic<int> ok{0};
  Together(8, [&](int) {
    v1::RegisterRiderRequest req;
    req.set_idempotency_key("same-key");
    req.set_phone("13800138000");
    req.set_password(kRiderPassword);
    req.set_display_name("小王");
    req.mutable_consent()->set_policy_version(policy.policy_version());
    for (const auto& p : policy.purposes()) req.mutable_consent()->add_purposes(p.purpose());
    v1::RegisterRiderResponse resp;
    grpc::Status s = env.stub().RegisterRider(env.With("").get(), req, &resp);
    if (!s.ok()) {
      ADD_FAILURE() << s.error_message();
      return;
    }
    ++ok;
    absl::MutexLock lock(&mu);
    people.insert(resp.person().person_id());
  });
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(people.size(), 1u);
  EXPECT_EQ(env.Sql("SELECT count(*) FROM people WHERE is_rider"), "1");
}

TEST(IdentityConcurrencyTest, CheckingInTwiceAtOnceLeavesOneHomeCommunity) {
  IdentityTestEnv env;
  ASSERT_TRUE(env.ok());
  const std::string d = env.MakeOrg("root", common::v1::ORG_LEVEL_DISTRICT, "140213", "平城区");
  const std::string s = env.MakeOrg(d, common::v1::ORG_LEVEL_STREET, "qingyuan", "清远街道");
  std::vector<std::string> codes;
  for (const char* code : {"qyxj", "gnl", "wx"}) {
    const std::string c = env.MakeOrg(s, common::v1::ORG_LEVEL_COMMUNITY, code, code);
    v1::GetCheckInCodeRequest req;
    req.set_org_id(c);
    v1::GetCheckInCodeResponse resp;
    ASSERT_TRUE(env.stub().GetCheckInCode(env.With(env.admin_token()).get(), req, &resp).ok());
    codes.push_back(resp.code().code());
  }
  const std::string rider = env.Register("13800138000", "小王").tokens().access_token();
  std::atomic<int> ok{0};
  Together(9, [&](int i) {
    v1::CheckInWithCodeRequest req;
    req.set_idempotency_key(absl::StrCat("k", i));
    req.set_code(codes[i % codes.size()]);
    v1::CheckInWithCodeResponse resp;
    grpc::Status st = env.stub().CheckInWithCode(env.With(rider).get(), req, &resp);
    // Each either moves the rider or finds them already there; none fails otherwise.
    if (st.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS) << st.error_message();
    }
  });
  EXPECT_GE(ok.load(), 1);
  EXPECT_EQ(env.Sql("SELECT count(*) FROM check_ins WHERE status = 2"), "1");
  EXPECT_EQ(env.Sql("SELECT count(*) FROM check_ins WHERE status = 3"),
            std::to_string(ok.load() - 1));
}

TEST(IdentityConcurrencyTest, ABurstOfGuessesGetsNoMoreTriesThanTheLimit) {
  IdentityTestEnv env;
  ASSERT_TRUE(env.ok());
  env.Register("13800138000", "小王");
  std::atomic<int> judged{0}, refused{0};
  Together(20, [&](int i) {
    v1::LoginRequest req;
    req.set_phone("13800138000");
    req.set_password(absl::StrCat("guess-", i, "-pass"));
    v1::LoginResponse resp;
    grpc::Status s = env.stub().Login(env.With("").get(), req, &resp);
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) ++judged;
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++refused;
  });
  EXPECT_EQ(judged.load(), 5);
  EXPECT_EQ(refused.load(), 15);
}

}  // namespace
}  // namespace civicpoints::identity
