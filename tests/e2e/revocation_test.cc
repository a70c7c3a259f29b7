// Revocation through the running suite (ctest fixture cp_suite), over the gateway's gRPC face:
// after LogoutEverywhere, a role revocation, a suspension and an API-key revocation, the old access
// token is refused by identity, the ledger and the gateway well before it expires. Each delay is
// measured from the revoking call's answer to the first refusal, printed, and held under 10 s
// (the services poll identity's ListRevocations every 3 s by default).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "civicpoints/ledger/v1/ledger_service.pb.h"
#include "tests/e2e/suite_client.h"

namespace civicpoints::e2e {
namespace {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;
using grpc::StatusCode;
using Clock = std::chrono::steady_clock;

const std::string kIdentity = "civicpoints.identity.v1.IdentityService.";
const std::string kLedger = "civicpoints.ledger.v1.LedgerService.";
constexpr auto kPromised = std::chrono::seconds(10);

class RevocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string addr = SuiteSetting("CP_SUITE_GATEWAY_ADDR");
    ASSERT_FALSE(addr.empty()) << "run under ctest (fixture cp_suite sets CP_SUITE_*)";
    channel_ = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
    const RunNames names = NamesOfThisRun("rv", 9);
    run_ = names.tag;
    phone_base_ = names.phone_base;
    identity::v1::LoginRequest login;
    login.set_phone(SuiteSetting("CP_SUITE_ADMIN_PHONE"));
    login.set_password(SuiteSetting("CP_SUITE_ADMIN_PASSWORD"));
    admin_ = Ok<identity::v1::LoginResponse>("Login", login).tokens().access_token();
    ASSERT_FALSE(admin_.empty());
  }

  // Calls an identity method (or a full method name) as the admin and expects OK.
  template <typename Resp, typename Req>
  Resp Ok(const std::string& method, const Req& req) {
    return OkAs<Resp>(method, req, admin_);
  }
  // The same with `token` ("" for none).
  template <typename Resp, typename Req>
  Resp OkAs(const std::string& method, const Req& req, const std::string& token) {
    Resp resp;
    const std::string full = method.find('.') == std::string::npos ? kIdentity + method : method;
    grpc::Status s = Call(full, token, req, &resp);
    EXPECT_TRUE(s.ok()) << method << ": " << s.error_code() << " " << s.error_message();
    return resp;
  }

  std::string Phone() {
    return absl::StrCat("157", absl::Dec(phone_base_ + phones_++, absl::kZeroPad8));
  }

  std::string Org(const std::string& parent, common::v1::OrgLevel level, const std::string& code) {
    identity::v1::CreateOrgNodeRequest req;
    req.set_parent_id(parent);
    req.set_level(level);
    req.set_code(absl::StrCat(run_, "-", code));
    req.set_name(absl::StrCat("撤销测试", code, "·", run_));
    return Ok<identity::v1::CreateOrgNodeResponse>("CreateOrgNode", req).node().org_id();
  }

