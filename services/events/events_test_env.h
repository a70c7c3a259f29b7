// The event feed hosted in-process for tests (events_test, webhook_test): a scratch database with
// the feed's schema and an activity outbox, identity as its binary, the service on a loopback port
// and, when started, an outbox relay and the webhook dispatcher.
#ifndef CIVICPOINTS_SERVICES_EVENTS_EVENTS_TEST_ENV_H_
#define CIVICPOINTS_SERVICES_EVENTS_EVENTS_TEST_ENV_H_

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/events.pb.h"
#include "common/auth/method_policy.h"
#include "common/events/event_relay.h"
#include "common/events/outbox.h"
#include "common/pg/migrations.h"
#include "common/pg/pg_pool.h"
#include "common/pg/transactions.h"
#include "common/server/identity_keys.h"
#include "common/server/identity_revocations.h"
#include "common/server/service_host.h"
#include "common/server/service_token.h"
#include "services/events/events_service.h"
#include "services/events/sql_enums.h"
#include "services/events/webhook_dispatcher.h"
#include "tests/peers/identity_peer.h"

std::vector<std::pair<std::string, std::string>> EventsMigrations();
std::vector<std::pair<std::string, std::string>> ActivityMigrations();

namespace civicpoints::events {

using civicpoints::testing::IdentityPeer;
using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

// The feed hosted in-process over a scratch database, restartable on the same database; and an
// outbox in schema "activity" of the same database, as activity's migration makes it.
class EventsEnv {
 public:
  EventsEnv() {
    if (!identity_.ok()) return;
    auto keys = std::make_shared<server::IdentityKeyProvider>(identity_.address(), nullptr);
    if (absl::Status s = keys->Refresh(); !s.ok()) {
      ADD_FAILURE() << "identity's keys: " << s;
      return;
    }
    authorizer_ = std::make_unique<auth::Authorizer>(
        std::make_shared<const auth::TokenVerifier>(std::move(keys)),
        std::make_shared<server::IdentityRevocations>(identity_.address()));
    auto pool = pg::PgPool::Connect({.url = db_.url(), .schema = "events", .pool_size = 8});
    auto producer = pg::PgPool::Connect({.url = db_.url(), .schema = "activity", .pool_size = 2});
    if (!pool.ok() || !producer.ok()) {
      ADD_FAILURE() << pool.status() << producer.status();
      return;
    }
    pool_ = *std::move(pool);
    producer_ = *std::move(producer);
    if (!Migrate(*pool_, "events", EventsMigrations(), EventsSqlEnums()) ||
        !Migrate(*producer_, "activity", OutboxMigrationOnly(), {})) {
      return;
    }
    orgs_ = std::make_unique<OrgPaths>(identity_.address());
    if (!StartFeed()) return;
    token_ = std::make_unique<server::ApiKeyServiceToken>(identity_.address(),
                                                          identity_.ServiceKey("activity"));
    district = identity_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
    street = identity_.MakeOrg(district, ORG_LEVEL_STREET, "qingyuan", "清远街道");
    west = identity_.MakeOrg(street, ORG_LEVEL_COMMUNITY, "qyxj", "清远西街社区");
    gongnong = identity_.MakeOrg(street, ORG_LEVEL_COMMUNITY, "gnl", "工农路社区");
    west_staff = identity_.Staff("13900000031", common::v1::ROLE_COMMUNITY_STAFF, west).token;
    ok_ = true;
  }
  ~EventsEnv() {
    relay_.reset();
    StopFeed();
  }

  bool ok() const { return ok_; }
  IdentityPeer& identity() { return identity_; }
  v1::EventService::Stub& stub() { return *stub_; }
  const std::string& admin() { return identity_.admin_token(); }
  pg::PgPool& producer() { return *producer_; }
  std::string ServiceToken() { return token_->Get().value_or(""); }

