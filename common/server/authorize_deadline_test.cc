// A handler that only gets a thread after its caller's deadline passed does not start its work:
// Authorize, which every handler runs first, answers DEADLINE_EXCEEDED.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/jwt.h"
#include "common/auth/method_policy.h"
#include "common/testing/test_env.h"
#include "cptest/v1/test_service.grpc.pb.h"

namespace civicpoints::auth {
namespace {

// Echo waits (as a call queued behind busy threads would) before it authorizes.
class LateStartingService final : public ::cptest::v1::TestService::Service {
 public:
  explicit LateStartingService(const Authorizer* authz) : authz_(authz) {}
  grpc::Status Echo(grpc::ServerContext* ctx, const ::cptest::v1::EchoRequest*,
                    ::cptest::v1::EchoResponse*) override {
    absl::SleepFor(absl::Milliseconds(wait_ms.load()));
    const absl::StatusCode code =
        authz_->Authorize(*ctx, "/cptest.v1.TestService/Echo").status().code();
    authorize_code = static_cast<int>(code);
    return grpc::Status::OK;
  }
  std::atomic<int> wait_ms{0};
  std::atomic<int> authorize_code{-1};

 private:
  const Authorizer* authz_;
};

TEST(AuthorizeDeadlineTest, ACallWhoseCallerGaveUpIsNotStarted) {
  Authorizer authz(
      std::make_shared<const TokenVerifier>(std::make_shared<StaticKeyProvider>(KeySet())));
  LateStartingService service(&authz);
  const int port = testing::FreePort();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = ::cptest::v1::TestService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));

  auto call = [&](int deadline_ms) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
    ::cptest::v1::EchoRequest req;
    ::cptest::v1::EchoResponse resp;
    return stub->Echo(&ctx, req, &resp);
  };
  // In time: authorized (a public method).
  EXPECT_TRUE(call(5000).ok());
  EXPECT_EQ(service.authorize_code.load(), static_cast<int>(absl::StatusCode::kOk));
  // Started after the caller's deadline: refused before any work.
  service.wait_ms = 300;
  EXPECT_EQ(call(100).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  const absl::Time until = absl::Now() + absl::Seconds(5);
  while (service.authorize_code.load() == 0 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(service.authorize_code.load(), static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace civicpoints::auth
