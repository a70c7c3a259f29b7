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

// Street staff of another street and a district admin of another district, against a rider of
// d_pingcheng / s_qingyuan / c_west: every admin method naming the rider or an org node there is
// refused, and nothing is written.
TEST_F(LedgerGrpcServiceTest, AdminMethodsStayInsideTheCallersPartOfTheTree) {
  v1::AwardRequest award = Award("k1", "p1");
  award.mutable_org_path()->set_district_id("d_pingcheng");
  award.mutable_org_path()->set_community_id("c_west");
  v1::AwardResponse awarded;
  ASSERT_TRUE(stub_->Award(As("svc", ROLE_INTERNAL_SERVICE).get(), award, &awarded).ok());

  auto scope = [](common::v1::OrgLevel level, const std::string& id) {
    common::v1::OrgScope s;
    s.set_level(level);
    s.set_org_id(id);
    return s;
  };
  const common::v1::OrgScope street = scope(common::v1::ORG_LEVEL_STREET, "s_qingyuan");
  const common::v1::OrgScope community = scope(common::v1::ORG_LEVEL_COMMUNITY, "c_west");
  const common::v1::OrgScope district = scope(common::v1::ORG_LEVEL_DISTRICT, "d_pingcheng");
  const common::v1::OrgScope city = scope(common::v1::ORG_LEVEL_CITY, "");

  struct Outsider {
    std::string subject;
    auth::Role role;
    std::string org;
  };
  for (const Outsider& o : {Outsider{"other_street", ROLE_STREET_STAFF, "s_xinwang"},
                            Outsider{"other_district", ROLE_DISTRICT_ADMIN, "d_yungang"}}) {
    SCOPED_TRACE(o.subject);
    auto as = [&] { return As(o.subject, o.role, {}, o.org); };
    v1::ExcludeFromRankingsRequest exclude;
    exclude.set_person_id("p1");
    exclude.set_reason("gaming the ranking");
    v1::ExcludeFromRankingsResponse excluded;
    EXPECT_EQ(stub_->ExcludeFromRankings(as().get(), exclude, &excluded).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::RestoreToRankingsRequest restore;
    restore.set_person_id("p1");
    restore.set_reason("back");
    v1::RestoreToRankingsResponse restored;
    EXPECT_EQ(stub_->RestoreToRankings(as().get(), restore, &restored).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::GetRankRequest rank;
    rank.set_person_id("p1");
    *rank.mutable_scope() = community;
    rank.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
    v1::GetRankResponse ranked;
    EXPECT_EQ(stub_->GetRank(as().get(), rank, &ranked).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::GetRankingNeighboursRequest around;
    around.set_person_id("p1");
    *around.mutable_scope() = community;
    around.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
    v1::GetRankingNeighboursResponse neighbours;
    EXPECT_EQ(stub_->GetRankingNeighbours(as().get(), around, &neighbours).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    for (const common::v1::OrgScope& where : {street, community, district, city}) {
      SCOPED_TRACE(where.ShortDebugString());
      v1::ListRankingExclusionsRequest list;
      *list.mutable_scope() = where;
      v1::ListRankingExclusionsResponse listed;
      EXPECT_EQ(stub_->ListRankingExclusions(as().get(), list, &listed).error_code(),
                grpc::StatusCode::PERMISSION_DENIED);
      v1::GetOrgStatisticsRequest stats;
      *stats.mutable_scope() = where;
      v1::GetOrgStatisticsResponse figures;
      EXPECT_EQ(stub_->GetOrgStatistics(as().get(), stats, &figures).error_code(),
                grpc::StatusCode::PERMISSION_DENIED);
      v1::CreateSeasonRequest season;
      season.set_idempotency_key("season-" + o.subject);
      season.set_display_name("autumn");
      *season.mutable_scope() = where;
      season.mutable_start_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
      season.mutable_end_time()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(24)));
      v1::CreateSeasonResponse created;
      EXPECT_EQ(stub_->CreateSeason(as().get(), season, &created).error_code(),
                grpc::StatusCode::PERMISSION_DENIED);
      v1::SnapshotRankingRequest snapshot;
      snapshot.set_idempotency_key("rewards/window/w1/cut");
      *snapshot.mutable_scope() = where;
      snapshot.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
      snapshot.set_top_n(15);
      v1::SnapshotRankingResponse snapped;
      EXPECT_EQ(stub_->SnapshotRanking(as().get(), snapshot, &snapped).error_code(),
                grpc::StatusCode::PERMISSION_DENIED);
    }
    v1::VerifyJournalRequest verify;
    v1::VerifyJournalResponse verified;
    if (o.role == ROLE_DISTRICT_ADMIN) {  // the method's roles: district admins and city systems
      EXPECT_EQ(stub_->VerifyJournal(as().get(), verify, &verified).error_code(),
                grpc::StatusCode::PERMISSION_DENIED);
      verify.set_person_id("p1");
      EXPECT_EQ(stub_->VerifyJournal(as().get(), verify, &verified).error_code(),
                grpc::StatusCode::PERMISSION_DENIED);
    }
  }
  // Nothing was written.
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM ledger.ranking_exclusions"), 0);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM ledger.ranking_exclusion_events"), 0);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM ledger.seasons"), 0);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM ledger.ranking_snapshots"), 0);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM ledger.idempotency_keys WHERE method <> 'Award'"), 0);

  // The rider's own street and district may, down to the community (placed by the rider's
  // account), and the window's key is still free for its owner.
  v1::ExcludeFromRankingsRequest exclude;
  exclude.set_person_id("p1");
  exclude.set_reason("gaming the ranking");
  v1::ExcludeFromRankingsResponse excluded;
  grpc::Status s =
      stub_->ExcludeFromRankings(As("staff", ROLE_STREET_STAFF).get(), exclude, &excluded);
  EXPECT_TRUE(s.ok()) << s.error_message();
  v1::ListRankingExclusionsRequest list;
  *list.mutable_scope() = community;
  v1::ListRankingExclusionsResponse listed;
  s = stub_->ListRankingExclusions(As("admin", ROLE_DISTRICT_ADMIN, {}, "d_pingcheng").get(), list,
                                   &listed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(listed.exclusions_size(), 1);
  v1::SnapshotRankingRequest snapshot;
  snapshot.set_idempotency_key("rewards/window/w1/cut");
  *snapshot.mutable_scope() = street;
  snapshot.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  snapshot.set_top_n(15);
  v1::SnapshotRankingResponse snapped;
  s = stub_->SnapshotRanking(As("sa_rewards", ROLE_INTERNAL_SERVICE).get(), snapshot, &snapped);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(LedgerGrpcServiceTest, ANodeTheLedgerCannotPlaceIsRefusedToGrantsAboveIt) {
  v1::GetOrgStatisticsRequest stats;
  stats.mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
  stats.mutable_scope()->set_org_id("c_new");
  v1::GetOrgStatisticsResponse figures;
  grpc::Status s = stub_->GetOrgStatistics(
      As("admin", ROLE_DISTRICT_ADMIN, {}, "d_pingcheng").get(), stats, &figures);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("no rider has points under it"));
  // A grant at the node itself needs no placing; the city root covers everything.
  s = stub_->GetOrgStatistics(As("community", common::v1::ROLE_COMMUNITY_STAFF, {}, "c_new").get(),
                              stats, &figures);
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = stub_->GetOrgStatistics(As("root", ROLE_DISTRICT_ADMIN, {}, "root").get(), stats, &figures);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // Bad input is named before any scope question.
  stats.mutable_scope()->clear_org_id();
  s = stub_->GetOrgStatistics(As("admin", ROLE_DISTRICT_ADMIN, {}, "d_pingcheng").get(), stats,
                              &figures);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("scope.org_id"));
}

