// A process built on the shared bootstrap that hosts the test service of common/testing/protos,
// so tests can check how any Civic Points process behaves for an operator (stop with a call in
// flight) without depending on a real service's handlers.
#include <grpcpp/grpcpp.h>

#include "absl/time/clock.h"
#include "common/log/log.h"
#include "common/server/service_main.h"
#include "cptest/v1/test_service.grpc.pb.h"

namespace {

class TestService final : public cptest::v1::TestService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext*, const cptest::v1::EchoRequest* req,
                    cptest::v1::EchoResponse* resp) override {
    resp->set_text(req->text());
    return grpc::Status::OK;
  }

  grpc::Status Slow(grpc::ServerContext* ctx, const cptest::v1::SlowRequest* req,
                    cptest::v1::SlowResponse* resp) override {
    civicpoints::log::Info("slow call started", {{"sleep_ms", req->sleep_ms()}});
    const absl::Time until = absl::Now() + absl::Milliseconds(req->sleep_ms());
    while (absl::Now() < until) {
      if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      absl::SleepFor(absl::Milliseconds(10));
    }
    resp->set_finished(true);
    return grpc::Status::OK;
  }
};

}  // namespace

int main(int argc, char** argv) {
  using civicpoints::server::BuiltService;
  return civicpoints::server::RunService(
      {.name = "testserver", .description = "bootstrap test process"}, argc, argv,
      [](civicpoints::server::ServiceDeps&) -> absl::StatusOr<std::vector<BuiltService>> {
        std::vector<BuiltService> services;
        services.push_back(
            {cptest::v1::TestService::service_full_name(), std::make_unique<TestService>()});
        return services;
      });
}
