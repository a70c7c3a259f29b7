// RouteTable: every public method of the suite, read once at start from the linked descriptors —
// its gRPC path, the backend that serves it, its access policy, its retry safety and its REST
// route — so a method added to a contract needs no gateway code. Immutable after Build; the
// lookups are thread-safe.
//
//   ASSIGN_OR_RETURN(RouteTable table, RouteTable::Build(DefaultServices()));
//   const Route* r = table.FindGrpc("/civicpoints.ledger.v1.LedgerService/GetTopRanking");
//   HttpMatch m = table.MatchHttp("GET", "/v1/rankings/top");
#ifndef CIVICPOINTS_SERVICES_GATEWAY_ROUTE_TABLE_H_
#define CIVICPOINTS_SERVICES_GATEWAY_ROUTE_TABLE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/method_policy.h"

namespace google::protobuf {
class MethodDescriptor;
}

namespace civicpoints::gateway {

// A service of the suite the gateway forwards to: its backend name ("ledger") and full gRPC
// service name.
struct BackendService {
  std::string backend;
  std::string service;
};

// The four services of the suite.
std::vector<BackendService> DefaultServices();

struct Route {
  std::string grpc_path;  // "/civicpoints.ledger.v1.LedgerService/GetTopRanking"
  std::string backend;    // "ledger"
  const google::protobuf::MethodDescriptor* method = nullptr;
  // The declared policy; when the declaration is missing or contradictory, policy_status says
  // why and every call is refused with it.
  auth::MethodPolicy policy;
  absl::Status policy_status;
  // REST: verb ("GET", ...) and template ("/v1/accounts/{person_id}:deduct"); empty when the
  // method declares no route.
  std::string http_verb;
  std::string http_template;
  // The template split: literal segments, or "{field}" for a variable; then the custom verb.
  std::vector<std::string> segments;
  std::string custom_verb;
};

struct HttpMatch {
  const Route* route = nullptr;  // null: no route (see allowed_verbs)
  // Path variables bound by the template, field name → value.
  std::vector<std::pair<std::string, std::string>> bindings;
  // When the path exists but not for this verb: the verbs it has (answer 405).
  std::vector<std::string> allowed_verbs;
};

class RouteTable {
 public:
  // Reads every method of `services` from the generated descriptor pool. Errors: NOT_FOUND for a
  // service not linked in; INVALID_ARGUMENT for a malformed REST template or two methods on one
  // route.
  static absl::StatusOr<RouteTable> Build(const std::vector<BackendService>& services);

  // The route of a gRPC path, or null.
  const Route* FindGrpc(absl::string_view grpc_path) const;
  // The route of a REST request (path without the query string, percent-decoded).
  HttpMatch MatchHttp(absl::string_view verb, absl::string_view path) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }
  // The full names of the services routed, in the order built ("civicpoints.ledger.v1...").
  std::vector<std::string> services() const;

 private:
  std::vector<std::unique_ptr<Route>> routes_;
  absl::flat_hash_map<std::string, const Route*> by_grpc_path_;
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_ROUTE_TABLE_H_
