// The test service of common/testing/protos as the bootstrap tests use it: Echo answers at once
// (remembering the request id it saw), Slow sleeps as asked, giving up if the call is cancelled,
// and says when it started, both as a flag and as a log line (for tests watching a process).
#ifndef CIVICPOINTS_COMMON_TESTING_SLOW_TEST_SERVICE_H_
#define CIVICPOINTS_COMMON_TESTING_SLOW_TEST_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/log/log.h"
#include "cptest/v1/test_service.grpc.pb.h"

namespace civicpoints::testing {

class SlowTestService : public ::cptest::v1::TestService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* ctx, const ::cptest::v1::EchoRequest* req,
                    ::cptest::v1::EchoResponse* resp) override {
    auto it = ctx->client_metadata().find("x-request-id");
    absl::MutexLock lock(&mu_);
    seen_request_id_ =
        it == ctx->client_metadata().end() ? "" : std::string(it->second.data(), it->second.size());
    resp->set_text(req->text());
    return grpc::Status::OK;
  }

  grpc::Status Slow(grpc::ServerContext* ctx, const ::cptest::v1::SlowRequest* req,
                    ::cptest::v1::SlowResponse* resp) override {
    entered = true;
    log::Info("slow call started", {{"sleep_ms", req->sleep_ms()}});
    const absl::Time until = absl::Now() + absl::Milliseconds(req->sleep_ms());
    while (absl::Now() < until) {
      if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      absl::SleepFor(absl::Milliseconds(10));
    }
    resp->set_finished(true);
    return grpc::Status::OK;
  }

  std::string seen_request_id() {
    absl::MutexLock lock(&mu_);
    return seen_request_id_;
  }

  std::atomic<bool> entered{false};

 private:
  absl::Mutex mu_;
  std::string seen_request_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace civicpoints::testing

#endif  // CIVICPOINTS_COMMON_TESTING_SLOW_TEST_SERVICE_H_
