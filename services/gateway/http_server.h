// HttpServer: an event-driven HTTP/1.1 server (Boost.Beast on Boost.Asio, kept inside
// http_server.cc) for the gateway's REST face. A few io threads serve every connection; none of
// them ever waits on a backend: the handler gets the request and a `respond` function to call
// once, from any thread, when the answer is ready. What a slow or hostile client can hold is
// bounded: open connections (beyond the cap a new one is answered 503 and closed), the time a
// whole request (header and body) may take to arrive (408), the body size (413, decided from
// Content-Length before the body is read), a malformed request or Content-Length (400), the idle
// time between keep-alive requests and the requests per connection. Refusals the server makes by
// itself are built by `refusal`, so they share the face's error shape.
// Start and Stop are not thread-safe; serving is.
//
//   ASSIGN_OR_RETURN(auto server, HttpServer::Start(options, [](HttpRequest req, Respond done) {
//     done({.status = 200, .body = "hi"});
//   }, refusal));
#ifndef CIVICPOINTS_SERVICES_GATEWAY_HTTP_SERVER_H_
#define CIVICPOINTS_SERVICES_GATEWAY_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace civicpoints::gateway {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;        // 0 picks a free one
  int io_threads = 0;  // 0: one per core
  int max_connections = 10000;
  absl::Duration request_timeout = absl::Seconds(10);  // header and body of one request
  absl::Duration idle_timeout = absl::Seconds(30);     // between keep-alive requests
  int max_requests_per_connection = 1000;
  size_t max_body_bytes = 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // as sent: "/v1/orgs/x?a=b"
  std::string path;    // percent-decoded, without the query string
  std::string query;   // raw, after '?'
  Headers headers;     // names in lower case, in the order received
  std::string body;
  std::string remote_address;  // the TCP peer's IP address ("10.0.0.7", "::1")

  // The first value of header `name` (lower case), or "".
  absl::string_view Header(absl::string_view name) const;
  // Every value of header `name` joined by ", " (a header sent several times is one list).
  std::string JoinedHeader(absl::string_view name) const;
  bool HasHeader(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string content_type;
  std::string body;
};

using Respond = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(HttpRequest request, Respond respond)>;

// A request the server refuses by itself: 400 (malformed), 408 (too slow), 413 (body over the
// limit), 503 (too many connections).
struct Refusal {
  int status;
  std::string message;
  std::string remote_address;
};
using RefusalBuilder = std::function<HttpResponse(const Refusal&)>;

class HttpServer {
 public:
  // Binds the port and starts the io threads. `handler` and `refusal` run on io threads and
  // must not block. Errors: UNAVAILABLE when the port cannot be bound; INVALID_ARGUMENT for a
  // host that is not an IP address.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           HttpHandler handler,
                                                           RefusalBuilder refusal);
  ~HttpServer();

  int port() const;
  // Connections open now (for tests and metrics).
  int open_connections() const;
  // Stops accepting, closes idle connections, lets requests being handled answer (up to
  // `grace`), then stops the io threads. Idempotent.
  void Stop(absl::Duration grace = absl::Seconds(5));

  class Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

// Percent-decodes `text` ("%E6%B8%85" → "清"); with `plus_is_space`, '+' becomes ' ' (query
// strings). A malformed escape is kept as is.
std::string PercentDecode(absl::string_view text, bool plus_is_space);

// The decoded (name, value) pairs of a query string "a=1&b=x%20y&a=2", in order.
std::vector<std::pair<std::string, std::string>> ParseQuery(absl::string_view query);

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_HTTP_SERVER_H_
