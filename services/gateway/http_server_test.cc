// HttpServer against slow, many and malformed clients, over raw sockets (to send exactly the
// bytes a hostile client would) and cpp-httplib as the well-behaved client.
#include "services/gateway/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace civicpoints::gateway {
namespace {

// A raw client socket; closed when destroyed.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  bool Send(absl::string_view bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // One answer (head and Content-Length body), or what arrived before EOF or the timeout.
  std::string ReadAnswer(absl::Duration timeout = absl::Seconds(5)) {
    const absl::Time give_up = absl::Now() + timeout;
    while (true) {
      const size_t head_end = buffered_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = 0;
        const size_t cl = buffered_.find("Content-Length: ");
        if (cl != std::string::npos && cl < head_end) {
          const size_t eol = buffered_.find("\r\n", cl);
          (void)absl::SimpleAtoi(buffered_.substr(cl + 16, eol - cl - 16), &length);
        }
        if (buffered_.size() >= head_end + 4 + length) {
          std::string answer = buffered_.substr(0, head_end + 4 + length);
          buffered_.erase(0, head_end + 4 + length);
          return answer;
        }
      }
      if (!ReadSome(give_up)) {
        std::string rest;
        rest.swap(buffered_);
        return rest;
      }
    }
  }
  // Whether the server closed the connection within `timeout`.
  bool ClosedWithin(absl::Duration timeout) {
    const absl::Time give_up = absl::Now() + timeout;
    while (absl::Now() < give_up) {
      if (!ReadSome(give_up)) return eof_;
    }
    return eof_;
  }

 private:
  bool ReadSome(absl::Time give_up) {
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(give_up - absl::Now()));
    if (ms <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffered_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buffered_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options) {
    options.port = 0;
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(
        options,
        [this](HttpRequest req, Respond respond) {
          ++handled_;
          respond({.status = 200,
                   .headers = {{"X-Path", req.path}},
                   .content_type = "text/plain",
                   .body = absl::StrCat(req.method, " ", req.path, " ", req.body.size())});
        },
        [](const Refusal& r) {
          return HttpResponse{.status = r.status,
                              .content_type = "application/json",
                              .body = absl::StrCat("{\"message\":\"", r.message, "\"}")};
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }
  // Waits until the server counts `n` open connections.
  bool WaitOpen(int n, absl::Duration timeout = absl::Seconds(5)) {
    const absl::Time give_up = absl::Now() + timeout;
    while (server_->open_connections() != n && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    return server_->open_connections() == n;
  }

  std::atomic<int> handled_{0};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ANormalClientIsAnsweredWithinASecondWhile500SlowClientsTrickle) {
  Start({.io_threads = 2, .max_connections = 2000, .request_timeout = absl::Seconds(30)});
  // Half send a header a byte at a time, half a header and then a body a byte at a time.
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 500; ++i) {
    slow.push_back(std::make_unique<RawClient>(server_->port()));
    ASSERT_TRUE(slow.back()->connected()) << i;
    slow.back()->Send(i % 2 == 0
                          ? "GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: "
                          : "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
  }
  ASSERT_TRUE(WaitOpen(500));
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    while (!stop) {
      for (auto& c : slow) c->Send("a");
      for (int i = 0; i < 20 && !stop; ++i) absl::SleepFor(absl::Milliseconds(100));
    }
  });
  httplib::Client client("127.0.0.1", server_->port());
  client.set_read_timeout(2, 0);
  for (int i = 0; i < 5; ++i) {
    const absl::Time start = absl::Now();
    httplib::Result r = client.Get(absl::StrCat("/normal/", i));
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(absl::Now() - start, absl::Seconds(1)) << i;
    absl::SleepFor(absl::Milliseconds(300));
  }
  stop = true;
  trickle.join();
  EXPECT_EQ(handled_, 5);  // none of the slow ones got through
}

