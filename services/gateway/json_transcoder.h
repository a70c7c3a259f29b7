// JSON ↔ protobuf for the REST face, by the proto3 JSON mapping (lowerCamelCase names, enums by
// name, int64 as strings, Timestamps as RFC 3339, UTF-8 text as is). A request message is built
// from the JSON body (POST/PUT/PATCH), the query string (GET/DELETE) and the path variables of
// the route, in that order of precedence from last to first: a path variable wins. Unknown
// fields are refused. Stateless and thread-safe.
#ifndef CIVICPOINTS_SERVICES_GATEWAY_JSON_TRANSCODER_H_
#define CIVICPOINTS_SERVICES_GATEWAY_JSON_TRANSCODER_H_

#include <grpcpp/support/status.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/gateway/route_table.h"

namespace civicpoints::gateway {

using Params = std::vector<std::pair<std::string, std::string>>;

// The serialized request message of `route`. `query` holds the decoded query parameters, whose
// names are field paths ("scope.orgId" or "scope.org_id"); a repeated field may repeat. Errors:
// INVALID_ARGUMENT naming the bad field or parameter (malformed JSON, wrong type, unknown field).
absl::StatusOr<std::string> BuildRequest(const Route& route, const Params& bindings,
                                         const Params& query, absl::string_view body);

// The response message of `route` (serialized) as JSON. Errors: INTERNAL when the bytes do not
// parse as the response type.
absl::StatusOr<std::string> ResponseJson(const Route& route, const std::string& bytes);

// {"code": 5, "status": "NOT_FOUND", "message": "...", "details": [...]}: the gRPC code and name,
// the message, and the google.rpc details carried in the status (RetryInfo, ErrorInfo) as JSON.
std::string ErrorJson(const grpc::Status& status);

// The HTTP status that matches a gRPC code (NOT_FOUND → 404, UNAVAILABLE → 503, ...).
int HttpStatusFor(grpc::StatusCode code);

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_JSON_TRANSCODER_H_
