#include "services/gateway/rest_face.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/labels/label_catalogue.h"
#include "common/log/log.h"
#include "common/status/grpc_status.h"
#include "services/gateway/json_transcoder.h"
#include "services/gateway/localized_errors.h"

namespace civicpoints::gateway {
namespace {

constexpr char kJson[] = "application/json; charset=utf-8";

bool UsableRequestId(absl::string_view id) {
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

// One request on its way through admission and the backend; answered exactly once.
struct RestCall {
  HttpRequest request;
  Respond respond;
  absl::Time start;
  std::string request_id;
  std::string client_address;
  std::string route_label = "unknown";
  std::string principal;
  labels::Locale locale = labels::kDefaultLocale;  // of the error messages, from Accept-Language
  Headers headers;  // of the answer: X-Request-Id, CORS, Retry-After, Allow
};

class Handler {
 public:
  Handler(const RouteTable* routes, Gatekeeper* gatekeeper, Forwarder* forwarder, CallLog* log,
          std::string openapi_json, const RestOptions& options)
      : routes_(routes),
        gatekeeper_(gatekeeper),
        forwarder_(forwarder),
        log_(log),
        openapi_json_(std::move(openapi_json)),
        trusted_proxies_(options.trusted_proxies),
        cors_any_(std::find(options.cors_origins.begin(), options.cors_origins.end(), "*") !=
                  options.cors_origins.end()),
        cors_origins_(options.cors_origins.begin(), options.cors_origins.end()),
        site_(options.site) {}

  void Serve(HttpRequest req, Respond respond) const {
    auto call = std::make_shared<RestCall>();
    call->start = absl::Now();
    call->respond = std::move(respond);
    call->request_id = std::string(req.Header("x-request-id"));
    if (!UsableRequestId(call->request_id)) call->request_id = log::NewRequestId();
    call->headers.emplace_back("X-Request-Id", call->request_id);
    call->client_address = trusted_proxies_.ClientAddress(
        req.remote_address, req.JoinedHeader("x-forwarded-for"), req.JoinedHeader("forwarded"));
    const std::string origin(req.Header("origin"));
    const bool cors = !origin.empty() && (cors_any_ || cors_origins_.contains(origin));
    if (cors) {
      call->headers.emplace_back("Access-Control-Allow-Origin", origin);
      call->headers.emplace_back("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
    }
    if (!origin.empty()) call->headers.emplace_back("Vary", "Origin");
    call->locale = labels::NegotiateLocale(req.JoinedHeader("accept-language"));
    call->request = std::move(req);
    if (call->request.method == "OPTIONS" &&
        call->request.HasHeader("access-control-request-method")) {
      Preflight(call, origin, cors);
    } else {
      Handle(call);
    }
  }

  // The answer to a request the server refused by itself, in the same error shape.
  HttpResponse Refused(const Refusal& refusal) const {
    grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT;
    if (refusal.status == 413 || refusal.status == 431) {
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
    } else if (refusal.status == 408) {
      code = grpc::StatusCode::DEADLINE_EXCEEDED;
    } else if (refusal.status == 503) {
      code = grpc::StatusCode::UNAVAILABLE;
    }
    const grpc::Status status(code, refusal.message);
    log_->Record({.face = "rest",
                  .route = "unknown",
                  .code = status.error_code(),
                  .message = status.error_message(),
                  .http_status = refusal.status,
                  .client_address = refusal.remote_address});
    // Refused before its headers were read: no Accept-Language to go by.
    HttpResponse out{.status = refusal.status,
                     .content_type = kJson,
                     .body = ErrorJson(WithLocalizedMessage(status, labels::kDefaultLocale,
                                                            labels::LabelCatalogue::Builtin()))};
    if (refusal.status == 503) out.headers.emplace_back("Retry-After", "1");
    return out;
  }

 private:
  using CallPtr = std::shared_ptr<RestCall>;

  void Finish(const CallPtr& call, int http_status, std::string body,
              const grpc::Status& status) const {
    log_->Record({.face = "rest",
                  .route = call->route_label,
                  .principal = call->principal,
                  .code = status.error_code(),
                  .message = status.error_message(),
                  .http_status = http_status,
                  .seconds = absl::ToDoubleSeconds(absl::Now() - call->start),
                  .request_id = call->request_id,
                  .client_address = call->client_address});
    HttpResponse response{.status = http_status,
                          .headers = std::move(call->headers),
                          .content_type = body.empty() ? "" : kJson,
                          .body = std::move(body)};
    Respond respond = std::move(call->respond);
    respond(std::move(response));
  }

  void Fail(const CallPtr& call, const grpc::Status& status, int http_status = 0) const {
    Finish(call, http_status != 0 ? http_status : HttpStatusFor(status.error_code()),
           ErrorJson(WithLocalizedMessage(status, call->locale, labels::LabelCatalogue::Builtin())),
           status);
  }

  // A browser asks before a cross-origin call with credentials or a JSON body.
  void Preflight(const CallPtr& call, const std::string& origin, bool allowed) const {
    call->route_label = "OPTIONS preflight";
    if (!allowed) {
      Fail(call, grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                              absl::StrCat("origin '", origin,
                                           "' may not call this gateway from a browser "
                                           "(the gateway's cors_origins setting)")));
      return;
    }
    call->headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
    call->headers.emplace_back("Access-Control-Allow-Headers",
                               "authorization, content-type, x-api-key, x-request-id");
    call->headers.emplace_back("Access-Control-Max-Age", "600");
    Finish(call, 204, "", grpc::Status::OK);
  }

  void Handle(const CallPtr& call) const {
    const HttpRequest& req = call->request;
    if (site_ != nullptr && site_->Owns(req.path)) {
      call->route_label = "GET static";
      HttpResponse page = site_->Serve(req);
      log_->Record({.face = "rest",
                    .route = call->route_label,
                    .http_status = page.status,
                    .seconds = absl::ToDoubleSeconds(absl::Now() - call->start),
                    .request_id = call->request_id,
                    .client_address = call->client_address});
      for (auto& header : call->headers) page.headers.push_back(std::move(header));
      Respond respond = std::move(call->respond);
      respond(std::move(page));
      return;
    }
    if (req.path == "/openapi.json") {
      call->route_label = "GET /openapi.json";
      if (req.method != "GET") {
        call->headers.emplace_back("Allow", "GET");
        Fail(call, grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "use GET"), 405);
        return;
      }
      Finish(call, 200, openapi_json_, grpc::Status::OK);
      return;
    }
    HttpMatch match = routes_->MatchHttp(req.method, req.path);
    if (match.route == nullptr) {
      if (!match.allowed_verbs.empty()) {
        call->headers.emplace_back("Allow", absl::StrJoin(match.allowed_verbs, ", "));
        Fail(call,
             grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          absl::StrCat(req.method, " is not allowed on ", req.path,
                                       "; allowed: ", absl::StrJoin(match.allowed_verbs, ", "))),
             405);
        return;
      }
      Fail(call, grpc::Status(grpc::StatusCode::NOT_FOUND,
                              absl::StrCat("no route ", req.method, " ", req.path)));
      return;
    }
    const Route* route = match.route;
    call->route_label = absl::StrCat(route->http_verb, " ", route->http_template);
    gatekeeper_->Admit(
        *route,
        {.authorization = req.Header("authorization"),
         .api_key = req.Header("x-api-key"),
         .client_address = call->client_address},
        call->start,
        [this, call, route, bindings = std::move(match.bindings)](Admission admission) mutable {
          Admitted(call, route, std::move(bindings), std::move(admission));
        });
  }

