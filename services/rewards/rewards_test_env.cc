#include "services/rewards/rewards_test_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/pg/migrations.h"
#include "common/status/grpc_status.h"
#include "google/rpc/error_details.pb.h"
#include "services/rewards/records.h"
#include "services/rewards/sql_enums.h"

std::vector<std::pair<std::string, std::string>> RewardsMigrations();

namespace civicpoints::rewards {

using common::v1::ROLE_INTERNAL_SERVICE;
using common::v1::ROLE_STREET_STAFF;

grpc::Status FakePlaces::GetPlace(grpc::ServerContext*, const activity::v1::GetPlaceRequest* req,
                                  activity::v1::GetPlaceResponse* resp) {
  auto it = places.find(req->place_id());
  if (it == places.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such place");
  *resp->mutable_place() = it->second;
  return grpc::Status::OK;
}

grpc::Status FakeOrgs::GetOrgNode(grpc::ServerContext*, const identity::v1::GetOrgNodeRequest* req,
                                  identity::v1::GetOrgNodeResponse* resp) {
  auto it = nodes.find(req->org_id());
  if (it == nodes.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such node");
  *resp->mutable_node() = it->second;
  return grpc::Status::OK;
}

grpc::Status FakeOrgs::ExchangeApiKey(grpc::ServerContext*,
                                      const identity::v1::ExchangeApiKeyRequest* req,
                                      identity::v1::ExchangeApiKeyResponse* resp) {
  if (api_key.empty() || req->api_key() != api_key || !sign) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "API key is unknown, expired or revoked, or its account is disabled");
  }
  const absl::Time now = absl::Now();
  auth::Principal p;
  p.subject = "svc:rewards";
  p.token_id = absl::StrCat("t_exchange_", ++exchanges);
  p.roles = {{common::v1::ROLE_INTERNAL_SERVICE, "root"}};
  p.kind = "service_account";
  p.issued_at = now;
  p.expires_at = absl::FromUnixSeconds(absl::ToUnixSeconds(now + token_lifetime));
  resp->set_access_token(sign(p));
  resp->mutable_access_token_expire_time()->set_seconds(absl::ToUnixSeconds(p.expires_at));
  resp->set_token_type("Bearer");
  return grpc::Status::OK;
}

std::string ReasonOf(const grpc::Status& status) { return ErrorReasonOf(FromGrpcStatus(status)); }

std::map<std::string, std::string> FiguresOf(const grpc::Status& status) {
  auto payload = FromGrpcStatus(status).GetPayload("type.googleapis.com/google.rpc.ErrorInfo");
  google::rpc::ErrorInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) return {};
  return {info.metadata().begin(), info.metadata().end()};
}

namespace {

identity::v1::OrgNode Node(const std::string& id, const std::string& name,
                           common::v1::OrgLevel level, const std::string& district,
                           const std::string& street, const std::string& community) {
  identity::v1::OrgNode n;
  n.set_org_id(id);
  n.set_name(name);
  n.set_level(level);
  n.set_status(identity::v1::ORG_NODE_STATUS_ACTIVE);
  n.mutable_path()->set_district_id(district);
  n.mutable_path()->set_street_id(street);
  n.mutable_path()->set_community_id(community);
  return n;
}

activity::v1::Place Place(const std::string& id, activity::v1::PlaceKind kind,
                          const std::string& community, const std::string& keeper) {
  activity::v1::Place p;
  p.set_place_id(id);
  p.set_kind(kind);
  p.set_community_id(community);
  p.set_status(activity::v1::PLACE_STATUS_ACTIVE);
  p.mutable_org_path()->set_district_id(RewardsTestEnv::kDistrict);
  p.mutable_org_path()->set_street_id(RewardsTestEnv::kStreet);
  p.mutable_org_path()->set_community_id(community);
  p.set_keeper_person_id(keeper);
  return p;
}

}  // namespace

