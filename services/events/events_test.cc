// The event feed against real PostgreSQL, with identity as its binary (tokens, org paths): what
// producers append comes out of Subscribe and ListEvents once, in order, inside the caller's scope;
// cursors resume; bad requests are refused with the status the contract names; and an outbox's
// relay delivers every event through a crash of the producer and a restart of the feed.
#include "services/events/events_test_env.h"

namespace civicpoints::events {
namespace {

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
