// RestFace: the gateway's REST/JSON face on an HTTP/1.1 port (HttpServer: event-driven, a few io
// threads, limits on connections, request time, body size and keep-alive). Each request is matched
// to a method by the REST route its contract declares, admitted by the Gatekeeper, transcoded to
// the request message (JSON body, query string, path variables), forwarded like a gRPC call, and
// answered with the response as JSON, or an error as JSON {code, status, message, details} with the
// matching HTTP status: 400 bad input, 401, 403, 404 unknown route, 405 wrong verb (with Allow),
// 413 body over the limit, 429 with Retry-After, 503 backend down (and beyond the connection cap),
// 408 for a request that does not arrive within its deadline. No io thread waits: admission and
// forwarding answer by callback. GET /openapi.json serves the OpenAPI document. Browsers on the
// origins named in RestOptions::cors_origins (a district dashboard, say) may call it: their
// preflight is answered 204 and every answer carries Access-Control-Allow-Origin; a preflight from
// another origin is refused 403. A StaticSite, when given, answers the paths under its prefix
// (GET /dashboard/). Start and Stop are not thread-safe; serving is.
#ifndef CIVICPOINTS_SERVICES_GATEWAY_REST_FACE_H_
#define CIVICPOINTS_SERVICES_GATEWAY_REST_FACE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/gateway/call_log.h"
#include "services/gateway/client_address.h"
#include "services/gateway/forwarder.h"
#include "services/gateway/gatekeeper.h"
#include "services/gateway/http_server.h"
#include "services/gateway/route_table.h"
#include "services/gateway/static_site.h"

namespace civicpoints::gateway {

struct RestOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 picks a free one
  size_t max_body_bytes = 1024 * 1024;
  int io_threads = 0;  // 0: one per core
  int max_connections = 10000;
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration idle_timeout = absl::Seconds(30);
  int max_requests_per_connection = 1000;
  // Origins ("https://dashboard.example.cn") whose browser pages may call; "*" for any; empty for
  // none (browsers then refuse cross-origin calls, as before).
  std::vector<std::string> cors_origins;
  // Peers whose X-Forwarded-For / Forwarded name the caller (an ingress); none by default.
  TrustedProxies trusted_proxies;
  // A web page served under its prefix on the same port (the dashboard); none by default.
  std::shared_ptr<const StaticSite> site;
};

class RestFace {
 public:
  // Binds the port and starts serving. Pointers must outlive the face. Errors: UNAVAILABLE when
  // the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<RestFace>> Start(const RestOptions& options,
                                                         const RouteTable* routes,
                                                         Gatekeeper* gatekeeper,
                                                         Forwarder* forwarder, CallLog* log,
                                                         std::string openapi_json);
  ~RestFace();

  int port() const { return server_->port(); }
  int open_connections() const { return server_->open_connections(); }
  // Stops accepting, lets requests in flight answer, and stops the io threads. Idempotent.
  void Stop();

 private:
  RestFace() = default;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_REST_FACE_H_
