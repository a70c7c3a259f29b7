// Gateway: the gateway's parts for the life of the process, wired in dependency order — the
// route table read from the contracts, the backends' channels, the API-key exchanger (identity),
// the gatekeeper (authentication, policy, rate limits), the access log, the gRPC face (hosted by
// the ServiceHost as its generic service) and the REST face (its own HTTP port). main.cc and the
// tests build it the same way.
//
//   ASSIGN_OR_RETURN(auto gw, Gateway::Create(settings, authorizer));
//   host options.generic_service = gw->grpc_face();
//   RETURN_IF_ERROR(gw->StartRest({.port = 8080}, &host->metrics().registry()));
#ifndef CIVICPOINTS_SERVICES_GATEWAY_GATEWAY_H_
#define CIVICPOINTS_SERVICES_GATEWAY_GATEWAY_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/gateway/api_key_exchanger.h"
#include "services/gateway/call_log.h"
#include "services/gateway/client_address.h"
#include "services/gateway/forwarder.h"
#include "services/gateway/gatekeeper.h"
#include "services/gateway/grpc_face.h"
#include "services/gateway/rate_limiter.h"
#include "services/gateway/rest_face.h"
#include "services/gateway/route_table.h"
#include "services/gateway/token_keys.h"

namespace civicpoints::auth {
class Authorizer;
}

namespace civicpoints::gateway {

struct GatewaySettings {
  // Backend name ("identity", "activity", "ledger", "rewards") → address and timeout.
  std::map<std::string, BackendOptions> backends;
  RateLimit per_principal{.per_second = 50, .burst = 100};
  RateLimit per_address{.per_second = 5, .burst = 20};
  size_t max_api_keys = 10000;  // API keys whose tokens are remembered
  int max_message_bytes = 4 * 1024 * 1024;
  bool access_log = true;  // one log line per call (at log level info)
  // Peers whose forwarding headers name the caller (both faces); none by default.
  TrustedProxies trusted_proxies;
};

class Gateway {
 public:
  // `authorizer` and `keys` (the keys behind its verifier; may be null for a static key set)
  // must outlive the gateway. Errors: as RouteTable::Build and Forwarder::Create.
  static absl::StatusOr<std::unique_ptr<Gateway>> Create(const GatewaySettings& settings,
                                                         const auth::Authorizer* authorizer,
                                                         TokenKeys* keys = nullptr);

  GrpcFace* grpc_face() { return grpc_face_.get(); }
  ApiKeyExchanger* api_key_exchanger() { return exchanger_.get(); }
  const RouteTable& routes() const { return routes_; }

  // Records per-route metrics into `registry` (may be null) and serves REST (with the
  // settings' trusted proxies). Errors: as RestFace::Start.
  absl::Status StartRest(const RestOptions& options, prometheus::Registry* registry);
  int rest_port() const { return rest_ != nullptr ? rest_->port() : 0; }
  int rest_open_connections() const { return rest_ != nullptr ? rest_->open_connections() : 0; }
  void StopRest();

 private:
  Gateway() = default;
  RouteTable routes_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<ApiKeyExchanger> exchanger_;
  std::unique_ptr<Gatekeeper> gatekeeper_;
  CallLog log_;
  TrustedProxies trusted_proxies_;
  std::unique_ptr<GrpcFace> grpc_face_;
  std::unique_ptr<RestFace> rest_;
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_GATEWAY_H_
