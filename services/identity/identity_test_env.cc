#include "services/identity/identity_test_env.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/pg/migrations.h"
#include "services/identity/sql_enums.h"

std::vector<std::pair<std::string, std::string>> IdentityMigrations();

namespace civicpoints::identity {

IdentityTestEnv::IdentityTestEnv(const std::function<void(IdentityOptions&)>& adjust) {
  auto pool = pg::PgPool::Connect({.url = db_.url(), .schema = "identity", .pool_size = 8});
  if (!pool.ok()) {
    ADD_FAILURE() << pool.status();
    return;
  }
  pool_ = *std::move(pool);
  auto migrations = pg::MigrationsFromFiles(IdentityMigrations());
  absl::Status migrated = pool_->WithConnection("migrate", [&](pqxx::connection_base& c) {
    return pg::ApplyMigrations(c, "identity", *migrations, IdentitySqlEnums()).status();
  });
  if (!migrated.ok()) {
    ADD_FAILURE() << migrated;
    return;
  }
  secrets_ = std::make_unique<Secrets>(*Secrets::FromHex(Secrets::NewMasterKeyHex()));
  keys_ = std::make_shared<KeyRing>(pool_.get(), secrets_.get());
  if (absl::Status s = keys_->EnsureKey(absl::Now()); !s.ok()) {
    ADD_FAILURE() << s;
    return;
  }
  // As in a deployment, identity refuses the tokens on its own revocation list.
  authorizer_ = std::make_unique<auth::Authorizer>(
      std::make_shared<const auth::TokenVerifier>(keys_),
      std::make_shared<RevocationFeed>(pool_.get(),
                                       RevocationWindow(IdentityOptions().access_token_ttl)));
  IdentityOptions options;
  // The cheapest argon2id the library allows: tests hash many passwords on two cores.
  options.hasher.opslimit = 1;
  options.hasher.memlimit_bytes = 64 << 10;
  options.rider_orders = rider_orders_;
  if (adjust) adjust(options);
  service_ = std::make_unique<IdentityServiceImpl>(pool_.get(), secrets_.get(), keys_.get(),
                                                   authorizer_.get(), options);
  if (absl::Status s = service_->SetCityName(); !s.ok()) {
    ADD_FAILURE() << s;
    return;
  }
  if (absl::Status s = service_->BootstrapAdmin(kAdminPhone, kAdminInitialPassword, "管理员");
      !s.ok()) {
    ADD_FAILURE() << s;
    return;
  }
  auto host = server::ServiceHost::Start(
      {.service_name = "identity"}, {{v1::IdentityService::service_full_name(), service_.get()}});
  if (!host.ok()) {
    ADD_FAILURE() << host.status();
    return;
  }
  host_ = *std::move(host);
  auto stub = v1::IdentityService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(host_->grpc_port()), grpc::InsecureChannelCredentials()));
  stub_ = std::move(stub);
  calls_ = std::make_unique<testing::IdentityCalls>(stub_.get(), IdentityOptions().policy_version);
  admin_token_ = FirstLogin(kAdminPhone, kAdminInitialPassword, kAdminPassword);
  calls_->set_admin_token(admin_token_);
  if (admin_token_.empty()) {
    ADD_FAILURE() << "bootstrap admin cannot sign in";
    stub_.reset();
  }
}

IdentityTestEnv::~IdentityTestEnv() {
  if (host_) host_->Shutdown(absl::Seconds(1));
}

std::string IdentityTestEnv::Sql(const std::string& query) {
  return testing::FirstCell(db_.url(), "identity", query);
}

std::string IdentityTestEnv::InternalServiceKey(const std::string& name) {
  const std::string key = absl::StrCat("cpk_", NewId("ak"), "_", Base64Url(RandomBytes(32)));
  absl::Status s = service_->EnsureInternalServiceKey(name, key);
  EXPECT_TRUE(s.ok()) << s;
  return s.ok() ? key : "";
}

}  // namespace civicpoints::identity