RewardsTestEnv::RewardsTestEnv(RewardsOptions options, Options env) {
  auth::TokenSigner::GenerateKeyPair(&pk_, &sk_);
  auth::KeySet keys;
  keys.Add("test", pk_);
  authorizer_ = std::make_unique<auth::Authorizer>(
      std::make_shared<const auth::TokenVerifier>(std::make_shared<auth::StaticKeyProvider>(keys)));
  // The ledger trusts the same key, given as a deployment gives development keys: a JWKS file.
  char jwks_path[] = "/tmp/cp-rewards-jwks-XXXXXX";
  const int fd = mkstemp(jwks_path);
  if (fd < 0) {
    ADD_FAILURE() << "mkstemp failed";
    return;
  }
  close(fd);
  jwks_file_ = jwks_path;
  std::ofstream(jwks_file_) << keys.ToJwks();
  ledger_ = std::make_unique<testing::LedgerPeer>(
      std::map<std::string, std::string>{{"CP_JWKS_FILE", jwks_file_}});
  if (!ledger_->ok()) return;

  using common::v1::ORG_LEVEL_COMMUNITY;
  using common::v1::ORG_LEVEL_DISTRICT;
  using common::v1::ORG_LEVEL_STREET;
  orgs_.nodes[kDistrict] = Node(kDistrict, "平城区", ORG_LEVEL_DISTRICT, kDistrict, "", "");
  orgs_.nodes[kStreet] = Node(kStreet, "清远街道", ORG_LEVEL_STREET, kDistrict, kStreet, "");
  orgs_.nodes[kOtherStreet] =
      Node(kOtherStreet, "新旺街道", ORG_LEVEL_STREET, kDistrict, kOtherStreet, "");
  orgs_.nodes[kCommunity] =
      Node(kCommunity, "清远西街社区", ORG_LEVEL_COMMUNITY, kDistrict, kStreet, kCommunity);
  orgs_.nodes[kCommunity2] =
      Node(kCommunity2, "工农路社区", ORG_LEVEL_COMMUNITY, kDistrict, kStreet, kCommunity2);
  places_.places[kStationA] =
      Place(kStationA, activity::v1::PLACE_KIND_RIDER_STATION, kCommunity, "keeper_a");
  places_.places[kStationB] =
      Place(kStationB, activity::v1::PLACE_KIND_RIDER_STATION, kCommunity2, "keeper_b");
  places_.places[kLoveCorner] =
      Place(kLoveCorner, activity::v1::PLACE_KIND_LOVE_CORNER, kCommunity, "merchant");
  auto peers = server::ServiceHost::Start(
      {.service_name = "peers"}, {{activity::v1::ActivityService::service_full_name(), &places_},
                                  {identity::v1::IdentityService::service_full_name(), &orgs_}});
  if (!peers.ok()) {
    ADD_FAILURE() << peers.status();
    return;
  }
  peers_host_ = *std::move(peers);

  // Rewards' way to identity goes through a relay; its ways to activity and the ledger do not.
  identity_link_ =
      std::make_unique<testing::TcpRelay>(absl::StrCat("127.0.0.1:", peers_host_->grpc_port()));
  if (env.exchange_api_key) {
    orgs_.api_key = "cpk_akrewards_" + std::string(43, 'k');
    orgs_.token_lifetime = env.token_lifetime;
    orgs_.sign = [this](const auth::Principal& p) {
      return auth::TokenSigner("test", sk_).Sign(p);
    };
    service_token_ = std::make_unique<server::ApiKeyServiceToken>(identity_link_->address(),
                                                                  orgs_.api_key, env.token);
  } else {
    service_token_ = std::make_unique<server::FixedServiceToken>(
        Token("svc:rewards", ROLE_INTERNAL_SERVICE, "root"));
  }
  auto channel = [](const std::string& address) {
    return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  };
  const std::string ledger_addr = ledger_->address();
  ledger_client_ = std::make_unique<LedgerClient>(channel(ledger_addr), service_token_.get());
  directory_ =
      std::make_unique<GrpcDirectory>(channel(absl::StrCat("127.0.0.1:", peers_host_->grpc_port())),
                                      channel(identity_link_->address()), service_token_.get());
  ledger_stub_ = ledger::v1::LedgerService::NewStub(channel(ledger_addr));

  auto pool = pg::PgPool::Connect({.url = db_.url(), .schema = "rewards", .pool_size = 16});
  if (!pool.ok()) {
    ADD_FAILURE() << pool.status();
    return;
  }
  pool_ = *std::move(pool);
  auto migrations = pg::MigrationsFromFiles(RewardsMigrations());
  absl::Status migrated = pool_->WithConnection("migrate", [&](pqxx::connection_base& c) {
    return pg::ApplyMigrations(c, "rewards", *migrations, RewardsSqlEnums()).status();
  });
  if (!migrated.ok()) {
    ADD_FAILURE() << migrated;
    return;
  }
  StartRewards(std::move(options));
}

