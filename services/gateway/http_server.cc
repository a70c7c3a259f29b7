// The one translation unit that includes Boost.Beast and Boost.Asio (heavy headers): every
// connection is a Session on its own strand, driven by completion handlers on a few io threads.
#include "services/gateway/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace civicpoints::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// After an answer that closes the connection early (400, 408, 413, 503) the client may still be
// sending; reading and dropping it for a moment lets the client read the answer instead of
// getting a reset.
constexpr auto kLinger = std::chrono::milliseconds(500);
constexpr size_t kMaxLingerBytes = 1024 * 1024;
// Connections being turned away (503) at once; beyond, new ones are closed without an answer.
constexpr int kMaxRefusing = 256;

std::string ToStd(beast::string_view s) { return std::string(s.data(), s.size()); }

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(absl::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    absl::string_view part = query.substr(0, amp);
    query = amp == absl::string_view::npos ? absl::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == absl::string_view::npos) {
      out.emplace_back(PercentDecode(part, true), "");
    } else {
      out.emplace_back(PercentDecode(part.substr(0, eq), true),
                       PercentDecode(part.substr(eq + 1), true));
    }
  }
  return out;
}

absl::string_view HttpRequest::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

std::string HttpRequest::JoinedHeader(absl::string_view name) const {
  std::vector<absl::string_view> values;
  for (const auto& [k, v] : headers) {
    if (k == name) values.push_back(v);
  }
  return absl::StrJoin(values, ", ");
}

bool HttpRequest::HasHeader(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return true;
  }
  return false;
}

class Session;

class HttpServer::Impl : public std::enable_shared_from_this<HttpServer::Impl> {
 public:
  Impl(const HttpServerOptions& options, HttpHandler handler, RefusalBuilder refusal, int threads)
      : options_(options),
        handler_(std::move(handler)),
        refusal_(std::move(refusal)),
        ioc_(threads),
        work_(asio::make_work_guard(ioc_)),
        acceptor_(asio::make_strand(ioc_)) {}

