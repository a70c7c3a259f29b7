// The ledger's gRPC face: who may call what, riders confined to their own account, statuses and
// request ids on the wire.
#include "services/ledger/ledger_grpc_service.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/server/service_host.h"
#include "services/ledger/ledger_test_env.h"

namespace civicpoints::ledger {
namespace {

using common::v1::ROLE_CITY_SYSTEM;
using common::v1::ROLE_DISTRICT_ADMIN;
using common::v1::ROLE_INTERNAL_SERVICE;
using common::v1::ROLE_RIDER;
using common::v1::ROLE_STREET_STAFF;

class LedgerGrpcServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    auth::TokenSigner::GenerateKeyPair(&pk_, &sk_);
    auth::KeySet keys;
    keys.Add("k", pk_);
    authorizer_ = std::make_unique<auth::Authorizer>(std::make_shared<const auth::TokenVerifier>(
        std::make_shared<auth::StaticKeyProvider>(keys)));
    service_ = std::make_unique<LedgerGrpcService>(&env_.ledger(), authorizer_.get());
    auto host = server::ServiceHost::Start(
        {.service_name = "ledger"}, {{v1::LedgerService::service_full_name(), service_.get()}});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
    stub_ = v1::LedgerService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(host_->grpc_port()), grpc::InsecureChannelCredentials()));
  }

  // A context carrying a token for `subject` with the given role (none: no token at all).
  std::unique_ptr<grpc::ClientContext> As(const std::string& subject,
                                          std::optional<auth::Role> role,
                                          std::vector<std::string> scopes = {},
                                          const std::string& org = "s_qingyuan") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (role.has_value()) {
      auth::Principal p;
      p.subject = subject;
      p.roles = {{*role, org}};
      p.scopes = std::move(scopes);
      p.issued_at = absl::Now();
      p.expires_at = absl::Now() + absl::Minutes(15);
      ctx->AddMetadata("authorization", "Bearer " + auth::TokenSigner("k", sk_).Sign(p));
    }
    return ctx;
  }

  static v1::AwardRequest Award(const std::string& key, const std::string& person) {
    v1::AwardRequest r;
    r.set_idempotency_key(key);
    r.set_person_id(person);
    r.set_amount(7);
    r.set_source_kind(v1::SOURCE_KIND_SERVICE_RECORD);
    r.set_source_id(key);
    r.set_verified_by_person_id("staff");
    r.set_points_rule_id("rule");
    r.mutable_org_path()->set_district_id("d");
    r.mutable_org_path()->set_street_id("s_qingyuan");
    r.mutable_org_path()->set_community_id("c");
    return r;
  }

  LedgerTestEnv env_;
  auth::Ed25519PublicKey pk_;
  auth::Ed25519SecretKey sk_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<LedgerGrpcService> service_;
  std::unique_ptr<server::ServiceHost> host_;
  std::unique_ptr<v1::LedgerService::Stub> stub_;
};

