// The event feed against real PostgreSQL, with identity as its binary (tokens, org paths): what
// producers append comes out of Subscribe and ListEvents once, in order, inside the caller's scope;
// cursors resume; bad requests are refused with the status the contract names; and an outbox's
// relay delivers every event through a crash of the producer and a restart of the feed.
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
#include "tests/peers/identity_peer.h"

std::vector<std::pair<std::string, std::string>> EventsMigrations();
std::vector<std::pair<std::string, std::string>> ActivityMigrations();

namespace civicpoints::events {
namespace {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;
using testing::IdentityPeer;

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
    if (!Migrate(*pool_, "events", EventsMigrations()) ||
        !Migrate(*producer_, "activity", OutboxMigrationOnly())) {
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
    tail_ = std::make_unique<FeedTail>(store_.get(),
                                       FeedTail::Options{.poll = absl::Milliseconds(200)});
    if (absl::Status s = tail_->Start(); !s.ok()) {
      ADD_FAILURE() << s;
      return false;
    }
    service_ =
        std::make_unique<EventServiceImpl>(store_.get(), tail_.get(), authorizer_.get(),
                                           orgs_.get(), EventServiceOptions{.max_subscribers = 4});
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
    if (host_) host_->Shutdown(absl::Milliseconds(200));
    host_.reset();
    service_.reset();
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
  // Whether the relay has brought the feed to `events` events within 10 s.
  bool FeedReaches(int events) {
    return testing::WaitFor(
        [&] { return Sql("events", "SELECT count(*) FROM feed") == std::to_string(events); },
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
                      std::vector<std::pair<std::string, std::string>> files) {
    auto migrations = pg::MigrationsFromFiles(files);
    if (!migrations.ok()) {
      ADD_FAILURE() << migrations.status();
      return false;
    }
    absl::Status s = pool.WithConnection("migrate", [&](pqxx::connection_base& c) {
      return pg::ApplyMigrations(c, schema, *migrations, {}).status();
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
  std::unique_ptr<EventServiceImpl> service_;
  std::unique_ptr<server::ServiceHost> host_;
  std::unique_ptr<v1::EventService::Stub> stub_;
  std::unique_ptr<server::ApiKeyServiceToken> token_;
  std::unique_ptr<EventRelay> relay_;
  int port_ = 0;
  bool ok_ = false;
};

std::unique_ptr<grpc::ClientContext> With(const std::string& token) {
  auto ctx = IdentityPeer::With(token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return ctx;
}

// The events of one ListEvents call after `after`, waiting up to `wait`.
v1::ListEventsResponse List(EventsEnv& env, const std::string& token, const std::string& after,
                            int wait_seconds = 0, std::vector<std::string> types = {}) {
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

std::string ActivityOf(const v1::Event& e) {
  activity::v1::AttendanceConfirmed data;
  EXPECT_TRUE(e.data().UnpackTo(&data));
  return data.activity_id();
}

TEST(EventFeed, RelayedEventsComeOutOnceInOrderWithCursorsThatResume) {
  EventsEnv env;
  ASSERT_TRUE(env.ok());
  env.StartRelay();
  for (int i = 1; i <= 3; ++i) env.Record(absl::StrCat("act-", i), env.west);
  ASSERT_TRUE(env.FeedReaches(3));

  v1::ListEventsResponse all = List(env, env.admin(), "");
  ASSERT_EQ(all.events_size(), 3);
  for (int i = 0; i < 3; ++i) {
    const v1::Event& e = all.events(i);
    EXPECT_EQ(ActivityOf(e), absl::StrCat("act-", i + 1));
    EXPECT_EQ(e.type(), "civicpoints.activity.v1.attendance_confirmed");
    EXPECT_EQ(e.source(), "/civicpoints/activity");
    EXPECT_EQ(e.subject(), absl::StrCat("activities/act-", i + 1, "/riders/rider-1"));
    EXPECT_EQ(e.org_path().community_id(), env.west);
    EXPECT_EQ(e.id().size(), 36u);
    EXPECT_TRUE(e.has_time());
  }
  EXPECT_EQ(all.next_cursor(), all.events(2).cursor());

  // Resuming after the first event gives the other two.
  v1::ListEventsResponse rest = List(env, env.admin(), all.events(0).cursor());
  ASSERT_EQ(rest.events_size(), 2);
  EXPECT_EQ(rest.events(0).id(), all.events(1).id());
  // The relay marked what it published and does not send it again.
  EXPECT_EQ(env.Sql("activity", "SELECT count(*) FROM outbox_events WHERE published_at IS NULL"),
            "0");
  // A resend (a relay that crashed before marking) is skipped by id; people may not publish.
  v1::PublishEventsRequest again;
  *again.add_events() = all.events(1);
  v1::PublishEventsResponse resp;
  EXPECT_EQ(env.stub().PublishEvents(With(env.admin()).get(), again, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status s = env.stub().PublishEvents(With(env.ServiceToken()).get(), again, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.appended(), 0);
  EXPECT_EQ(resp.duplicates(), 1);
  EXPECT_EQ(List(env, env.admin(), "").events_size(), 3);
}

TEST(EventFeed, LongPollWaitsForTheNextEvent) {
  EventsEnv env;
  ASSERT_TRUE(env.ok());
  env.StartRelay();
  env.Record("act-1", env.west);
  ASSERT_TRUE(env.FeedReaches(1));
  const std::string cursor = List(env, env.admin(), "").next_cursor();

  // Nothing yet: an answer at once with the same cursor.
  v1::ListEventsResponse none = List(env, env.admin(), cursor);
  EXPECT_EQ(none.events_size(), 0);
  EXPECT_EQ(none.next_cursor(), cursor);

  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    env.Record("act-2", env.west);
  });
  const absl::Time start = absl::Now();
  v1::ListEventsResponse next = List(env, env.admin(), cursor, /*wait_seconds=*/10);
  later.join();
  ASSERT_EQ(next.events_size(), 1);
  EXPECT_EQ(ActivityOf(next.events(0)), "act-2");
  EXPECT_LT(absl::Now() - start, absl::Seconds(8))
      << "answered when the event came, not at the end";
}

TEST(EventFeed, SubscribeStreamsBacklogThenLiveEventsAndHeartbeats) {
  EventsEnv env;
  ASSERT_TRUE(env.ok());
  env.StartRelay();
  env.Record("act-1", env.west);
  ASSERT_TRUE(env.FeedReaches(1));

  v1::SubscribeRequest req;
  req.set_from_oldest(true);
  req.mutable_heartbeat_interval()->set_seconds(1);
  auto ctx = With(env.admin());
  auto stream = env.stub().Subscribe(ctx.get(), req);
  v1::SubscribeResponse item;
  ASSERT_TRUE(stream->Read(&item));
  ASSERT_TRUE(item.has_event());
  EXPECT_EQ(ActivityOf(item.event()), "act-1");
  const std::string first_cursor = item.event().cursor();

  // Idle: a heartbeat with the cursor where the feed stands.
  ASSERT_TRUE(stream->Read(&item));
  ASSERT_TRUE(item.has_heartbeat());
  EXPECT_EQ(item.heartbeat().cursor(), first_cursor);

  env.Record("act-2", env.west);
  do {
    ASSERT_TRUE(stream->Read(&item));
  } while (item.has_heartbeat());
  EXPECT_EQ(ActivityOf(item.event()), "act-2");
  ctx->TryCancel();
  while (stream->Read(&item)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST(EventFeed, CallersSeeOnlyTheirScope) {
  EventsEnv env;
  ASSERT_TRUE(env.ok());
  env.StartRelay();
  env.Record("in-west", env.west);
  env.Record("in-gongnong", env.gongnong);
  ASSERT_TRUE(env.FeedReaches(2));

  v1::ListEventsResponse west = List(env, env.west_staff, "");
  ASSERT_EQ(west.events_size(), 1);
  EXPECT_EQ(ActivityOf(west.events(0)), "in-west");
  // Its cursor still moved past the event it may not see.
  EXPECT_EQ(west.next_cursor(), List(env, env.admin(), "").next_cursor());

  // Narrowed to a subtree inside the caller's scope.
  v1::ListEventsRequest req;
  req.set_from_oldest(true);
  req.set_org_id(env.gongnong);
  v1::ListEventsResponse resp;
  ASSERT_TRUE(env.stub().ListEvents(With(env.admin()).get(), req, &resp).ok());
  ASSERT_EQ(resp.events_size(), 1);
  EXPECT_EQ(ActivityOf(resp.events(0)), "in-gongnong");

  // Outside it: refused, not silently empty.
  grpc::Status s = env.stub().ListEvents(With(env.west_staff).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_NE(s.error_message().find("org_id"), std::string::npos) << s.error_message();
}

TEST(EventFeed, BadRequestsAreRefusedWithTheStatusTheContractNames) {
  EventsEnv env;
  ASSERT_TRUE(env.ok());
  env.StartRelay();
  env.Record("act-1", env.west);
  env.Record("act-2", env.west);
  ASSERT_TRUE(env.FeedReaches(2));
  const v1::ListEventsResponse all = List(env, env.admin(), "");
  ASSERT_EQ(all.events_size(), 2);

  struct Case {
    std::string name;
    std::function<void(v1::ListEventsRequest&)> edit;
    grpc::StatusCode code;
    std::string names;  // what the message must mention
  };
  const std::vector<Case> cases = {
      {"unknown type", [](auto& r) { r.add_types("civicpoints.activity.v1.nothing"); },
       grpc::StatusCode::INVALID_ARGUMENT, "types[0]"},
      {"malformed cursor", [](auto& r) { r.set_after("e1_12x"); },
       grpc::StatusCode::INVALID_ARGUMENT, "after"},
      {"cursor from elsewhere", [](auto& r) { r.set_after("e1_999999"); },
       grpc::StatusCode::INVALID_ARGUMENT, "ahead of the feed"},
      {"long wait", [](auto& r) { r.mutable_wait()->set_seconds(31); },
       grpc::StatusCode::INVALID_ARGUMENT, "wait"},
      {"big page", [](auto& r) { r.set_page_size(501); }, grpc::StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"unknown org", [](auto& r) { r.set_org_id("no-such-node"); }, grpc::StatusCode::NOT_FOUND,
       "org_id"},
  };
  for (const Case& c : cases) {
    v1::ListEventsRequest req;
    c.edit(req);
    v1::ListEventsResponse resp;
    grpc::Status s = env.stub().ListEvents(With(env.admin()).get(), req, &resp);
    EXPECT_EQ(s.error_code(), c.code) << c.name << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(c.names), std::string::npos)
        << c.name << ": " << s.error_message();
  }

  // Retention deleted the first event: a cursor before it is OUT_OF_RANGE, one at it still works.
  env.Sql("events",
          absl::StrCat("WITH gone AS (DELETE FROM feed WHERE event_id = '", all.events(0).id(),
                       "' RETURNING seq) UPDATE feed_retention SET "
                       "pruned_through = (SELECT seq FROM gone)"));
  env.StopFeed();
  ASSERT_TRUE(env.StartFeed());
  v1::ListEventsRequest req;
  req.set_after("e1_0");
  v1::ListEventsResponse resp;
  grpc::Status s = env.stub().ListEvents(With(env.admin()).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE) << s.error_message();
  EXPECT_EQ(List(env, env.admin(), all.events(0).cursor()).events_size(), 1);

  v1::SubscribeRequest sub;
  sub.mutable_heartbeat_interval()->set_seconds(61);
  auto ctx = With(env.admin());
  auto stream = env.stub().Subscribe(ctx.get(), sub);
  v1::SubscribeResponse item;
  EXPECT_FALSE(stream->Read(&item));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(EventFeed, NothingIsLostOrReorderedThroughAProducerCrashAndAFeedRestart) {
  EventsEnv env;
  ASSERT_TRUE(env.ok());
  env.StartRelay();
  for (int i = 1; i <= 5; ++i) env.Record(absl::StrCat("act-", i), env.west);
  ASSERT_TRUE(env.FeedReaches(5));
  const std::string saved = List(env, env.admin(), "").events(2).cursor();  // read up to act-3

  // The producer's relay dies; its service keeps recording; the feed restarts meanwhile.
  env.StopRelay();
  for (int i = 6; i <= 8; ++i) env.Record(absl::StrCat("act-", i), env.west);
  env.StopFeed();
  ASSERT_TRUE(env.StartFeed());
  env.StartRelay();
  for (int i = 9; i <= 10; ++i) env.Record(absl::StrCat("act-", i), env.west);
  ASSERT_TRUE(env.FeedReaches(10));

  v1::ListEventsResponse resumed = List(env, env.admin(), saved);
  ASSERT_EQ(resumed.events_size(), 7);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(ActivityOf(resumed.events(i)), absl::StrCat("act-", i + 4));
}

}  // namespace
}  // namespace civicpoints::events