  absl::Status Listen();
  void Run(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  void Accept();
  void Stop(absl::Duration grace);

  void Register(Session* s, std::weak_ptr<Session> weak) {
    absl::MutexLock lock(&mu_);
    sessions_[s] = std::move(weak);
  }
  void Forget(Session* s) {
    absl::MutexLock lock(&mu_);
    sessions_.erase(s);
  }

  const HttpServerOptions options_;
  const HttpHandler handler_;
  const RefusalBuilder refusal_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  std::atomic<int> open_{0};
  std::atomic<int> refusing_{0};
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;

 private:
  void OnAccept(tcp::socket socket);

  absl::Mutex mu_;
  absl::flat_hash_map<Session*, std::weak_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
};

// One connection: read a request (deadline), hand it over, write the answer (deadline), and
// again while keep-alive allows. Every member is touched only on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // `counted`: the connection is within the cap (else it is being turned away with 503).
  Session(std::shared_ptr<HttpServer::Impl> server, tcp::socket socket, std::string remote,
          bool counted)
      : server_(std::move(server)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        remote_(std::move(remote)),
        counted_(counted) {}

  ~Session() {
    server_->Forget(this);
    if (counted_) {
      server_->open_.fetch_sub(1);
    } else {
      server_->refusing_.fetch_sub(1);
    }
  }

  void Start() {
    server_->Register(this, weak_from_this());
    if (!counted_) {
      Refuse(503, "the gateway has too many open connections; try again shortly");
      return;
    }
    ReadRequest();
  }

  void PostStart() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Start(); });
  }
  void PostShutdown() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Shutdown(); });
  }

 private:
  // The server is stopping: close now unless an answer is on its way.
  void Shutdown() {
    if (phase_ == Phase::kHandling || phase_ == Phase::kWriting) {
      keep_alive_ = false;
      return;
    }
    if (phase_ != Phase::kLingering) Close();
  }

  enum class Phase { kIdle, kReading, kHandling, kWriting, kLingering, kClosed };

  const HttpServerOptions& options() const { return server_->options_; }

  // Starts the deadline of the current phase: when it passes, pending socket operations end
  // with operation_aborted and timed_out_ tells why.
  void Arm(absl::Duration d) {
    const uint64_t gen = ++gen_;
    timed_out_ = false;
    timer_.expires_after(ToChrono(d));
    timer_.async_wait([self = shared_from_this(), gen](beast::error_code ec) {
      if (ec || gen != self->gen_) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket_.cancel(ignored);
    });
  }
  void Disarm() {
    ++gen_;
    timer_.cancel();
  }

  void ReadRequest() {
    if (server_->stopping_.load()) {
      Close();
      return;
    }
    parser_.emplace();
    parser_->body_limit(options().max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(options().max_header_bytes));
    if (served_ > 0 && buffer_.size() == 0) {
      // Between keep-alive requests: the idle timeout until a byte of the next one arrives.
      phase_ = Phase::kIdle;
      Arm(options().idle_timeout);
      socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
        if (ec || self->timed_out_) {
          self->Close();
          return;
        }
        self->ReadHeader();
      });
      return;
    }
    ReadHeader();
  }

  // The whole-request deadline starts with the request's first byte (the connection's opening
  // for the first request) and covers the header and the body.
  void ReadHeader() {
    phase_ = Phase::kReading;
    Arm(options().request_timeout);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      ReadFailed(ec);
      return;
    }
    // curl asks before sending a body over 1 KiB; answering saves it a second's wait.
    const auto expect = parser_->get().find(http::field::expect);
    if (expect != parser_->get().end() &&
        beast::iequals(expect->value(), beast::string_view("100-continue")) &&
        !parser_->is_done()) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(socket_, asio::buffer(kContinue),
                        [self = shared_from_this()](beast::error_code write_ec, size_t) {
                          if (write_ec) {
                            self->ReadFailed(write_ec);
                            return;
                          }
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) {
                         self->ReadFailed(ec);
                         return;
                       }
                       self->Handle();
                     });
  }

  void ReadFailed(beast::error_code ec) {
    Disarm();
    if (timed_out_) {
      if (parser_->got_some() || buffer_.size() > 0) {
        Refuse(408, absl::StrCat("the request did not arrive within ",
                                 absl::FormatDuration(options().request_timeout)));
      } else {
        Close();
      }
      return;
    }
    if (ec == http::error::body_limit) {
      Refuse(413, absl::StrCat("request body over the gateway's size limit (",
                               options().max_body_bytes, " bytes)"));
    } else if (ec == http::error::header_limit) {
      Refuse(431, absl::StrCat("request header over the gateway's size limit (",
                               options().max_header_bytes, " bytes)"));
    } else if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      Refuse(400, absl::StrCat("malformed HTTP request: ", ec.message()));
    } else {
      Close();  // the client went away
    }
  }

  void Handle() {
    Disarm();
    http::request<http::string_body> req = parser_->release();
    parser_.reset();
    ++served_;
    version_ = req.version();
    keep_alive_ = req.keep_alive() && served_ < options().max_requests_per_connection &&
                  !server_->stopping_.load();
    HttpRequest out;
    out.method = ToStd(req.method_string());
    out.target = ToStd(req.target());
    const size_t mark = out.target.find('?');
    out.path = PercentDecode(absl::string_view(out.target).substr(0, mark), false);
    if (mark != std::string::npos) out.query = out.target.substr(mark + 1);
    out.headers.reserve(8);
    for (const auto& field : req) {
      out.headers.emplace_back(absl::AsciiStrToLower(ToStd(field.name_string())),
                               ToStd(field.value()));
    }
    out.body = std::move(req.body());
    out.remote_address = remote_;
    phase_ = Phase::kHandling;
    server_->handler_(std::move(out), [self = shared_from_this()](HttpResponse response) {
      asio::post(self->socket_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Write(std::move(response));
      });
    });
  }

  void Refuse(int status, std::string message) {
    keep_alive_ = false;
    linger_ = true;
    Write(server_->refusal_({status, std::move(message), remote_}));
  }

  void Write(HttpResponse r) {
    if (phase_ == Phase::kClosed) return;
    response_.emplace();
    response_->version(version_);
    response_->result(static_cast<unsigned>(r.status));
    for (auto& [k, v] : r.headers) response_->insert(k, v);
    if (!r.content_type.empty()) response_->set(http::field::content_type, r.content_type);
    response_->body() = std::move(r.body);
    response_->keep_alive(keep_alive_);
    response_->prepare_payload();
    phase_ = Phase::kWriting;
    // A client that does not read its answer holds the connection no longer than a request may.
    Arm(options().request_timeout);
    http::async_write(
        socket_, *response_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWritten(ec); });
  }

  void OnWritten(beast::error_code ec) {
    Disarm();
    response_.reset();
    if (ec || timed_out_) {
      Close();
      return;
    }
    if (linger_) {
      Linger();
      return;
    }
    if (!keep_alive_) {
      beast::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      Close();
      return;
    }
    ReadRequest();
  }

  void Linger() {
    phase_ = Phase::kLingering;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    Arm(absl::FromChrono(kLinger));
    DrainSome();
  }
  void DrainSome() {
    if (!drain_) drain_ = std::make_unique<std::array<char, 8192>>();
    socket_.async_read_some(asio::buffer(*drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->timed_out_ || self->drained_ > kMaxLingerBytes) {
                                self->Close();
                                return;
                              }
                              self->DrainSome();
                            });
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    Disarm();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  std::shared_ptr<HttpServer::Impl> server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  const std::string remote_;
  const bool counted_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::unique_ptr<std::array<char, 8192>> drain_;
  size_t drained_ = 0;
  Phase phase_ = Phase::kReading;
  uint64_t gen_ = 0;
  bool timed_out_ = false;
  bool keep_alive_ = false;
  bool linger_ = false;
  unsigned version_ = 11;
  int served_ = 0;
};