RewardsTestEnv::~RewardsTestEnv() {
  if (host_) host_->Shutdown(absl::ZeroDuration());
  service_.reset();
  if (peers_host_) peers_host_->Shutdown(absl::ZeroDuration());
  ledger_.reset();
  if (!jwks_file_.empty()) unlink(jwks_file_.c_str());
}

void RewardsTestEnv::StartRewards(RewardsOptions options) {
  service_ = std::make_unique<RewardsServiceImpl>(
      pool_.get(), authorizer_.get(), ledger_client_.get(), directory_.get(), std::move(options));
  auto host = server::ServiceHost::Start(
      {.service_name = "rewards"}, {{v1::RewardsService::service_full_name(), service_.get()}});
  if (!host.ok()) {
    ADD_FAILURE() << host.status();
    return;
  }
  host_ = *std::move(host);
  stub_ = v1::RewardsService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", host_->grpc_port()), grpc::InsecureChannelCredentials()));
}

void RewardsTestEnv::Restart(RewardsOptions options) {
  host_->Shutdown(absl::ZeroDuration());
  host_.reset();
  service_.reset();
  stub_.reset();
  StartRewards(std::move(options));
}

std::string RewardsTestEnv::Token(const std::string& subject, common::v1::Role role,
                                  const std::string& org, std::vector<std::string> scopes) {
  auth::Principal p;
  p.subject = subject;
  if (role != common::v1::ROLE_UNSPECIFIED) p.roles = {{role, org}};
  p.scopes = std::move(scopes);
  p.issued_at = absl::Now();
  p.expires_at = absl::Now() + absl::Minutes(15);
  return auth::TokenSigner("test", sk_).Sign(p);
}

std::unique_ptr<grpc::ClientContext> RewardsTestEnv::As(const std::string& subject,
                                                        common::v1::Role role,
                                                        const std::string& org) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", absl::StrCat("Bearer ", Token(subject, role, org)));
  return ctx;
}

