#include "services/gateway/gateway.h"
#include "common/server/peer_channel.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/labels/label_catalogue.h"
#include "services/gateway/openapi.h"

namespace civicpoints::gateway {

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Create(const GatewaySettings& settings,
                                                         const auth::Authorizer* authorizer,
                                                         TokenKeys* keys) {
  std::unique_ptr<Gateway> gw(new Gateway);
  // Parsed now rather than at the first error (every error carries a LocalizedMessage from it).
  labels::LabelCatalogue::Builtin();
  absl::StatusOr<RouteTable> routes = RouteTable::Build(DefaultServices());
  if (!routes.ok()) return routes.status();
  gw->routes_ = *std::move(routes);
  absl::StatusOr<std::unique_ptr<Forwarder>> forwarder =
      Forwarder::Create(settings.backends, gw->routes_, settings.max_message_bytes);
  if (!forwarder.ok()) return forwarder.status();
  gw->forwarder_ = *std::move(forwarder);
  const BackendOptions& identity = settings.backends.at("identity");
  gw->exchanger_ = std::make_unique<ApiKeyExchanger>(server::PeerChannel(identity.address),
                                                     identity.timeout, settings.max_api_keys);
  gw->log_.set_access_log(settings.access_log);
  gw->trusted_proxies_ = settings.trusted_proxies;
  gw->gatekeeper_ = std::make_unique<Gatekeeper>(
      authorizer, gw->exchanger_.get(), settings.per_principal, settings.per_address, keys);
  gw->grpc_face_ = std::make_unique<GrpcFace>(
      &gw->routes_, gw->gatekeeper_.get(), gw->forwarder_.get(), &gw->log_, &gw->trusted_proxies_);
  return gw;
}

absl::Status Gateway::StartRest(const RestOptions& options, prometheus::Registry* registry) {
  if (registry != nullptr) log_.AttachRegistry(*registry);
  RestOptions with_proxies = options;
  with_proxies.trusted_proxies = trusted_proxies_;
  absl::StatusOr<std::unique_ptr<RestFace>> rest = RestFace::Start(
      with_proxies, &routes_, gatekeeper_.get(), forwarder_.get(), &log_, OpenApiJson(routes_));
  if (!rest.ok()) return rest.status();
  rest_ = *std::move(rest);
  return absl::OkStatus();
}

void Gateway::StopRest() {
  if (rest_ != nullptr) rest_->Stop();
}

}  // namespace civicpoints::gateway
