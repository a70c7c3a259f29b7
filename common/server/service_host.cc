#include "common/server/service_host.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/server/call_interceptor.h"

namespace civicpoints::server {
namespace {

// gRPC's default health service, registered by EnableDefaultHealthCheckService.
constexpr char kHealthServiceName[] = "grpc.health.v1.Health";

}  // namespace

ServiceHost::~ServiceHost() { Shutdown(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Start(
    const HostOptions& options, const std::vector<HostedService>& services) {
  std::unique_ptr<ServiceHost> host(new ServiceHost);
  absl::StatusOr<std::unique_ptr<Metrics>> metrics =
      Metrics::Create(options.service_name, options.host, options.metrics_port);
  if (!metrics.ok()) return metrics.status();
  host->metrics_ = *std::move(metrics);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  const std::string address = absl::StrCat(options.host, ":", options.grpc_port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &host->grpc_port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  if (options.max_threads > 0) {
    // Without a quota the synchronous server starts a thread per waiting call, without limit.
    grpc::ResourceQuota quota(absl::StrCat(options.service_name, "-calls"));
    quota.SetMaxThreads(options.max_threads);
    builder.SetResourceQuota(quota);
  }
  // Two processes silently sharing a port would split traffic between versions; refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::vector<std::string> listed = options.reflected_services;
  listed.push_back(kHealthServiceName);
  for (const HostedService& s : services) {
    builder.RegisterService(s.service);
    listed.push_back(s.name);
  }
  host->reflection_ = std::make_unique<ReflectionServices>(std::move(listed));
  for (grpc::Service* s : host->reflection_->services()) builder.RegisterService(s);
  if (options.generic_service != nullptr) {
    builder.RegisterCallbackGenericService(options.generic_service);
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(
      std::make_unique<CallInterceptorFactory>(host->metrics_.get(), options.log_calls));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  host->server_ = builder.BuildAndStart();
  if (host->server_ == nullptr || host->grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", address,
                                               " (port in use or address not local?)"));
  }
  grpc::HealthCheckServiceInterface* health = host->server_->GetHealthCheckService();
  health->SetServingStatus(true);
  for (const HostedService& s : services) health->SetServingStatus(s.name, true);
  log::Info("serving", {{"grpc_port", host->grpc_port_}, {"metrics_port", host->metrics_->port()}});
  return host;
}

void ServiceHost::Shutdown(absl::Duration grace) {
  if (stopped_ || server_ == nullptr) return;
  stopped_ = true;
  server_->GetHealthCheckService()->Shutdown();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace civicpoints::server
