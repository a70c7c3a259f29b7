#include "common/probe/probe.h"

#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "absl/time/clock.h"

#include "common/status/grpc_status.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace civicpoints::probe {
namespace {

namespace gp = ::google::protobuf;

// libgrpc++_reflection carries the reflection messages' C++ classes without their header, and
// linking a second copy would clash, so the client speaks the (tiny) wire format itself:
// ServerReflectionRequest{list_services = ""} is field 7, an empty string.
constexpr char kListServicesRequest[] = "\x3a\x00";
constexpr int kListServicesResponseField = 6;  // ServerReflectionResponse.list_services_response
constexpr int kErrorResponseField = 7;         // ServerReflectionResponse.error_response
constexpr int kServiceField = 1;               // ListServiceResponse.service
constexpr int kNameField = 1;                  // ServiceResponse.name

std::vector<std::string> LengthDelimited(const gp::UnknownFieldSet& set, int number) {
  std::vector<std::string> out;
  for (int i = 0; i < set.field_count(); ++i) {
    const gp::UnknownField& f = set.field(i);
    if (f.number() == number && f.type() == gp::UnknownField::TYPE_LENGTH_DELIMITED) {
      out.push_back(f.length_delimited());
    }
  }
  return out;
}

}  // namespace

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

absl::StatusOr<std::vector<std::string>> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  // What generated stubs do for a bidi method, with raw bytes for messages.
  const grpc::internal::RpcMethod method(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      grpc::internal::RpcMethod::BIDI_STREAMING, channel);
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          channel.get(), method, &ctx));
  grpc::Slice request_slice(std::string(kListServicesRequest, sizeof kListServicesRequest - 1));
  grpc::ByteBuffer request(&request_slice, 1);
  grpc::ByteBuffer response;
  const bool wrote = stream->Write(request);
  stream->WritesDone();
  const bool read = wrote && stream->Read(&response);
  grpc::Status status = stream->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  if (!read) return absl::UnavailableError("reflection stream closed without a response");

  grpc::Slice flat;
  if (!response.DumpToSingleSlice(&flat).ok()) return absl::InternalError("cannot read response");
  gp::UnknownFieldSet top;
  if (!top.ParseFromArray(flat.begin(), static_cast<int>(flat.size()))) {
    return absl::InternalError("reflection response does not parse");
  }
  if (!LengthDelimited(top, kErrorResponseField).empty()) {
    return absl::UnimplementedError("server answered the reflection request with an error");
  }
  std::vector<std::string> names;
  for (const std::string& list : LengthDelimited(top, kListServicesResponseField)) {
    gp::UnknownFieldSet list_set;
    if (!list_set.ParseFromString(list)) return absl::InternalError("bad service list");
    for (const std::string& entry : LengthDelimited(list_set, kServiceField)) {
      gp::UnknownFieldSet entry_set;
      if (!entry_set.ParseFromString(entry)) return absl::InternalError("bad service entry");
      for (std::string name : LengthDelimited(entry_set, kNameField))
        names.push_back(std::move(name));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace civicpoints::probe