bool RewardsTestEnv::Award(const std::string& rider, int64_t points) {
  ledger::v1::AwardRequest r;
  const std::string key = absl::StrCat("test-award-", ++awards_);
  r.set_idempotency_key(key);
  r.set_person_id(rider);
  r.set_amount(points);
  r.set_source_kind(ledger::v1::SOURCE_KIND_SERVICE_RECORD);
  r.set_source_id(key);
  r.set_verified_by_person_id("staff_street");
  r.set_points_rule_id("rule");
  r.mutable_org_path()->set_district_id(kDistrict);
  r.mutable_org_path()->set_street_id(kStreet);
  r.mutable_org_path()->set_community_id(kCommunity);
  ledger::v1::AwardResponse resp;
  auto ctx = As("svc:activity", ROLE_INTERNAL_SERVICE, "root");
  grpc::Status s = ledger_stub_->Award(ctx.get(), r, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return s.ok();
}

ledger::v1::Account RewardsTestEnv::Account(const std::string& rider) {
  ledger::v1::GetBalanceRequest r;
  r.set_person_id(rider);
  ledger::v1::GetBalanceResponse resp;
  auto ctx = As("svc:rewards", ROLE_INTERNAL_SERVICE, "root");
  grpc::Status s = ledger_stub_->GetBalance(ctx.get(), r, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.account();
}

ledger::v1::Hold RewardsTestEnv::Hold(const std::string& redemption_id) {
  ledger::v1::GetHoldRequest r;
  r.set_order_id(redemption_id);
  ledger::v1::GetHoldResponse resp;
  auto ctx = As("svc:rewards", ROLE_INTERNAL_SERVICE, "root");
  (void)ledger_stub_->GetHold(ctx.get(), r, &resp);
  return resp.hold();
}

std::string RewardsTestEnv::MakeGift(const std::string& name, int64_t cost) {
  v1::CreateGiftRequest r;
  r.set_name(name);
  r.set_category(v1::GIFT_CATEGORY_ELECTRONICS);
  r.set_points_cost(cost);
  r.set_owner_org_id(kStreet);
  r.set_idempotency_key(absl::StrCat("gift-", ++keys_));
  v1::CreateGiftResponse resp;
  grpc::Status s = stub_->CreateGift(StreetStaff().get(), r, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.gift().gift_id();
}

void RewardsTestEnv::Stock(const std::string& station, const std::string& gift, int64_t quantity) {
  v1::AddStationStockRequest r;
  r.set_station_id(station);
  r.set_gift_id(gift);
  r.set_quantity(quantity);
  r.set_reason("街道办配送");
  r.set_idempotency_key(absl::StrCat("stock-", ++keys_));
  v1::AddStationStockResponse resp;
  grpc::Status s = stub_->AddStationStock(StreetStaff().get(), r, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

v1::ExchangeWindow RewardsTestEnv::MakeWindow(const std::vector<std::string>& gifts, bool open,
                                              std::optional<v1::EligibilityRule> rule,
                                              int32_t max_items, int32_t max_per_gift) {
  v1::CreateExchangeWindowRequest r;
  v1::ExchangeWindow* w = r.mutable_window();
  w->set_title("清远西街驿站首次积分兑换日");
  w->set_owner_org_id(kStreet);
  w->add_station_ids(kStationA);
  w->add_station_ids(kStationB);
  const absl::Time now = absl::Now();
  SetTime(w->mutable_start_time(), Us(now + absl::Hours(1)));
  SetTime(w->mutable_end_time(), Us(now + absl::Hours(9)));
  for (const std::string& g : gifts) {
    v1::WindowGift* wg = w->add_gifts();
    wg->set_gift_id(g);
    wg->set_max_per_rider(max_per_gift);
  }
  if (rule.has_value()) *w->mutable_eligibility() = *rule;
  w->set_max_items_per_rider(max_items);
  r.set_idempotency_key(absl::StrCat("window-", ++keys_));
  v1::CreateExchangeWindowResponse created;
  grpc::Status s = stub_->CreateExchangeWindow(StreetStaff().get(), r, &created);
  EXPECT_TRUE(s.ok()) << s.error_message();
  if (!open) return created.window();
  v1::OpenExchangeWindowRequest o;
  o.set_window_id(created.window().window_id());
  v1::OpenExchangeWindowResponse opened;
  s = stub_->OpenExchangeWindow(StreetStaff().get(), o, &opened);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return opened.window();
}

grpc::Status RewardsTestEnv::Redeem(const std::string& rider, const std::string& window,
                                    const std::string& gift, v1::Redemption* out, int32_t quantity,
                                    const std::string& station, const std::string& key) {
  v1::CreateRedemptionRequest r;
  r.set_window_id(window);
  r.set_station_id(station);
  r.set_gift_id(gift);
  r.set_quantity(quantity);
  r.set_idempotency_key(key.empty() ? absl::StrCat("redeem-", rider, "-", ++keys_) : key);
  v1::CreateRedemptionResponse resp;
  grpc::Status s = stub_->CreateRedemption(Rider(rider).get(), r, &resp);
  if (out != nullptr) *out = resp.redemption();
  return s;
}

grpc::Status RewardsTestEnv::Fulfil(std::unique_ptr<grpc::ClientContext> ctx,
                                    const std::string& station, const std::string& code,
                                    v1::Redemption* out, const std::string& key) {
  v1::FulfilRedemptionRequest r;
  r.set_station_id(station);
  r.set_pickup_code(code);
  r.set_idempotency_key(key.empty() ? absl::StrCat("fulfil-", ++keys_) : key);
  v1::FulfilRedemptionResponse resp;
  grpc::Status s = stub_->FulfilRedemption(ctx.get(), r, &resp);
  if (out != nullptr) *out = resp.redemption();
  return s;
}

v1::StationStock RewardsTestEnv::StockOf(const std::string& station, const std::string& gift) {
  v1::ListStationStockRequest r;
  r.set_station_id(station);
  r.set_page_size(100);
  v1::ListStationStockResponse resp;
  grpc::Status s = stub_->ListStationStock(StreetStaff().get(), r, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  for (const v1::StationStock& st : resp.stock()) {
    if (st.gift_id() == gift) return st;
  }
  return {};
}

void RewardsTestEnv::Exec(const std::string& statement) {
  pqxx::connection c(db_.url());
  pqxx::work tx(c);
  tx.exec("SET search_path = rewards");
  tx.exec(statement);
  tx.commit();
}

std::string RewardsTestEnv::Sql(const std::string& query) {
  return testing::FirstCell(db_.url(), "rewards", query);
}

}  // namespace civicpoints::rewards
