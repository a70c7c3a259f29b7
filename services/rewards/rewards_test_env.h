// A whole rewards service for tests, over the real ledger: the ledger's binary (tests/peers:
// scratch database, its own Redis, trusting the test signing key) on a free port, stand-ins for
// activity's GetPlace and identity's GetOrgNode and ExchangeApiKey (the only things rewards asks
// them) on another port, and the rewards service on a third, over a scratch database of its own.
// Rewards reaches identity (but not activity or the ledger) through a relay a test can cut. Tokens
// are minted with a test signing key that every service trusts; rewards' own is fixed, or traded
// for an API key with the stand-in identity as in a deployment. The org tree and places are the
// story's: 平城区 › 清远街道 › 清远西街社区 and 工农路社区.
#ifndef CIVICPOINTS_SERVICES_REWARDS_REWARDS_TEST_ENV_H_
#define CIVICPOINTS_SERVICES_REWARDS_REWARDS_TEST_ENV_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "common/auth/jwt.h"
#include "common/auth/method_policy.h"
#include "common/pg/pg_pool.h"
#include "common/server/service_host.h"
#include "common/server/service_token.h"
#include "common/testing/tcp_relay.h"
#include "common/testing/test_env.h"
#include "services/rewards/directory.h"
#include "services/rewards/ledger_client.h"
#include "services/rewards/rewards_service.h"
#include "tests/peers/ledger_peer.h"

namespace civicpoints::rewards {

// Activity's and identity's answers about places and org nodes, as fixed maps.
class FakePlaces final : public activity::v1::ActivityService::Service {
 public:
  grpc::Status GetPlace(grpc::ServerContext*, const activity::v1::GetPlaceRequest* req,
                        activity::v1::GetPlaceResponse* resp) override;
  std::map<std::string, activity::v1::Place> places;
};
class FakeOrgs final : public identity::v1::IdentityService::Service {
 public:
  grpc::Status GetOrgNode(grpc::ServerContext*, const identity::v1::GetOrgNodeRequest* req,
                          identity::v1::GetOrgNodeResponse* resp) override;
  // Trades `api_key`, and no other, for a token `sign` makes for svc:rewards as an internal service
  // at the root, expiring `token_lifetime` from now (in whole seconds, as a token's exp is).
  grpc::Status ExchangeApiKey(grpc::ServerContext*, const identity::v1::ExchangeApiKeyRequest* req,
                              identity::v1::ExchangeApiKeyResponse* resp) override;
  std::map<std::string, identity::v1::OrgNode> nodes;
  std::string api_key;
  absl::Duration token_lifetime = absl::Minutes(15);
  std::function<std::string(const auth::Principal&)> sign;
  std::atomic<int> exchanges{0};  // tokens given
};

class RewardsTestEnv {
 public:
  static constexpr char kDistrict[] = "d_pingcheng";
  static constexpr char kStreet[] = "s_qingyuan";
  static constexpr char kCommunity[] = "c_qyxj";       // 清远西街社区
  static constexpr char kCommunity2[] = "c_gongnong";  // 工农路社区
  static constexpr char kOtherStreet[] = "s_xinwang";
  static constexpr char kStationA[] = "pl_station_qyxj";      // in kCommunity, kept by keeper_a
  static constexpr char kStationB[] = "pl_station_gongnong";  // in kCommunity2, kept by keeper_b
  static constexpr char kLoveCorner[] = "pl_corner_1";

  struct Options {
    // Rewards' service token: by default one minted here and never renewed; when set, a real
    // ApiKeyServiceToken trading an API key with the stand-in identity (through identity_link()).
    bool exchange_api_key = false;
    // How that token behaves (tests of an identity outage shorten its timeouts and backoff).
    server::ApiKeyServiceToken::Options token;
    // How long the stand-in identity's tokens live.
    absl::Duration token_lifetime = absl::Minutes(15);
  };
  explicit RewardsTestEnv(RewardsOptions options = {})
      : RewardsTestEnv(std::move(options), Options()) {}
  RewardsTestEnv(RewardsOptions options, Options env);
  ~RewardsTestEnv();
  bool ok() const { return stub_ != nullptr; }

  v1::RewardsService::Stub& stub() { return *stub_; }
  ledger::v1::LedgerService::Stub& ledger_stub() { return *ledger_stub_; }
  RewardsServiceImpl& service() { return *service_; }
  const std::string& db_url() const { return db_.url(); }
  // Rewards reaches identity (its token exchanges and org lookups) through this relay: cut,
  // identity is down for rewards while activity and the ledger still answer.
  testing::TcpRelay& identity_link() { return *identity_link_; }
  // The token rewards presents to the ledger and its peers.
  server::ServiceToken& service_token() { return *service_token_; }
  // How many tokens the stand-in identity has given for rewards' API key.
  int identity_exchanges() const { return orgs_.exchanges.load(); }
  // The first column of the first row of a query on the ledger's database ("ledger." tables).
  int64_t LedgerSql(const std::string& query) { return ledger_->Sql(query); }

