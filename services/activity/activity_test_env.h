// The whole earning path for tests: identity and the ledger as their binaries (tests/peers: each
// over scratch stores of its own; the ledger can crash and come back on its address), and the
// activity service over a scratch database, calling both with a token identity issued for its
// internal service key, with its award relay. No code of identity or the ledger is linked. Also
// the org tree, staff and riders most tests use, made through identity's contract.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_TEST_ENV_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_TEST_ENV_H_

#include <memory>
#include <string>

#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "common/auth/method_policy.h"
#include "common/pg/pg_pool.h"
#include "common/server/service_host.h"
#include "common/server/service_token.h"
#include "common/status/grpc_status.h"
#include "common/testing/tcp_relay.h"
#include "common/testing/test_env.h"
#include "services/activity/activity_service.h"
#include "services/activity/award_relay.h"
#include "services/activity/directory.h"
#include "tests/peers/identity_peer.h"
#include "tests/peers/ledger_peer.h"

namespace civicpoints::activity {

// The ErrorInfo reason of a refused call ("POST_FULL"), "" when none.
inline std::string ReasonOf(const grpc::Status& status) {
  return ErrorReasonOf(FromGrpcStatus(status));
}

class ActivityTestEnv {
 public:
  struct Options {
    // How activity's service token behaves (tests of an identity outage shorten it).
    server::ApiKeyServiceToken::Options token;
  };
  ActivityTestEnv() : ActivityTestEnv(Options()) {}
  explicit ActivityTestEnv(Options options);
  ~ActivityTestEnv();

  bool ok() const { return stub_ != nullptr; }
  v1::ActivityService::Stub& stub() { return *stub_; }
  testing::IdentityPeer& identity() { return identity_; }
  testing::LedgerPeer& ledger() { return *ledger_; }
  AwardRelay& relay() { return *relay_; }

  // The ledger crashes (its address answers UNAVAILABLE) and comes back on the same address.
  void StopLedger() { ledger_->Kill(); }
  void StartLedger() { ledger_->Restart(); }
  // Activity reaches identity through a relay: cut, identity is down for activity (its service
  // token and directory) while it still serves the tests themselves.
  testing::TcpRelay& identity_link() { return *identity_link_; }

  // First column of the first row of a query on activity's database, as text.
  std::string Sql(const std::string& query);

  // A context carrying `token`.
  static std::unique_ptr<grpc::ClientContext> With(const std::string& token) {
    return testing::IdentityPeer::With(token);
  }

  // The tree: 平城区 / 清远街道 / 清远西街社区 and 工农路社区, with staff of each community and of
  // the street.
  std::string district, street, west, gongnong;
  std::string west_staff, gongnong_staff, street_staff;
  std::string west_staff_id;

  // A place in `community` at (lat, lon); returns its id. Inserted directly: the tests here are
  // about activities, not places.
  std::string MakePlace(const std::string& community, double lat, double lon, int radius = 200);
  // A rider checked in at `community` (empty: nowhere); returns {person id, access token}.
  std::pair<std::string, std::string> Rider(const std::string& community);

 private:
  testing::IdentityPeer identity_;
  std::unique_ptr<testing::LedgerPeer> ledger_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  testing::ScratchDatabase db_;
  std::unique_ptr<testing::TcpRelay> identity_link_;
  std::unique_ptr<pg::PgPool> pool_;
  std::unique_ptr<server::ServiceToken> token_;
  std::unique_ptr<IdentityDirectory> directory_;
  std::unique_ptr<AwardRelay> relay_;
  std::unique_ptr<ActivityServiceImpl> service_;
  std::unique_ptr<server::ServiceHost> host_;
  std::unique_ptr<v1::ActivityService::Stub> stub_;
  int riders_ = 0;
  int places_ = 0;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_TEST_ENV_H_
