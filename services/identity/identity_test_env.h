// A whole identity service for tests: a scratch PostgreSQL database with identity's migrations, a
// random master key, the key ring, and the service on a free port with a stub to call it. Also
// the steps most tests start from: the bootstrap admin signed in, a small org tree, riders.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_IDENTITY_TEST_ENV_H_
#define CIVICPOINTS_SERVICES_IDENTITY_IDENTITY_TEST_ENV_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/auth/method_policy.h"
#include "common/pg/pg_pool.h"
#include "common/server/service_host.h"
#include "common/testing/test_env.h"
#include "services/identity/crypto.h"
#include "services/identity/identity_service.h"
#include "services/identity/key_ring.h"
#include "services/identity/rider_orders.h"
#include "tests/peers/identity_calls.h"

namespace civicpoints::identity {

// Rewards as closing an account sees it (RiderOrders): ends a rider's orders (2 of them), or is
// down.
class FakeRiderOrders final : public RiderOrders {
 public:
  absl::StatusOr<int> CloseRiderOrders(const std::string& rider_id) override {
    ++calls;
    {
      std::lock_guard<std::mutex> lock(mu);
      last_rider = rider_id;
    }
    if (down) return absl::UnavailableError("rewards is down");
    return 2;
  }
  std::string LastRider() {
    std::lock_guard<std::mutex> lock(mu);
    return last_rider;
  }
  std::atomic<int> calls{0};
  std::atomic<bool> down{false};

 private:
  std::mutex mu;
  std::string last_rider;
};

class IdentityTestEnv {
 public:
  static constexpr char kAdminPhone[] = "13900000001";
  // The bootstrap admin starts with the initial password and the env changes it at once, as the
  // first sign-in must.
  static constexpr char kAdminInitialPassword[] = "Admin-pass-2026";
  static constexpr char kAdminPassword[] = "Admin-pass-2027";
  static constexpr const char* kStaffPassword = testing::IdentityCalls::kStaffPassword;

  // Sets everything up and signs the bootstrap admin in; check ok() before use. `adjust` may
  // change the service's options (limits, the hash budget, rewards' stand-in) from the test
  // defaults.
  explicit IdentityTestEnv(const std::function<void(IdentityOptions&)>& adjust = nullptr);
  ~IdentityTestEnv();

  bool ok() const { return stub_ != nullptr; }
  v1::IdentityService::Stub& stub() { return *stub_; }
  KeyRing& keys() { return *keys_; }
  std::shared_ptr<KeyRing> shared_keys() { return keys_; }
  IdentityServiceImpl& service() { return *service_; }
  const auth::Authorizer* authorizer() const { return authorizer_.get(); }
  // An internal service account `name` holding a fresh API key with a random id, registered the
  // way the deployment's CP_IDENTITY_INTERNAL_SERVICE_KEYS does for activity and rewards; returns
  // the key (empty on failure).
  std::string InternalServiceKey(const std::string& name);
  const std::string& db_url() const { return db_.url(); }
  pg::PgPool* pool() { return pool_.get(); }
  const Secrets& secrets() const { return *secrets_; }
  int port() const { return host_->grpc_port(); }
  // The bootstrap admin's access token (district admin at the city root).
  const std::string& admin_token() const { return admin_token_; }

  // A client context carrying `token` (none when empty).
  static std::unique_ptr<grpc::ClientContext> With(const std::string& token) {
    return testing::IdentityCalls::With(token);
  }

  // First column of the first row of a query on the scratch database, as text.
  std::string Sql(const std::string& query);

  // The steps tests start from, through the contract (tests/peers/identity_calls.h).
  std::string MakeOrg(const std::string& parent, common::v1::OrgLevel level,
                      const std::string& code, const std::string& name) {
    return calls_->MakeOrg(parent, level, code, name);
  }
  v1::RegisterRiderResponse Register(const std::string& phone, const std::string& name,
                                     const std::string& check_in_code = "") {
    return calls_->Register(phone, name, check_in_code);
  }
  // Creates a staff member with `role` at `org_id` and returns an access token for them.
  std::string Staff(const std::string& phone, common::v1::Role role, const std::string& org_id) {
    return calls_->Staff(phone, role, org_id).token;
  }
  std::string Login(const std::string& phone, const std::string& password) {
    return calls_->Login(phone, password);
  }
  std::string CitySystem(const std::string& org_id, const std::vector<std::string>& scopes) {
    return calls_->CitySystem(org_id, scopes);
  }
  std::string FirstLogin(const std::string& phone, const std::string& initial,
                         const std::string& new_password) {
    return calls_->FirstLogin(phone, initial, new_password);
  }

  // The stand-in for rewards the service starts with (unless `adjust` replaced it).
  FakeRiderOrders& rider_orders() { return *rider_orders_; }

 private:
  std::shared_ptr<FakeRiderOrders> rider_orders_ = std::make_shared<FakeRiderOrders>();
  testing::ScratchDatabase db_;
  std::unique_ptr<pg::PgPool> pool_;
  std::unique_ptr<Secrets> secrets_;
  std::shared_ptr<KeyRing> keys_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<IdentityServiceImpl> service_;
  std::unique_ptr<server::ServiceHost> host_;
  std::unique_ptr<v1::IdentityService::Stub> stub_;
  std::unique_ptr<testing::IdentityCalls> calls_;
  std::string admin_token_;
};

// A rider's password that meets the rules.
inline constexpr const char* kRiderPassword = testing::IdentityCalls::kRiderPassword;

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_IDENTITY_TEST_ENV_H_
