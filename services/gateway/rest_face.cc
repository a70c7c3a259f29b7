#include "services/gateway/rest_face.h"

#include <httplib.h>

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/log/log.h"
#include "services/gateway/json_transcoder.h"

namespace civicpoints::gateway {
namespace {

constexpr char kJson[] = "application/json; charset=utf-8";

bool UsableRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

void SendError(httplib::Response& res, const grpc::Status& status, int http_status = 0) {
  res.status = http_status != 0 ? http_status : HttpStatusFor(status.error_code());
  res.set_content(ErrorJson(status), kJson);
}

class Handler {
 public:
  Handler(const RouteTable* routes, Gatekeeper* gatekeeper, Forwarder* forwarder, CallLog* log,
          std::string openapi_json, const std::vector<std::string>& cors_origins)
      : routes_(routes),
        gatekeeper_(gatekeeper),
        forwarder_(forwarder),
        log_(log),
        openapi_json_(std::move(openapi_json)),
        cors_any_(std::find(cors_origins.begin(), cors_origins.end(), "*") != cors_origins.end()),
        cors_origins_(cors_origins.begin(), cors_origins.end()) {}

  void Serve(const httplib::Request& req, httplib::Response& res) const {
    const absl::Time start = absl::Now();
    std::string request_id = req.get_header_value("x-request-id");
    if (!UsableRequestId(request_id)) request_id = log::NewRequestId();
    res.set_header("X-Request-Id", request_id);
    std::string route_label = "unknown";
    std::string principal;
    const std::string origin = req.get_header_value("Origin");
    const bool cors = !origin.empty() && (cors_any_ || cors_origins_.contains(origin));
    if (cors) {
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
    }
    if (!origin.empty()) res.set_header("Vary", "Origin");
    grpc::Status status = req.method == "OPTIONS" && req.has_header("Access-Control-Request-Method")
                              ? Preflight(res, origin, cors, route_label)
                              : Handle(req, res, start, request_id, route_label, principal);
    log_->Record({.face = "rest",
                  .route = route_label,
                  .principal = principal,
                  .code = status.error_code(),
                  .message = status.error_message(),
                  .http_status = res.status,
                  .seconds = absl::ToDoubleSeconds(absl::Now() - start),
                  .request_id = request_id,
                  .client_address = req.remote_addr});
  }

 private:
  // A browser asks before a cross-origin call with credentials or a JSON body.
  grpc::Status Preflight(httplib::Response& res, const std::string& origin, bool allowed,
                         std::string& route_label) const {
    route_label = "OPTIONS preflight";
    if (!allowed) {
      return Fail(res, grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                    absl::StrCat("origin '", origin,
                                                 "' may not call this gateway from a browser "
                                                 "(the gateway's cors_origins setting)")));
    }
    res.status = 204;
    res.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
    res.set_header("Access-Control-Allow-Headers",
                   "authorization, content-type, x-api-key, x-request-id");
    res.set_header("Access-Control-Max-Age", "600");
    return grpc::Status::OK;
  }

  grpc::Status Fail(httplib::Response& res, grpc::Status status, int http_status = 0) const {
    SendError(res, status, http_status);
    return status;
  }

