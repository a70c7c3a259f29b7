// A rider's privacy: withdrawing consent to statistics, and closing the account (by the rider or
// by an admin), which ends the rider's orders first (rewards stood in for by the env's fake; the
// end-to-end story uses the real one) and changes nothing when that fails.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

class PrivacyTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.ok()); }

  IdentityTestEnv env_;
  FakeRiderOrders& orders_ = env_.rider_orders();
};

TEST_F(PrivacyTest, ARiderWithdrawsConsentToStatistics) {
  const v1::RegisterRiderResponse rider = env_.Register("13800138020", "王建军");
  const std::string id = rider.person().person_id();
  EXPECT_EQ(
      env_.Sql(absl::StrCat("SELECT counted_in_stats FROM people WHERE person_id = '", id, "'")),
      "t");
  v1::UpdateMyConsentRequest req;
  for (auto p : {v1::CONSENT_PURPOSE_ACCOUNT, v1::CONSENT_PURPOSE_COMMUNITY_SERVICE,
                 v1::CONSENT_PURPOSE_POINTS_AND_RANKINGS}) {
    req.add_purposes(p);
  }
  v1::UpdateMyConsentResponse resp;
  grpc::Status s =
      env_.stub().UpdateMyConsent(env_.With(rider.tokens().access_token()).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(resp.counted_in_statistics());
  EXPECT_EQ(resp.consent().purposes_size(), 3);
  EXPECT_EQ(
      env_.Sql(absl::StrCat("SELECT counted_in_stats FROM people WHERE person_id = '", id, "'")),
      "f");
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT count(*) FROM consents WHERE person_id = '", id, "'")),
            "2")
      << "a new record beside the first, so the history shows both";

  // What an account is for cannot be withdrawn here, and bad values are named.
  const auto refused = [&](v1::UpdateMyConsentRequest bad, const std::string& what) {
    grpc::Status st =
        env_.stub().UpdateMyConsent(env_.With(rider.tokens().access_token()).get(), bad, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << what;
    EXPECT_TRUE(absl::StartsWith(st.error_message(), "purposes:")) << st.error_message();
    EXPECT_TRUE(absl::StrContains(st.error_message(), what)) << st.error_message();
  };
  v1::UpdateMyConsentRequest no_points = req;
  no_points.mutable_purposes()->RemoveLast();
  refused(no_points, "CloseMyAccount");
  v1::UpdateMyConsentRequest twice = req;
  twice.add_purposes(v1::CONSENT_PURPOSE_ACCOUNT);
  refused(twice, "twice");
  v1::UpdateMyConsentRequest unknown = req;
  unknown.add_purposes(static_cast<v1::ConsentPurpose>(42));
  refused(unknown, "42");
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT count(*) FROM consents WHERE person_id = '", id, "'")),
            "2");
}

TEST_F(PrivacyTest, ClosingEndsTheOrdersFirstThenErasesTheAccount) {
  const v1::RegisterRiderResponse rider = env_.Register("13800138021", "李四");
  const std::string id = rider.person().person_id();
  const std::string token = rider.tokens().access_token();
  v1::CloseMyAccountRequest req;
  req.set_password("not-the-password");
  v1::CloseMyAccountResponse resp;
  EXPECT_EQ(env_.stub().CloseMyAccount(env_.With(token).get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(orders_.calls, 0) << "nothing is asked of rewards before the password";

  // Rewards cannot end the orders: nothing is closed, and the rider may try again.
  req.set_password(kRiderPassword);
  req.set_reason("换城市了");
  orders_.down = true;
  EXPECT_EQ(env_.stub().CloseMyAccount(env_.With(token).get(), req, &resp).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT status FROM people WHERE person_id = '", id, "'")), "1");

  orders_.down = false;
  grpc::Status s = env_.stub().CloseMyAccount(env_.With(token).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(orders_.LastRider(), id);
  EXPECT_EQ(resp.orders_cancelled(), 2);
  EXPECT_EQ(resp.person().status(), v1::PERSON_STATUS_CLOSED);
  EXPECT_EQ(resp.person().display_name(), "已注销用户");
  EXPECT_TRUE(absl::StartsWith(resp.person().rider().ranking_name(), "小哥 #"));
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT count(*) FROM people WHERE person_id = '", id,
                                  "' AND phone_hash IS NULL AND password_hash IS NULL")),
            "1");
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT count(*) FROM sessions WHERE person_id = '", id,
                                  "' AND revoked_at IS NULL")),
            "0");
  EXPECT_TRUE(env_.Login("13800138021", kRiderPassword).empty());
  // The phone may register again, as a new person.
  EXPECT_NE(env_.Register("13800138021", "李四").person().person_id(), id);

  // Bad input changes nothing.
  const v1::RegisterRiderResponse other = env_.Register("13800138022", "赵六");
  v1::CloseMyAccountRequest bad;
  s = env_.stub().CloseMyAccount(env_.With(other.tokens().access_token()).get(), bad, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "password:")) << s.error_message();
  bad.set_password(kRiderPassword);
  bad.set_reason(std::string(201, 'x'));
  s = env_.stub().CloseMyAccount(env_.With(other.tokens().access_token()).get(), bad, &resp);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "reason:")) << s.error_message();
  EXPECT_EQ(orders_.calls, 2);
}