TEST_F(HttpServerTest, AConnectionBeyondTheCapIsAnswered503AtOnce) {
  Start({.max_connections = 3});
  RawClient a(server_->port()), b(server_->port()), c(server_->port());
  ASSERT_TRUE(WaitOpen(3));
  RawClient d(server_->port());
  const absl::Time start = absl::Now();
  const std::string answer = d.ReadAnswer(absl::Seconds(2));
  EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 503")) << answer;
  EXPECT_TRUE(absl::StrContains(answer, "too many open connections")) << answer;
  EXPECT_TRUE(d.ClosedWithin(absl::Seconds(2)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(server_->open_connections(), 3);
}

TEST_F(HttpServerTest, ARequestThatDoesNotArriveWithinTheDeadlineGets408) {
  Start({.request_timeout = absl::Milliseconds(300)});
  RawClient stalled(server_->port());
  // Trickling does not extend the deadline: it covers the whole request.
  stalled.Send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12");
  const absl::Time start = absl::Now();
  std::thread trickle([&] {
    for (int i = 0; i < 5; ++i) {
      absl::SleepFor(absl::Milliseconds(100));
      stalled.Send("3");
    }
  });
  const std::string answer = stalled.ReadAnswer(absl::Seconds(3));
  trickle.join();
  EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 408")) << answer;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_TRUE(stalled.ClosedWithin(absl::Seconds(2)));
  EXPECT_EQ(handled_, 0);
  // A connection that never sent a byte is closed without an answer.
  RawClient silent(server_->port());
  EXPECT_TRUE(silent.ClosedWithin(absl::Seconds(2)));
  EXPECT_EQ(silent.ReadAnswer(absl::Milliseconds(10)), "");
}

TEST_F(HttpServerTest, ABadOrOversizedContentLengthIsAnsweredAtOnce) {
  Start({.request_timeout = absl::Seconds(10), .max_body_bytes = 1024});
  struct Case {
    const char* content_length;
    const char* status;
  } cases[] = {{"-1", "400"},   {"abc", "400"},         {"12, 13", "400"},
               {"1025", "413"}, {"99999999999", "413"}, {"184467440737095516160", "400"}};
  for (const Case& c : cases) {
    RawClient client(server_->port());
    const absl::Time start = absl::Now();
    client.Send(absl::StrCat("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: ", c.content_length,
                             "\r\n\r\n{"));
    const std::string answer = client.ReadAnswer(absl::Seconds(3));
    EXPECT_TRUE(absl::StartsWith(answer, absl::StrCat("HTTP/1.1 ", c.status)))
        << c.content_length << ": " << answer;
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(500)) << c.content_length;
    EXPECT_TRUE(client.ClosedWithin(absl::Seconds(2))) << c.content_length;
  }
  // A chunked body over the limit too.
  RawClient chunked(server_->port());
  chunked.Send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n");
  chunked.Send(std::string(2048, 'x'));
  EXPECT_TRUE(absl::StartsWith(chunked.ReadAnswer(absl::Seconds(3)), "HTTP/1.1 413"));
  EXPECT_EQ(handled_, 0);
}

// Beast's parser refuses these before the handler sees them. (A folded header line, obs-fold, is
// unfolded rather than refused, which RFC 9112 section 5.2 allows.)
TEST_F(HttpServerTest, AMalformedRequestHeadIsAnswered400AndNeverServed) {
  Start({.request_timeout = absl::Seconds(10)});
  const char* heads[] = {
      "GET /x HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: x\r\n: no name\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
      "GET /x HTTP/1.1\r\nNoColonFirst\r\nHost: x\r\n\r\n",
      "GET /x HTTP/1.1\nHost: x\nNoColon\n\n",
      "GET /x HTTP/1.1\r\nHost: x\r\nNoColon\n\r\n",
      "GET /x HTTP/1.1\r\nHost: x\r\nNoColon \r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: x\r\nX-A : a\r\n\r\n",
      "GET /x HTTP/9.9\r\nHost: x\r\n\r\n",
      "GET /x\r\nHost: x\r\n\r\n",
      "G@T /x HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET x y HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      ("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n"),
  };
  for (const char* head : heads) {
    RawClient client(server_->port());
    client.Send(head);
    const std::string answer = client.ReadAnswer(absl::Seconds(3));
    EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 400")) << head << "-> " << answer;
    EXPECT_TRUE(client.ClosedWithin(absl::Seconds(2))) << head;
  }
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, KeepAliveCarriesRequestsUpToTheLimitThenCloses) {
  Start({.max_requests_per_connection = 3});
  RawClient client(server_->port());
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(client.Send(absl::StrCat("GET /r", i, " HTTP/1.1\r\nHost: x\r\n\r\n")));
    const std::string answer = client.ReadAnswer();
    EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 200")) << answer;
    EXPECT_TRUE(absl::StrContains(answer, absl::StrCat("GET /r", i))) << answer;
    EXPECT_EQ(absl::StrContains(answer, "Connection: close"), i == 3) << answer;
  }
  EXPECT_TRUE(client.ClosedWithin(absl::Seconds(2)));
  EXPECT_EQ(handled_, 3);

  // A keep-alive client (cpp-httplib) reuses its connection.
  httplib::Client reuse("127.0.0.1", server_->port());
  reuse.set_keep_alive(true);
  ASSERT_TRUE(reuse.Get("/a"));
  ASSERT_TRUE(reuse.Get("/b"));
  EXPECT_TRUE(WaitOpen(1));
}

TEST_F(HttpServerTest, AnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  Start({.idle_timeout = absl::Milliseconds(200)});
  RawClient client(server_->port());
  client.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(client.ReadAnswer(), "HTTP/1.1 200"));
  const absl::Time start = absl::Now();
  EXPECT_TRUE(client.ClosedWithin(absl::Seconds(2)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsAndFreesThePort) {
  Start({});
  RawClient idle(server_->port());
  ASSERT_TRUE(WaitOpen(1));
  server_->Stop();
  EXPECT_TRUE(idle.ClosedWithin(absl::Seconds(2)));
  EXPECT_FALSE(RawClient(server_->port()).connected());
}

TEST(HttpQueryTest, DecodesPercentEscapesAndPlusInQueries) {
  EXPECT_EQ(PercentDecode("/v1/orgs/s-%E6%B8%85", false), "/v1/orgs/s-清");
  EXPECT_EQ(PercentDecode("a+b%2", false), "a+b%2");
  auto q = ParseQuery("scope.orgId=s-%E6%B8%85&topN=10&&a=x+y&flag&a=2");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"scope.orgId", "s-清"}));
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"a", "x y"}));
  EXPECT_EQ(q[3], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(q[4], (std::pair<std::string, std::string>{"a", "2"}));
}

}  // namespace
}  // namespace civicpoints::gateway
