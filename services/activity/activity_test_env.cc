#include "services/activity/activity_test_env.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/auth/method_policy.h"
#include "common/pg/migrations.h"
#include "common/pg/pg_pool.h"
#include "common/server/identity_keys.h"
#include "common/server/identity_revocations.h"
#include "common/server/service_host.h"
#include "common/server/service_token.h"
#include "services/activity/sql_enums.h"

std::vector<std::pair<std::string, std::string>> ActivityMigrations();

namespace civicpoints::activity {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

ActivityTestEnv::ActivityTestEnv(Options options) {
  if (!identity_.ok()) return;
  // The ledger and activity trust identity's published keys and revocations, as in a deployment.
  ledger_ = std::make_unique<testing::LedgerPeer>(
      std::map<std::string, std::string>{{"CP_IDENTITY_ADDR", identity_.address()}});
  if (!ledger_->ok()) return;
  auto keys = std::make_shared<server::IdentityKeyProvider>(identity_.address(), nullptr);
  if (absl::Status s = keys->Refresh(); !s.ok()) {
    ADD_FAILURE() << "identity's keys: " << s;
    return;
  }
  authorizer_ = std::make_unique<auth::Authorizer>(
      std::make_shared<const auth::TokenVerifier>(std::move(keys)),
      std::make_shared<server::IdentityRevocations>(identity_.address()));

  auto pool = pg::PgPool::Connect({.url = db_.url(), .schema = "activity", .pool_size = 8});
  if (!pool.ok()) {
    ADD_FAILURE() << pool.status();
    return;
  }
  pool_ = *std::move(pool);
  auto migrations = pg::MigrationsFromFiles(ActivityMigrations());
  absl::Status migrated = pool_->WithConnection("migrate", [&](pqxx::connection_base& c) {
    return pg::ApplyMigrations(c, "activity", *migrations, ActivitySqlEnums()).status();
  });
  if (!migrated.ok()) {
    ADD_FAILURE() << migrated;
    return;
  }
  identity_link_ = std::make_unique<testing::TcpRelay>(identity_.address());
  const std::string identity_addr = identity_link_->address();
  token_ = std::make_unique<server::ApiKeyServiceToken>(
      identity_addr, identity_.ServiceKey("activity"), options.token);
  directory_ = std::make_unique<IdentityDirectory>(identity_addr, token_.get(), pool_.get());
  AwardRelay::Options relay_options;
  relay_options.idle_poll = absl::Milliseconds(50);
  relay_options.first_backoff = absl::Milliseconds(50);
  relay_options.max_backoff = absl::Milliseconds(400);
  relay_options.call_deadline = absl::Seconds(2);
  relay_ =
      std::make_unique<AwardRelay>(pool_.get(), ledger_->address(), token_.get(), relay_options);
  relay_->Start();
  service_ = std::make_unique<ActivityServiceImpl>(pool_.get(), authorizer_.get(), directory_.get(),
                                                   relay_.get());
  auto host = server::ServiceHost::Start(
      {.service_name = "activity"}, {{v1::ActivityService::service_full_name(), service_.get()}});
  if (!host.ok()) {
    ADD_FAILURE() << host.status();
    return;
  }
  host_ = *std::move(host);

  district = identity_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
  street = identity_.MakeOrg(district, ORG_LEVEL_STREET, "qingyuan", "清远街道");
  west = identity_.MakeOrg(street, ORG_LEVEL_COMMUNITY, "qyxj", "清远西街社区");
  gongnong = identity_.MakeOrg(street, ORG_LEVEL_COMMUNITY, "gnl", "工农路社区");
  const testing::IdentityPeer::Member west_member =
      identity_.Staff("13900000031", common::v1::ROLE_COMMUNITY_STAFF, west);
  west_staff = west_member.token;
  west_staff_id = west_member.person_id;
  gongnong_staff = identity_.Staff("13900000032", common::v1::ROLE_COMMUNITY_STAFF, gongnong).token;
  street_staff = identity_.Staff("13900000033", common::v1::ROLE_STREET_STAFF, street).token;
  stub_ = v1::ActivityService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", host_->grpc_port()), grpc::InsecureChannelCredentials()));
}

ActivityTestEnv::~ActivityTestEnv() {
  if (host_) host_->Shutdown(absl::Seconds(1));
  relay_.reset();
}

std::string ActivityTestEnv::Sql(const std::string& query) {
  return testing::FirstCell(db_.url(), "activity", query);
}

std::string ActivityTestEnv::MakePlace(const std::string& community, double lat, double lon,
                                       int radius) {
  const std::string id = absl::StrCat("place_", ++places_);
  Sql(absl::StrCat(
      "INSERT INTO places (place_id, kind, name, address, latitude, longitude, "
      "community_id, street_id, district_id, check_in_radius_meters, created_by) "
      "VALUES ('",
      id, "', 1, '清远西街小哥驿站", places_, "', '大同市平城区清远西街', ", lat, ", ", lon, ", '",
      community, "', '", street, "', '", district, "', ", radius, ", 'test')"));
  return id;
}

std::pair<std::string, std::string> ActivityTestEnv::Rider(const std::string& community) {
  std::string code;
  if (!community.empty()) {
    identity::v1::GetCheckInCodeRequest req;
    req.set_org_id(community);
    identity::v1::GetCheckInCodeResponse resp;
    grpc::Status s =
        identity_.stub().GetCheckInCode(With(identity_.admin_token()).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    code = resp.code().code();
  }
  ++riders_;
  identity::v1::RegisterRiderResponse r =
      identity_.Register(absl::StrCat("1370000", absl::Dec(riders_, absl::kZeroPad4)),
                         absl::StrCat("骑手", riders_), code);
  return {r.person().person_id(), r.tokens().access_token()};
}

}  // namespace civicpoints::activity
