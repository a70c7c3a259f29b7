// Malformed requests through the running suite (ctest fixture cp_suite), as a broken or hostile
// client sends them: over gRPC, bytes that are not the method's message and a connection that
// does not speak HTTP/2; over REST, a malformed head, escapes that decode to bytes that are not
// UTF-8 and a parameter path through a scalar. Each gets a precise refusal (INVALID_ARGUMENT
// naming the method; 400 with the JSON error shape), and the suite keeps serving calls made
// alongside and after.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "civicpoints/ledger/v1/ledger_service.pb.h"
#include "tests/e2e/suite_client.h"

namespace civicpoints::e2e {
namespace {

// Sends `bytes` on a fresh TCP connection to 127.0.0.1:`port` and returns what comes back before
// the server closes the connection or 3 s pass.
std::string RawExchange(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    pollfd p{fd, POLLIN, 0};
    char buf[4096];
    while (poll(&p, 1, 3000) > 0) {
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return answer;
}

int PortOf(const std::string& address_or_url) {
  int port = 0;
  (void)absl::SimpleAtoi(address_or_url.substr(address_or_url.rfind(':') + 1), &port);
  return port;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string addr = SuiteSetting("CP_SUITE_GATEWAY_ADDR");
    ASSERT_FALSE(addr.empty()) << "run under ctest (fixture cp_suite sets CP_SUITE_*)";
    grpc_port_ = PortOf(addr);
    http_port_ = PortOf(SuiteSetting("CP_SUITE_HTTP_URL"));
    channel_ = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
    identity::v1::LoginRequest login;
    login.set_phone(SuiteSetting("CP_SUITE_ADMIN_PHONE"));
    login.set_password(SuiteSetting("CP_SUITE_ADMIN_PASSWORD"));
    identity::v1::LoginResponse resp;
    ASSERT_TRUE(
        CallMethod(channel_, "/civicpoints.identity.v1.IdentityService/Login", "", login, &resp)
            .ok());
    admin_ = resp.tokens().access_token();
  }

  // A good call after the bad ones: the journal verified, through the gateway and the ledger.
  void ExpectStillServing() {
    ledger::v1::VerifyJournalRequest req;
    ledger::v1::VerifyJournalResponse resp;
    const grpc::Status s = CallMethod(
        channel_, "/civicpoints.ledger.v1.LedgerService/VerifyJournal", admin_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  }

  std::shared_ptr<grpc::Channel> channel_;
  int grpc_port_ = 0, http_port_ = 0;
  std::string admin_;
};

TEST_F(BadInputTest, GrpcBytesThatAreNotTheMessageAreInvalidArgumentNamingTheMethod) {
  grpc::GenericStub generic(channel_);
  const char bytes[] = "\x0f\x01\xff";  // field 1 with wire type 7, which does not exist
  grpc::Slice slice(bytes, sizeof(bytes) - 1);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + admin_);
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/civicpoints.ledger.v1.LedgerService/GetBalance", grpc::StubOptions(),
                    &request, &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status status = done.get_future().get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "LedgerService/GetBalance"))
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "GetBalanceRequest"))
      << status.error_message();
  ExpectStillServing();
}

TEST_F(BadInputTest, ABrokenHttp2ConnectionIsClosedWithoutHarmToOtherCalls) {
  // Not the HTTP/2 preface at all, then a preface followed by a frame of garbage.
  const std::string answers[] = {
      RawExchange(grpc_port_, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
      RawExchange(grpc_port_, std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                                  std::string("\x00\x00\x04\xff\x00\x00\x00\x00\x00garbage", 16)),
  };
  // gRPC closes such a connection (with an HTTP/2 GOAWAY or nothing); the point is what follows.
  for (const std::string& a : answers) EXPECT_LT(a.size(), 4096u);
  ExpectStillServing();
}

TEST_F(BadInputTest, MalformedRestRequestsAre400WithTheErrorShape) {
  const std::string auth = absl::StrCat("Authorization: Bearer ", admin_, "\r\n");
  struct Case {
    std::string request;
    std::string body_has;  // empty: Beast's own refusal, no JSON body to look into
  } cases[] = {
      {"GET /v1/rankings/top HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", ""},
      {absl::StrCat("GET /v1/rankings/top?scope.orgId=%FF%FE HTTP/1.1\r\nHost: x\r\n", auth,
                    "Connection: close\r\n\r\n"),
       "not valid UTF-8"},
      {absl::StrCat("GET /v1/accounts/%C3%28 HTTP/1.1\r\nHost: x\r\n", auth,
                    "Connection: close\r\n\r\n"),
       "not valid UTF-8"},
      {absl::StrCat("GET /v1/rankings/top?topN.x=1 HTTP/1.1\r\nHost: x\r\n", auth,
                    "Connection: close\r\n\r\n"),
       "has no fields"},
  };
  for (const Case& c : cases) {
    const std::string answer = RawExchange(http_port_, c.request);
    EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 400")) << c.request << "\n-> " << answer;
    if (!c.body_has.empty()) {
      EXPECT_TRUE(absl::StrContains(answer, "\"status\":\"INVALID_ARGUMENT\"")) << answer;
      EXPECT_TRUE(absl::StrContains(answer, c.body_has)) << answer;
    }
  }
  ExpectStillServing();
}

}  // namespace
}  // namespace civicpoints::e2e