  void Admitted(const CallPtr& call, const Route* route, Params bindings,
                Admission admission) const {
    call->principal = std::move(admission.principal);
    if (!admission.status.ok()) {
      if (admission.retry_after) {
        call->headers.emplace_back("Retry-After",
                                   absl::StrCat(absl::ToInt64Seconds(*admission.retry_after)));
      }
      Fail(call, admission.status);
      return;
    }
    // The query string binds fields whatever the body's declared type (`curl -d '{...}'` labels
    // JSON as a form).
    absl::StatusOr<std::string> message =
        BuildRequest(*route, bindings, ParseQuery(call->request.query), call->request.body);
    if (!message.ok()) {
      Fail(call, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              std::string(message.status().message())));
      return;
    }
    ForwardRequest forward;
    forward.route = route;
    forward.message = ToByteBuffer(*message);
    if (!admission.authorization.empty()) {
      forward.metadata.emplace_back("authorization", std::move(admission.authorization));
    }
    forward.metadata.emplace_back("x-request-id", call->request_id);
    forward.metadata.emplace_back("x-client-address", call->client_address);
    // The language the gateway chose, for answers that carry text (ListLabels); only when the
    // caller named one, so most calls carry no extra header (the backend's default is the same).
    if (call->request.HasHeader("accept-language")) {
      forward.metadata.emplace_back("accept-language", std::string(LocaleTag(call->locale)));
    }
    forwarder_->Forward(std::move(forward), nullptr, [this, call, route](ForwardResult result) {
      bool retry_after = false;
      for (const auto& [key, value] : result.metadata) {
        if (key == "retry-after") {
          call->headers.emplace_back("Retry-After", value);
          retry_after = true;
        }
      }
      if (!result.status.ok() && !retry_after) {
        // A backend that says when to retry only in the status's RetryInfo detail (activity's
        // check-in throttle): the header REST clients read, in whole seconds rounded up.
        if (std::optional<absl::Duration> delay = RetryDelayOf(FromGrpcStatus(result.status))) {
          call->headers.emplace_back(
              "Retry-After", absl::StrCat(std::max<int64_t>(
                                 1, absl::ToInt64Seconds(absl::Ceil(*delay, absl::Seconds(1))))));
        }
      }
      if (!result.status.ok()) {
        Fail(call, result.status);
        return;
      }
      absl::StatusOr<std::string> json = ResponseJson(*route, ToString(result.message));
      if (!json.ok()) {
        Fail(call, grpc::Status(grpc::StatusCode::INTERNAL, std::string(json.status().message())));
        return;
      }
      Finish(call, 200, *std::move(json), grpc::Status::OK);
    });
  }