TEST_F(LedgerGrpcServiceTest, ACitySystemIsConfinedToItsAccountsNode) {
  v1::AwardRequest award = Award("k1", "p1");
  award.mutable_org_path()->set_district_id("d_pingcheng");
  v1::AwardResponse awarded;
  ASSERT_TRUE(stub_->Award(As("svc", ROLE_INTERNAL_SERVICE).get(), award, &awarded).ok());
  auto grid = [&](const std::string& org) {
    return As("sa_grid_" + org, ROLE_CITY_SYSTEM, {"ledger.read", "ledger.audit"}, org);
  };
  v1::GetBalanceRequest balance;
  balance.set_person_id("p1");
  v1::GetBalanceResponse account;
  EXPECT_EQ(stub_->GetBalance(grid("d_yungang").get(), balance, &account).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListEntriesRequest entries;
  entries.set_person_id("p1");
  v1::ListEntriesResponse listed;
  EXPECT_EQ(stub_->ListEntries(grid("d_yungang").get(), entries, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetOrgStatisticsRequest stats;
  stats.mutable_scope()->set_level(common::v1::ORG_LEVEL_DISTRICT);
  stats.mutable_scope()->set_org_id("d_pingcheng");
  v1::GetOrgStatisticsResponse figures;
  EXPECT_EQ(stub_->GetOrgStatistics(grid("d_yungang").get(), stats, &figures).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetOrgStatisticsRequest whole_city;
  whole_city.mutable_scope()->set_level(common::v1::ORG_LEVEL_CITY);
  EXPECT_EQ(stub_->GetOrgStatistics(grid("d_pingcheng").get(), whole_city, &figures).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::VerifyJournalRequest verify;
  v1::VerifyJournalResponse verified;
  EXPECT_EQ(stub_->VerifyJournal(grid("d_pingcheng").get(), verify, &verified).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // In its own district it reads the rider, the district and the street below it.
  grpc::Status s = stub_->GetBalance(grid("d_pingcheng").get(), balance, &account);
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = stub_->GetOrgStatistics(grid("d_pingcheng").get(), stats, &figures);
  EXPECT_TRUE(s.ok()) << s.error_message();
  stats.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  stats.mutable_scope()->set_org_id("s_qingyuan");
  s = stub_->GetOrgStatistics(grid("d_pingcheng").get(), stats, &figures);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(LedgerGrpcServiceTest, AServiceKeepsItsKeysAcrossTokensAndAnotherCallerCannotTakeThem) {
  v1::AwardResponse awarded;
  ASSERT_TRUE(
      stub_->Award(As("svc", ROLE_INTERNAL_SERVICE).get(), Award("k1", "p1"), &awarded).ok());
  v1::SnapshotRankingRequest cut;
  cut.set_idempotency_key("rewards/window/w1/cut");
  cut.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
  cut.mutable_scope()->set_org_id("s_qingyuan");
  cut.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  cut.set_top_n(15);
  // Street staff in scope take the window's key first, with another request.
  v1::SnapshotRankingRequest squat = cut;
  squat.set_top_n(1);
  v1::SnapshotRankingResponse squatted;
  ASSERT_TRUE(
      stub_->SnapshotRanking(As("mallory", ROLE_STREET_STAFF).get(), squat, &squatted).ok());
  // Rewards still freezes its own cut, and a renewed token (same service account) replays it.
  v1::SnapshotRankingResponse first, again;
  grpc::Status s =
      stub_->SnapshotRanking(As("sa_rewards", ROLE_INTERNAL_SERVICE).get(), cut, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(first.snapshot().top_n(), 15);
  EXPECT_NE(first.snapshot().snapshot_id(), squatted.snapshot().snapshot_id());
  ASSERT_TRUE(
      stub_->Award(As("svc", ROLE_INTERNAL_SERVICE).get(), Award("k2", "p2"), &awarded).ok());
  s = stub_->SnapshotRanking(As("sa_rewards", ROLE_INTERNAL_SERVICE).get(), cut, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.snapshot().snapshot_id(), first.snapshot().snapshot_id());
  EXPECT_EQ(again.snapshot().entries_size(), 1);
}

TEST_F(LedgerGrpcServiceTest, BadInputComesBackAsInvalidArgumentNamingTheField) {
  v1::AwardRequest req = Award("k1", "p1");
  req.set_amount(0);
  v1::AwardResponse resp;
  grpc::Status s = stub_->Award(As("svc", ROLE_INTERNAL_SERVICE).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("amount"));
}

TEST_F(LedgerGrpcServiceTest, RebuildingOneScopesRankingsAnswersWhatItRebuilt) {
  v1::RebuildRankingsRequest req;
  req.mutable_scope()->set_level(common::v1::ORG_LEVEL_CITY);
  v1::RebuildRankingsResponse resp;
  grpc::Status s = stub_->RebuildRankings(As("svc", ROLE_INTERNAL_SERVICE).get(), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  req.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);  // a street names its id
  s = stub_->RebuildRankings(As("svc", ROLE_INTERNAL_SERVICE).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("scope.org_id"));
}

}  // namespace
}  // namespace civicpoints::ledger
