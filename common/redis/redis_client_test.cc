#include "common/redis/redis_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/redis_server.h"
#include "common/testing/test_env.h"

#include <thread>

namespace civicpoints::redis {
namespace {

using ::testing::HasSubstr;

RedisOptions OptionsFor(const testing::RedisServer& server) {
  RedisOptions o;
  EXPECT_TRUE(ParseRedisAddress(server.address(), &o).ok());
  o.pool_size = 2;
  o.startup_timeout = absl::Seconds(5);
  return o;
}

TEST(RedisClientTest, CommandsAndPipelinesReturnTypedReplies) {
  testing::RedisServer server;
  ASSERT_TRUE(server.Start());
  auto client = RedisClient::Connect(OptionsFor(server));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Command({"SET", "名字", "清远西街"}).ok());
  absl::StatusOr<RedisReply> got = (*client)->Command({"GET", "名字"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->type, RedisReply::Type::kString);
  EXPECT_EQ(got->str, "清远西街");
  EXPECT_TRUE((*client)->Command({"GET", "missing"})->is_nil());

  absl::StatusOr<std::vector<RedisReply>> replies = (*client)->Pipeline({
      {"ZADD", "rank", "GT", "109", "p_1"},
      {"ZADD", "rank", "GT", "50", "p_2"},
      {"ZADD", "rank", "GT", "20", "p_1"},  // lower score: GT keeps 109
      {"ZREVRANGE", "rank", "0", "-1", "WITHSCORES"},
      {"INCR", "名字"},  // error reply, kept as a value
  });
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 5u);
  EXPECT_EQ((*replies)[0].integer, 1);
  const RedisReply& range = (*replies)[3];
  ASSERT_EQ(range.type, RedisReply::Type::kArray);
  ASSERT_EQ(range.elements.size(), 4u);
  EXPECT_EQ(range.elements[0].str, "p_1");
  EXPECT_EQ(range.elements[1].str, "109");
  EXPECT_EQ((*replies)[4].type, RedisReply::Type::kError);
}

TEST(RedisClientTest, ErrorReplyToACommandIsFailedPrecondition) {
  testing::RedisServer server;
  ASSERT_TRUE(server.Start());
  auto client = RedisClient::Connect(OptionsFor(server));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Command({"SET", "k", "text"}).ok());
  absl::StatusOr<RedisReply> r = (*client)->Command({"INCR", "k"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("Redis refused INCR"));
  EXPECT_EQ((*client)->Command({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RedisClientTest, ReconnectsAfterRedisRestarts) {
  testing::RedisServer server;
  ASSERT_TRUE(server.Start());
  auto client = RedisClient::Connect(OptionsFor(server));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Command({"SET", "before", "1"}).ok());

  server.Stop();
  absl::StatusOr<RedisReply> down = (*client)->Command({"PING"});
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(server.Start());
  // Every pooled connection was opened before the restart; the first call after it must not fail.
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<RedisReply> pong = (*client)->Command({"PING"});
    ASSERT_TRUE(pong.ok()) << "call " << i << ": " << pong.status();
    EXPECT_EQ(pong->str, "PONG");
  }
  // A fresh server: the data did not survive (no persistence), the client did.
  EXPECT_TRUE((*client)->Command({"GET", "before"})->is_nil());
}

TEST(RedisClientTest, IdleConnectionClosedByARestartIsReplacedBeforeUse) {
  testing::RedisServer server;
  ASSERT_TRUE(server.Start());
  RedisOptions o = OptionsFor(server);
  o.pool_size = 1;  // the one connection is open and idle across the restart
  auto client = RedisClient::Connect(o);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Command({"SET", "k", "v"}).ok());
  server.Stop();
  ASSERT_TRUE(server.Start());
  absl::StatusOr<RedisReply> pong = (*client)->Command({"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->str, "PONG");
}

TEST(RedisClientTest, ServerThatNeverComesUpFailsConnectWithUnavailable) {
  RedisOptions o;
  o.port = testing::FreePort();
  o.startup_timeout = absl::Milliseconds(400);
  auto client = RedisClient::Connect(o);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(client.status().message(), HasSubstr("unreachable after"));
}

TEST(RedisClientTest, ClientConnectsOnceAServerStartsLate) {
  testing::RedisServer server;
  RedisOptions o = OptionsFor(server);
  std::thread starter([&] {
    absl::SleepFor(absl::Milliseconds(300));
    server.Start();
  });
  auto client = RedisClient::Connect(o);
  starter.join();
  EXPECT_TRUE(client.ok()) << client.status();
}

TEST(RedisAddressTest, ParsesHostPortAndRefusesOthers) {
  RedisOptions o;
  ASSERT_TRUE(ParseRedisAddress("127.0.0.1:6380", &o).ok());
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 6380);
  for (const char* bad : {"", "localhost", ":6379", "h:0", "h:99999", "h:port"}) {
    EXPECT_EQ(ParseRedisAddress(bad, &o).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace civicpoints::redis