  // Stops the rewards service (as a crash would: nothing is finished) and starts a fresh one over
  // the same database with `options`.
  void Restart(RewardsOptions options);

  // A token for `subject` holding `role` at `org` ("" for none), and a context carrying it.
  std::string Token(const std::string& subject, common::v1::Role role, const std::string& org,
                    std::vector<std::string> scopes = {});
  std::unique_ptr<grpc::ClientContext> As(const std::string& subject, common::v1::Role role,
                                          const std::string& org = "");
  std::unique_ptr<grpc::ClientContext> Rider(const std::string& rider) {
    return As(rider, common::v1::ROLE_RIDER, kCommunity);
  }
  std::unique_ptr<grpc::ClientContext> StreetStaff() {
    return As("staff_street", common::v1::ROLE_STREET_STAFF, kStreet);
  }
  std::unique_ptr<grpc::ClientContext> KeeperA() {
    return As("keeper_a", common::v1::ROLE_STATION_KEEPER, kCommunity);
  }
  std::unique_ptr<grpc::ClientContext> KeeperB() {
    return As("keeper_b", common::v1::ROLE_STATION_KEEPER, kCommunity2);
  }

  // Awards `points` to `rider` in kCommunity through the ledger; false on failure.
  bool Award(const std::string& rider, int64_t points);
  // The rider's account in the ledger.
  ledger::v1::Account Account(const std::string& rider);
  // The order's hold in the ledger (state UNSPECIFIED when none).
  ledger::v1::Hold Hold(const std::string& redemption_id);

  // Shortcuts as street staff; each fails the test on error and returns the id.
  std::string MakeGift(const std::string& name, int64_t cost);
  void Stock(const std::string& station, const std::string& gift, int64_t quantity);
  // A window at kStationA (and kStationB) offering `gifts`, opened unless `open` is false.
  v1::ExchangeWindow MakeWindow(const std::vector<std::string>& gifts, bool open = true,
                                std::optional<v1::EligibilityRule> rule = std::nullopt,
                                int32_t max_items = 0, int32_t max_per_gift = 0);

  // CreateRedemption as `rider` (a fresh key unless `key` is given).
  grpc::Status Redeem(const std::string& rider, const std::string& window, const std::string& gift,
                      v1::Redemption* out, int32_t quantity = 1,
                      const std::string& station = kStationA, const std::string& key = "");
  // FulfilRedemption at `station` by the caller of `ctx`.
  grpc::Status Fulfil(std::unique_ptr<grpc::ClientContext> ctx, const std::string& station,
                      const std::string& code, v1::Redemption* out, const std::string& key = "");
  // The stock row of (station, gift) as staff see it.
  v1::StationStock StockOf(const std::string& station, const std::string& gift);

  // A first column of a first row on rewards' database.
  std::string Sql(const std::string& query);
  // Runs a statement that writes on rewards' database (to stage a crash's leftovers).
  void Exec(const std::string& statement);

 private:
  void StartRewards(RewardsOptions options);

  testing::ScratchDatabase db_;
  auth::Ed25519PublicKey pk_;
  auth::Ed25519SecretKey sk_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::string jwks_file_;  // the test key, for the ledger
  std::unique_ptr<testing::LedgerPeer> ledger_;
  FakePlaces places_;
  FakeOrgs orgs_;
  std::unique_ptr<server::ServiceHost> peers_host_;
  std::unique_ptr<testing::TcpRelay> identity_link_;
  std::unique_ptr<server::ServiceToken> service_token_;
  std::unique_ptr<LedgerClient> ledger_client_;
  std::unique_ptr<GrpcDirectory> directory_;
  std::unique_ptr<pg::PgPool> pool_;
  std::unique_ptr<RewardsServiceImpl> service_;
  std::unique_ptr<server::ServiceHost> host_;
  std::unique_ptr<v1::RewardsService::Stub> stub_;
  std::unique_ptr<ledger::v1::LedgerService::Stub> ledger_stub_;
  int awards_ = 0;
  int keys_ = 0;
};

// The ErrorInfo reason of a failed call ("OUT_OF_STOCK"), empty when none.
std::string ReasonOf(const grpc::Status& status);
// The ErrorInfo metadata of a failed call (the figures behind a refusal).
std::map<std::string, std::string> FiguresOf(const grpc::Status& status);

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_REWARDS_TEST_ENV_H_