TEST_F(LedgerGrpcServiceTest, OnlyInternalServicesAward) {
  v1::AwardResponse resp;
  EXPECT_EQ(stub_->Award(As("", std::nullopt).get(), Award("k1", "p1"), &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub_->Award(As("p1", ROLE_RIDER).get(), Award("k1", "p1"), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      stub_->Award(As("staff", ROLE_STREET_STAFF).get(), Award("k1", "p1"), &resp).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status ok =
      stub_->Award(As("svc:activity", ROLE_INTERNAL_SERVICE).get(), Award("k1", "p1"), &resp);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(resp.entry().actor_id(), "svc:activity");
  EXPECT_EQ(resp.account().available(), 7);
}

TEST_F(LedgerGrpcServiceTest, RidersSeeOnlyTheirOwnAccount) {
  v1::AwardResponse award;
  ASSERT_TRUE(stub_->Award(As("svc", ROLE_INTERNAL_SERVICE).get(), Award("k1", "p1"), &award).ok());
  v1::GetBalanceRequest mine;
  mine.set_person_id("p1");
  v1::GetBalanceResponse balance;
  ASSERT_TRUE(stub_->GetBalance(As("p1", ROLE_RIDER).get(), mine, &balance).ok());
  EXPECT_EQ(balance.account().available(), 7);
  grpc::Status other = stub_->GetBalance(As("p2", ROLE_RIDER).get(), mine, &balance);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(stub_->GetBalance(As("staff", ROLE_STREET_STAFF).get(), mine, &balance).ok());

  v1::GetEntryRequest entry;
  entry.set_entry_id(award.entry().entry_id());
  v1::GetEntryResponse got;
  EXPECT_EQ(stub_->GetEntry(As("p2", ROLE_RIDER).get(), entry, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(stub_->GetEntry(As("p1", ROLE_RIDER).get(), entry, &got).ok());
}

TEST_F(LedgerGrpcServiceTest, StaffReachOnlyAccountsInTheirPartOfTheTree) {
  v1::AwardResponse award;
  ASSERT_TRUE(stub_->Award(As("svc", ROLE_INTERNAL_SERVICE).get(), Award("k1", "p1"), &award).ok());
  v1::GetBalanceRequest get;
  get.set_person_id("p1");
  v1::GetBalanceResponse balance;
  EXPECT_EQ(stub_->GetBalance(As("other", ROLE_STREET_STAFF, {}, "s_xinwang").get(), get, &balance)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::DeductRequest deduct;
  deduct.set_idempotency_key("d1");
  deduct.set_person_id("p1");
  deduct.set_amount(2);
  deduct.set_reason("test");
  v1::DeductResponse deducted;
  EXPECT_EQ(stub_->Deduct(As("other", ROLE_STREET_STAFF, {}, "s_xinwang").get(), deduct, &deducted)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ReverseRequest reverse;
  reverse.set_idempotency_key("r1");
  reverse.set_entry_id(award.entry().entry_id());
  reverse.set_reason("test");
  v1::ReverseResponse reversed;
  EXPECT_EQ(
      stub_->Reverse(As("other", ROLE_DISTRICT_ADMIN, {}, "d_yungang").get(), reverse, &reversed)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  // Nothing moved; then the street's own staff may.
  ASSERT_TRUE(stub_->GetBalance(As("staff", ROLE_STREET_STAFF).get(), get, &balance).ok());
  EXPECT_EQ(balance.account().available(), 7);
  EXPECT_TRUE(stub_->Deduct(As("staff", ROLE_STREET_STAFF).get(), deduct, &deducted).ok());
  EXPECT_EQ(deducted.account().available(), 5);
}

TEST_F(LedgerGrpcServiceTest, CitySystemsNeedTheReadScope) {
  v1::GetBalanceRequest req;
  req.set_person_id("p1");
  v1::GetBalanceResponse resp;
  EXPECT_EQ(stub_->GetBalance(As("grid", ROLE_CITY_SYSTEM).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(
      stub_->GetBalance(As("grid", ROLE_CITY_SYSTEM, {"ledger.read"}).get(), req, &resp).ok());
}

TEST_F(LedgerGrpcServiceTest, BadInputComesBackAsInvalidArgumentNamingTheField) {
  v1::AwardRequest req = Award("k1", "p1");
  req.set_amount(0);
  v1::AwardResponse resp;
  grpc::Status s = stub_->Award(As("svc", ROLE_INTERNAL_SERVICE).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("amount"));
}

TEST_F(LedgerGrpcServiceTest, PartsNotBuiltAnswerUnimplemented) {
  v1::RebuildRankingsRequest req;  // rebuilding a single ranking is not built yet
  req.mutable_scope()->set_level(common::v1::ORG_LEVEL_CITY);
  v1::RebuildRankingsResponse resp;
  EXPECT_EQ(stub_->RebuildRankings(As("svc", ROLE_INTERNAL_SERVICE).get(), req, &resp).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace civicpoints::ledger