  const RouteTable* routes_;
  Gatekeeper* gatekeeper_;
  Forwarder* forwarder_;
  CallLog* log_;
  const std::string openapi_json_;
  const TrustedProxies trusted_proxies_;
  const bool cors_any_;
  const absl::flat_hash_set<std::string> cors_origins_;
  const std::shared_ptr<const StaticSite> site_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RestFace>> RestFace::Start(const RestOptions& options,
                                                          const RouteTable* routes,
                                                          Gatekeeper* gatekeeper,
                                                          Forwarder* forwarder, CallLog* log,
                                                          std::string openapi_json) {
  auto handler = std::make_shared<Handler>(routes, gatekeeper, forwarder, log,
                                           std::move(openapi_json), options);
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(
      {.host = options.host,
       .port = options.port,
       .io_threads = options.io_threads,
       .max_connections = options.max_connections,
       .request_timeout = options.request_timeout,
       .idle_timeout = options.idle_timeout,
       .max_requests_per_connection = options.max_requests_per_connection,
       .max_body_bytes = options.max_body_bytes},
      [handler](HttpRequest req, Respond respond) {
        handler->Serve(std::move(req), std::move(respond));
      },
      [handler](const Refusal& refusal) { return handler->Refused(refusal); });
  if (!server.ok()) return server.status();
  std::unique_ptr<RestFace> face(new RestFace);
  face->server_ = *std::move(server);
  return face;
}

RestFace::~RestFace() { Stop(); }

void RestFace::Stop() {
  if (server_ != nullptr) server_->Stop();
}

}  // namespace civicpoints::gateway