TEST_F(PrivacyTest, AnAdminClosingARidersAccountEndsTheOrdersFirstAsTheRiderWould) {
  const v1::RegisterRiderResponse rider = env_.Register("13800138024", "孙八");
  const std::string id = rider.person().person_id();
  v1::UpdatePersonRequest close;
  close.set_person_id(id);
  close.set_status(v1::PERSON_STATUS_CLOSED);
  close.set_reason("本人来电要求注销");
  close.mutable_update_mask()->add_paths("status");
  v1::UpdatePersonResponse closed;
  // Rewards cannot end the orders: nothing is closed, and the admin may try again.
  orders_.down = true;
  EXPECT_EQ(
      env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), close, &closed).error_code(),
      grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT status FROM people WHERE person_id = '", id, "'")), "1");
  EXPECT_FALSE(env_.Login("13800138024", kRiderPassword).empty()) << "the rider still signs in";
  orders_.down = false;
  grpc::Status s = env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), close, &closed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(orders_.LastRider(), id);
  EXPECT_EQ(closed.person().status(), v1::PERSON_STATUS_CLOSED);
  EXPECT_EQ(orders_.calls, 2);

  // Suspending is not closing (the orders stay, to be picked up when the rider is back), and a
  // refused close asks nothing of rewards.
  const std::string other = env_.Register("13800138025", "钱九").person().person_id();
  v1::UpdatePersonRequest suspend = close;
  suspend.set_person_id(other);
  suspend.set_status(v1::PERSON_STATUS_SUSPENDED);
  ASSERT_TRUE(env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), suspend, &closed).ok());
  EXPECT_EQ(
      env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), close, &closed).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION)
      << "already closed";
  EXPECT_EQ(orders_.calls, 2);
}

TEST(PrivacyWithoutRewardsTest, ClosingSaysWhatIsMissing) {
  IdentityTestEnv env([](IdentityOptions& o) { o.rider_orders = nullptr; });
  ASSERT_TRUE(env.ok());
  const v1::RegisterRiderResponse rider = env.Register("13800138023", "周七");
  v1::CloseMyAccountRequest req;
  req.set_password(kRiderPassword);
  v1::CloseMyAccountResponse resp;
  grpc::Status s =
      env.stub().CloseMyAccount(env.With(rider.tokens().access_token()).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "rewards_addr")) << s.error_message();
  // An admin's close of a rider too; a staff member's account has no orders to end.
  v1::UpdatePersonRequest close;
  close.set_person_id(rider.person().person_id());
  close.set_status(v1::PERSON_STATUS_CLOSED);
  close.set_reason("注销");
  close.mutable_update_mask()->add_paths("status");
  v1::UpdatePersonResponse closed;
  s = env.stub().UpdatePerson(env.With(env.admin_token()).get(), close, &closed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "rewards_addr")) << s.error_message();
}

}  // namespace
}  // namespace civicpoints::identity