absl::Status HttpServer::Impl::Listen() {
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot listen for HTTP on '", options_.host, "': not an IP address"));
  }
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(options_.port));
  auto fail = [&](const char* what) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", options_.host, ":",
                                               options_.port, " (", what, ": ", ec.message(), ")"));
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  port_ = acceptor_.local_endpoint(ec).port();
  return absl::OkStatus();
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(
      asio::make_strand(ioc_), [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
        if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
        if (!ec) {
          self->OnAccept(std::move(s));
          self->Accept();
          return;
        }
        // Out of descriptors, say: try again shortly rather than spin.
        auto timer = std::make_shared<asio::steady_timer>(self->acceptor_.get_executor());
        timer->expires_after(std::chrono::milliseconds(20));
        timer->async_wait([self, timer](beast::error_code) {
          if (self->acceptor_.is_open()) self->Accept();
        });
      });
}

void HttpServer::Impl::OnAccept(tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  asio::ip::address peer = socket.remote_endpoint(ec).address();
  if (ec) return;  // already gone
  if (peer.is_v6() && peer.to_v6().is_v4_mapped()) {
    peer = asio::ip::make_address_v4(asio::ip::v4_mapped, peer.to_v6());
  }
  bool counted = true;
  if (open_.fetch_add(1) >= options_.max_connections) {
    open_.fetch_sub(1);
    counted = false;
    if (refusing_.fetch_add(1) >= kMaxRefusing) {
      refusing_.fetch_sub(1);
      socket.close(ec);
      return;
    }
  }
  auto session =
      std::make_shared<Session>(shared_from_this(), std::move(socket), peer.to_string(), counted);
  session->PostStart();
}

void HttpServer::Impl::Stop(absl::Duration grace) {
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<Session>> sessions;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [raw, weak] : sessions_) {
      if (std::shared_ptr<Session> s = weak.lock()) sessions.push_back(std::move(s));
    }
  }
  for (auto& s : sessions) s->PostShutdown();
  sessions.clear();
  const absl::Time give_up = absl::Now() + grace;
  while ((open_.load() > 0 || refusing_.load() > 0) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  work_.reset();
  ioc_.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  beast::error_code ignored;
  acceptor_.close(ignored);
  // Handlers still queued (the acceptor's aborted accept, sessions' cancelled waits) each hold
  // the server or a session that holds it, through io_context_, which the server owns: run them
  // out here, or the cycle keeps everything alive after the owner lets go (LeakSanitizer).
  ioc_.restart();
  while (ioc_.poll() > 0) {
  }
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              HttpHandler handler,
                                                              RefusalBuilder refusal) {
  int threads = options.io_threads;
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  auto impl = std::make_shared<Impl>(options, std::move(handler), std::move(refusal), threads);
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  impl->Accept();
  impl->Run(threads);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->port_; }

int HttpServer::open_connections() const { return impl_->open_.load(); }

void HttpServer::Stop(absl::Duration grace) { impl_->Stop(grace); }

}  // namespace civicpoints::gateway