  bool StartFeed() {
    store_ = std::make_unique<FeedStore>(pool_.get());
    webhooks_ = std::make_unique<WebhookStore>(pool_.get());
    tail_ = std::make_unique<FeedTail>(store_.get(),
                                       FeedTail::Options{.poll = absl::Milliseconds(200)});
    if (absl::Status s = tail_->Start(); !s.ok()) {
      ADD_FAILURE() << s;
      return false;
    }
    service_ = std::make_unique<EventServiceImpl>(
        store_.get(), tail_.get(), authorizer_.get(), orgs_.get(), webhooks_.get(), pool_.get(),
        EventServiceOptions{
            .max_subscribers = 4, .webhook_urls = {.allow_loopback = true}, .max_webhooks = 3});
    auto host =
        server::ServiceHost::Start({.service_name = "events", .grpc_port = port_},
                                   {{v1::EventService::service_full_name(), service_.get()}});
    if (!host.ok()) {
      ADD_FAILURE() << host.status();
      return false;
    }
    host_ = *std::move(host);
    port_ = host_->grpc_port();
    stub_ = v1::EventService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
    return true;
  }
  void StopFeed() {
    dispatcher_.reset();
    if (host_) host_->Shutdown(absl::Milliseconds(200));
    host_.reset();
    service_.reset();
    webhooks_.reset();
    tail_.reset();
    store_.reset();
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  void StartRelay() {
    EventRelay::Options options;
    options.idle_poll = absl::Milliseconds(100);
    options.first_backoff = absl::Milliseconds(50);
    options.max_backoff = absl::Milliseconds(300);
    relay_ = std::make_unique<EventRelay>("activity", std::make_unique<OutboxLog>("activity"),
                                          producer_->options(), address(), token_.get(), options);
    relay_->Start();
  }
  void StopRelay() { relay_.reset(); }

  // Webhook deliveries, with retries and giving up quick enough for a test.
  void StartDispatcher(WebhookDispatcher::Options options) {
    dispatcher_ = std::make_unique<WebhookDispatcher>(
        webhooks_.get(), tail_.get(), authorizer_->revocations(),
        WebhookUrlPolicy{.allow_loopback = true}, options);
    dispatcher_->Start();
  }
  void StopDispatcher() { dispatcher_.reset(); }

  // An attendance_confirmed event in the outbox, as activity records one.
  void Record(const std::string& activity_id, const std::string& community, int64_t points = 10) {
    activity::v1::AttendanceConfirmed data;
    data.set_activity_id(activity_id);
    data.set_rider_id("rider-1");
    data.set_points(points);
    common::v1::OrgPath path;
    path.set_district_id(district);
    path.set_street_id(street);
    path.set_community_id(community);
    absl::Status s = pg::InTx(*producer_, "record", [&](pqxx::transaction_base& tx) {
      return RecordEvent(tx,
                         {.service = "activity",
                          .name = "attendance_confirmed",
                          .subject = absl::StrCat("activities/", activity_id, "/riders/rider-1"),
                          .org_path = path,
                          .data = &data});
    });
    ASSERT_TRUE(s.ok()) << s;
  }

  std::string Sql(const std::string& schema, const std::string& query) {
    return testing::FirstCell(db_.url(), schema, query);
  }
  // Whether the relay has brought the feed to `events` events within 10 s, and the tail (which
  // readers are served from) has caught up with them.
  bool FeedReaches(int events) {
    return testing::WaitFor(
        [&] {
          return Sql("events", "SELECT count(*) FROM feed") == std::to_string(events) &&
                 (events == 0 || std::to_string(tail_->bounds().head) ==
                                     Sql("events", "SELECT max(seq) FROM feed"));
        },
        absl::Seconds(10));
  }

  std::string district, street, west, gongnong, west_staff;

 private:
  static std::vector<std::pair<std::string, std::string>> OutboxMigrationOnly() {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& [name, sql] : ActivityMigrations()) {
      if (name.find("outbox_events") != std::string::npos) out.emplace_back("0001_" + name, sql);
    }
    return out;
  }
  static bool Migrate(pg::PgPool& pool, const std::string& schema,
                      std::vector<std::pair<std::string, std::string>> files,
                      const pg::SqlEnums& enums) {
    auto migrations = pg::MigrationsFromFiles(files);
    if (!migrations.ok()) {
      ADD_FAILURE() << migrations.status();
      return false;
    }
    absl::Status s = pool.WithConnection("migrate", [&](pqxx::connection_base& c) {
      return pg::ApplyMigrations(c, schema, *migrations, enums).status();
    });
    EXPECT_TRUE(s.ok()) << s;
    return s.ok();
  }

  IdentityPeer identity_;
  testing::ScratchDatabase db_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<pg::PgPool> pool_, producer_;
  std::unique_ptr<OrgPaths> orgs_;
  std::unique_ptr<FeedStore> store_;
  std::unique_ptr<FeedTail> tail_;
  std::unique_ptr<WebhookStore> webhooks_;
  std::unique_ptr<EventServiceImpl> service_;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
  std::unique_ptr<server::ServiceHost> host_;
  std::unique_ptr<v1::EventService::Stub> stub_;
  std::unique_ptr<server::ApiKeyServiceToken> token_;
  std::unique_ptr<EventRelay> relay_;
  int port_ = 0;
  bool ok_ = false;
};

inline std::unique_ptr<grpc::ClientContext> With(const std::string& token) {
  auto ctx = IdentityPeer::With(token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return ctx;
}

// The events of one ListEvents call after `after`, waiting up to `wait`.
inline v1::ListEventsResponse List(EventsEnv& env, const std::string& token,
                                   const std::string& after, int wait_seconds = 0,
                                   std::vector<std::string> types = {}) {
  v1::ListEventsRequest req;
  req.set_after(after);
  req.set_from_oldest(after.empty());
  req.mutable_wait()->set_seconds(wait_seconds);
  for (auto& t : types) req.add_types(t);
  v1::ListEventsResponse resp;
  grpc::Status s = env.stub().ListEvents(With(token).get(), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

inline std::string ActivityOf(const v1::Event& e) {
  activity::v1::AttendanceConfirmed data;
  EXPECT_TRUE(e.data().UnpackTo(&data));
  return data.activity_id();
}

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_EVENTS_TEST_ENV_H_