  // A rider's token pair from registration.
  identity::v1::RegisterRiderResponse Rider(const std::string& name) {
    identity::v1::GetPrivacyPolicyResponse policy = Ok<identity::v1::GetPrivacyPolicyResponse>(
        "GetPrivacyPolicy", identity::v1::GetPrivacyPolicyRequest());
    identity::v1::RegisterRiderRequest reg;
    reg.set_idempotency_key(absl::StrCat(run_, "-rider-", phones_));
    reg.set_phone(Phone());
    reg.set_password("Rider-pass-2026");
    reg.set_display_name(name);
    reg.mutable_consent()->set_policy_version(policy.policy_version());
    for (const auto& p : policy.purposes()) reg.mutable_consent()->add_purposes(p.purpose());
    identity::v1::RegisterRiderResponse resp;
    grpc::Status s = Call(kIdentity + "RegisterRider", "", reg, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  // Calls `probe` with `token` until it is refused as UNAUTHENTICATED; returns how long that took
  // from `since`, or more than kPromised when it never was.
  Clock::duration UntilRefused(const std::string& what, const std::function<grpc::Status()>& probe,
                               Clock::time_point since) {
    while (Clock::now() - since < kPromised + std::chrono::seconds(5)) {
      grpc::Status s = probe();
      if (s.error_code() == StatusCode::UNAUTHENTICATED) {
        const auto delay = Clock::now() - since;
        std::cout << what << ": refused after "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(delay).count() << " ms ("
                  << s.error_message() << ")\n";
        return delay;
      }
      EXPECT_TRUE(s.ok()) << what << " before the refusal: " << s.error_code() << " "
                          << s.error_message();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << what << ": the old token was still accepted";
    return kPromised + std::chrono::seconds(5);
  }

  grpc::Status WhoAmI(const std::string& token) {
    identity::v1::WhoAmIResponse resp;
    return Call(kIdentity + "WhoAmI", token, identity::v1::WhoAmIRequest(), &resp);
  }
  grpc::Status Balance(const std::string& token, const std::string& person) {
    ledger::v1::GetBalanceRequest req;
    req.set_person_id(person);
    ledger::v1::GetBalanceResponse resp;
    return Call(kLedger + "GetBalance", token, req, &resp);
  }

  // Calls `method` ("pkg.Service.Method") through the gateway's gRPC face as `token`.
  grpc::Status Call(const std::string& method, const std::string& token,
                    const google::protobuf::Message& req, google::protobuf::Message* resp) {
    std::string path = "/" + method;
    path[path.rfind('.')] = '/';
    return CallMethod(channel_, path, token, req, resp);
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::string run_, admin_;
  int64_t phone_base_ = 0;
  int phones_ = 0;
};

TEST_F(RevocationTest, SignedOutEverywhereTheOldTokenIsRefusedByIdentityAndTheLedger) {
  identity::v1::RegisterRiderResponse rider = Rider("退出测试");
  const std::string token = rider.tokens().access_token();
  const std::string id = rider.person().person_id();
  ASSERT_TRUE(WhoAmI(token).ok());
  ASSERT_TRUE(Balance(token, id).ok());

  OkAs<identity::v1::LogoutEverywhereResponse>("LogoutEverywhere",
                                               identity::v1::LogoutEverywhereRequest(), token);
  const Clock::time_point revoked = Clock::now();
  EXPECT_LT(UntilRefused(
                "LogoutEverywhere, ledger", [&] { return Balance(token, id); }, revoked),
            kPromised);
  EXPECT_LT(UntilRefused(
                "LogoutEverywhere, identity", [&] { return WhoAmI(token); }, revoked),
            kPromised);
}

TEST_F(RevocationTest, ASuspendedRidersTokenIsRefused) {
  identity::v1::RegisterRiderResponse rider = Rider("停用测试");
  const std::string token = rider.tokens().access_token();
  const std::string id = rider.person().person_id();
  ASSERT_TRUE(Balance(token, id).ok());

  identity::v1::UpdatePersonRequest suspend;
  suspend.set_person_id(id);
  suspend.set_status(identity::v1::PERSON_STATUS_SUSPENDED);
  suspend.set_reason("revocation test");
  suspend.mutable_update_mask()->add_paths("status");
  Ok<identity::v1::UpdatePersonResponse>("UpdatePerson", suspend);
  EXPECT_LT(UntilRefused(
                "suspension, ledger", [&] { return Balance(token, id); }, Clock::now()),
            kPromised);
}

TEST_F(RevocationTest, AStaffMemberWhoseRoleIsRevokedLosesItWithinSeconds) {
  const std::string district = Org("root", ORG_LEVEL_DISTRICT, "d");
  const std::string street = Org(district, ORG_LEVEL_STREET, "s");
  const StaffMember staff = MakeStaff(
      [&](const std::string& m, const std::string& token, const google::protobuf::Message& req,
          google::protobuf::Message* resp) { return Call(m, token, req, resp); },
      admin_, Phone(), "街道工作人员", common::v1::ROLE_STREET_STAFF, street, run_ + "-");
  const std::string& token = staff.token;
  const std::string& grant_id = staff.grant_id;

  ledger::v1::GetOrgStatisticsRequest stats;
  stats.mutable_scope()->set_level(ORG_LEVEL_STREET);
  stats.mutable_scope()->set_org_id(street);
  auto street_stats = [&] {
    ledger::v1::GetOrgStatisticsResponse resp;
    return Call(kLedger + "GetOrgStatistics", token, stats, &resp);
  };
  ASSERT_TRUE(street_stats().ok()) << street_stats().error_message();

  identity::v1::RevokeRoleRequest revoke;
  revoke.set_grant_id(grant_id);
  revoke.set_reason("revocation test");
  Ok<identity::v1::RevokeRoleResponse>("RevokeRole", revoke);
  EXPECT_LT(UntilRefused("role revoked, ledger", street_stats, Clock::now()), kPromised);
}

TEST_F(RevocationTest, ARevokedApiKeysTokenIsRefused) {
  const std::string district = Org("root", ORG_LEVEL_DISTRICT, "k");
  identity::v1::CreateServiceAccountRequest account;
  account.set_idempotency_key(absl::StrCat(run_, "-account"));
  account.set_display_name("网格管理系统");
  account.set_role(common::v1::ROLE_CITY_SYSTEM);
  account.set_org_id(district);
  const std::string account_id =
      Ok<identity::v1::CreateServiceAccountResponse>("CreateServiceAccount", account)
          .service_account()
          .service_account_id();
  identity::v1::CreateApiKeyRequest key;
  key.set_idempotency_key(absl::StrCat(run_, "-key"));
  key.set_service_account_id(account_id);
  key.set_display_name("grid");
  key.add_scopes("ledger.read");
  identity::v1::CreateApiKeyResponse created =
      Ok<identity::v1::CreateApiKeyResponse>("CreateApiKey", key);
  identity::v1::ExchangeApiKeyRequest exchange;
  exchange.set_api_key(created.secret());
  identity::v1::ExchangeApiKeyResponse exchanged;
  ASSERT_TRUE(Call(kIdentity + "ExchangeApiKey", "", exchange, &exchanged).ok());
  const std::string token = exchanged.access_token();

  ledger::v1::GetOrgStatisticsRequest stats;
  stats.mutable_scope()->set_level(ORG_LEVEL_DISTRICT);
  stats.mutable_scope()->set_org_id(district);
  auto district_stats = [&] {
    ledger::v1::GetOrgStatisticsResponse resp;
    return Call(kLedger + "GetOrgStatistics", token, stats, &resp);
  };
  ASSERT_TRUE(district_stats().ok()) << district_stats().error_message();

  identity::v1::RevokeApiKeyRequest revoke;
  revoke.set_api_key_id(created.api_key().api_key_id());
  revoke.set_reason("revocation test");
  Ok<identity::v1::RevokeApiKeyResponse>("RevokeApiKey", revoke);
  EXPECT_LT(UntilRefused("API key revoked, ledger", district_stats, Clock::now()), kPromised);
}

}  // namespace
}  // namespace civicpoints::e2e