  grpc::Status Handle(const httplib::Request& req, httplib::Response& res, absl::Time start,
                      const std::string& request_id, std::string& route_label,
                      std::string& principal) const {
    if (req.path == "/openapi.json") {
      route_label = "GET /openapi.json";
      if (req.method != "GET") {
        res.set_header("Allow", "GET");
        return Fail(res, grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "use GET"), 405);
      }
      res.status = 200;
      res.set_content(openapi_json_, kJson);
      return grpc::Status::OK;
    }
    HttpMatch match = routes_->MatchHttp(req.method, req.path);
    if (match.route == nullptr) {
      if (!match.allowed_verbs.empty()) {
        res.set_header("Allow", absl::StrJoin(match.allowed_verbs, ", "));
        return Fail(
            res,
            grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                         absl::StrCat(req.method, " is not allowed on ", req.path,
                                      "; allowed: ", absl::StrJoin(match.allowed_verbs, ", "))),
            405);
      }
      return Fail(res, grpc::Status(grpc::StatusCode::NOT_FOUND,
                                    absl::StrCat("no route ", req.method, " ", req.path)));
    }
    const Route& route = *match.route;
    route_label = absl::StrCat(route.http_verb, " ", route.http_template);
    const std::string authorization = req.get_header_value("authorization");
    const std::string api_key = req.get_header_value("x-api-key");
    Admission admission = gatekeeper_->Admit(
        route,
        {.authorization = authorization, .api_key = api_key, .client_address = req.remote_addr},
        start);
    principal = admission.principal;
    if (!admission.status.ok()) {
      if (admission.retry_after) {
        res.set_header("Retry-After", absl::StrCat(absl::ToInt64Seconds(*admission.retry_after)));
      }
      return Fail(res, admission.status);
    }
    // Bodies are JSON whatever their declared type: `curl -d '{...}'` labels JSON as a form, and
    // the form's "fields" would otherwise be taken for query parameters.
    Params query;
    if (absl::StartsWith(req.get_header_value("Content-Type"),
                         "application/x-www-form-urlencoded")) {
      httplib::Params from_url;
      const size_t mark = req.target.find('?');
      if (mark != std::string::npos) {
        httplib::detail::parse_query_text(req.target.substr(mark + 1), from_url);
      }
      query.assign(from_url.begin(), from_url.end());
    } else {
      query.assign(req.params.begin(), req.params.end());
    }
    absl::StatusOr<std::string> message = BuildRequest(route, match.bindings, query, req.body);
    if (!message.ok()) {
      return Fail(res, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                    std::string(message.status().message())));
    }
    ForwardRequest forward;
    forward.route = &route;
    forward.message = ToByteBuffer(*message);
    if (!admission.authorization.empty()) {
      forward.metadata.emplace_back("authorization", std::move(admission.authorization));
    }
    forward.metadata.emplace_back("x-request-id", request_id);
    forward.metadata.emplace_back("x-client-address", req.remote_addr);
    ForwardResult result = forwarder_->ForwardBlocking(std::move(forward));
    for (const auto& [key, value] : result.metadata) {
      if (key == "retry-after") res.set_header("Retry-After", value);
    }
    if (!result.status.ok()) return Fail(res, result.status);
    absl::StatusOr<std::string> json = ResponseJson(route, ToString(result.message));
    if (!json.ok()) {
      return Fail(res,
                  grpc::Status(grpc::StatusCode::INTERNAL, std::string(json.status().message())));
    }
    res.status = 200;
    res.set_content(*std::move(json), kJson);
    return grpc::Status::OK;
  }

  const RouteTable* routes_;
  Gatekeeper* gatekeeper_;
  Forwarder* forwarder_;
  CallLog* log_;
  const std::string openapi_json_;
  const bool cors_any_;
  const absl::flat_hash_set<std::string> cors_origins_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RestFace>> RestFace::Start(const RestOptions& options,
                                                          const RouteTable* routes,
                                                          Gatekeeper* gatekeeper,
                                                          Forwarder* forwarder, CallLog* log,
                                                          std::string openapi_json) {
  std::unique_ptr<RestFace> face(new RestFace);
  face->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *face->server_;
  auto handler = std::make_shared<Handler>(routes, gatekeeper, forwarder, log,
                                           std::move(openapi_json), options.cors_origins);
  auto serve = [handler](const httplib::Request& req, httplib::Response& res) {
    handler->Serve(req, res);
  };
  server.Get(".*", serve);
  server.Post(".*", serve);
  server.Put(".*", serve);
  server.Patch(".*", serve);
  server.Delete(".*", serve);
  server.Options(".*", serve);
  // What the server answers by itself (a body over the limit, a request it cannot parse) gets
  // the same JSON error shape.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [log](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        grpc::Status status;
        if (res.status == 413) {
          status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "request body over the gateway's size limit");
        } else if (res.status == 404) {
          status = grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("no route ", req.path));
        } else {
          status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed HTTP request");
        }
        res.set_content(ErrorJson(status), kJson);
        log->Record({.face = "rest",
                     .route = "unknown",
                     .code = status.error_code(),
                     .message = status.error_message(),
                     .http_status = res.status,
                     .client_address = req.remote_addr});
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_payload_max_length(options.max_body_bytes);
  server.set_keep_alive_max_count(100000);
  server.set_keep_alive_timeout(10);
  server.set_tcp_nodelay(true);
  const int threads = options.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  if (options.port == 0) {
    face->port_ = server.bind_to_any_port(options.host);
  } else if (server.bind_to_port(options.host, options.port)) {
    face->port_ = options.port;
  }
  if (face->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", options.host, ":",
                                               options.port, " (port in use?)"));
  }
  face->thread_ = std::thread([&server] { server.listen_after_bind(); });
  // Stop() only takes effect on a running server: return once it runs.
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (!server.is_running() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  return face;
}

RestFace::~RestFace() { Stop(); }

void RestFace::Stop() {
  if (server_ == nullptr) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace civicpoints::gateway
