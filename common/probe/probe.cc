#include "common/probe/probe.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "common/status/grpc_status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace civicpoints::probe {
std::shared_ptr<grpc::Channel> ProbeChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

namespace {

// One health check. `wait_for_ready` makes the call wait (within `timeout`) for a connection
// being made instead of failing at once; the call's own polling then drives the connect, where
// otherwise only gRPC's backup poller would, every 5 s.
absl::StatusOr<std::string> Check(const std::shared_ptr<grpc::Channel>& channel,
                                  const std::string& service, absl::Duration timeout,
                                  bool wait_for_ready) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ctx.set_wait_for_ready(wait_for_ready);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&ctx, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

}  // namespace

absl::StatusOr<std::string> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service, absl::Duration timeout) {
  return Check(channel, service, timeout, /*wait_for_ready=*/false);
}

bool WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::string> status =
        Check(channel, "", std::min(absl::Milliseconds(500), deadline - absl::Now()),
              /*wait_for_ready=*/true);
    if (status.ok() && *status == "SERVING") return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

namespace {

// One question on a reflection stream of version `Service` (v1 or v1alpha), and its answer.
template <typename Service, typename Response, typename Request>
absl::StatusOr<Response> AskReflection(const std::shared_ptr<grpc::Channel>& channel,
                                       const Request& request, absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  auto stub = Service::NewStub(channel);
  auto stream = stub->ServerReflectionInfo(&ctx);
  Response response;
  const bool wrote = stream->Write(request);
  stream->WritesDone();
  const bool read = wrote && stream->Read(&response);
  grpc::Status status = stream->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  if (!read) return absl::UnavailableError("reflection stream closed without a response");
  if (response.has_error_response()) {
    return absl::Status(static_cast<absl::StatusCode>(response.error_response().error_code()),
                        response.error_response().error_message());
  }
  return response;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Duration timeout) {
  namespace refl = grpc::reflection::v1alpha;  // what grpcurl asks, and every server answers
  refl::ServerReflectionRequest request;
  request.set_list_services("");
  absl::StatusOr<refl::ServerReflectionResponse> response =
      AskReflection<refl::ServerReflection, refl::ServerReflectionResponse>(channel, request,
                                                                            timeout);
  if (!response.ok()) return response.status();
  std::vector<std::string> names;
  for (const auto& service : response->list_services_response().service()) {
    names.push_back(service.name());
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::vector<std::string>> FilesForSymbol(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& symbol,
    absl::Duration timeout) {
  namespace refl = grpc::reflection::v1;
  refl::ServerReflectionRequest request;
  request.set_file_containing_symbol(symbol);
  absl::StatusOr<refl::ServerReflectionResponse> response =
      AskReflection<refl::ServerReflection, refl::ServerReflectionResponse>(channel, request,
                                                                            timeout);
  if (!response.ok()) return response.status();
  const auto& files = response->file_descriptor_response().file_descriptor_proto();
  return std::vector<std::string>(files.begin(), files.end());
}

}  // namespace civicpoints::probe
