// IdentityRevocations against a stand-in identity serving ListRevocations: a revocation listed
// there is refused here within the poll interval, and the last list survives identity going away.
#include "common/server/identity_revocations.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/testing/test_env.h"

namespace civicpoints::server {
namespace {

class ListingIdentity final : public identity::v1::IdentityService::Service {
 public:
  grpc::Status ListRevocations(grpc::ServerContext*, const identity::v1::ListRevocationsRequest*,
                               identity::v1::ListRevocationsResponse* resp) override {
    absl::MutexLock lock(&mu_);
    *resp = answer_;
    return grpc::Status::OK;
  }
  void RevokeSession(const std::string& sid) {
    absl::MutexLock lock(&mu_);
    identity::v1::Revocation* r = answer_.add_sessions();
    r->set_digest(auth::RevocationDigest(sid));
    r->mutable_revoke_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  }

 private:
  absl::Mutex mu_;
  identity::v1::ListRevocationsResponse answer_ ABSL_GUARDED_BY(mu_);
};

TEST(IdentityRevocationsTest, ARevokedSessionIsRefusedWithinThePollAndAfterIdentityStops) {
  ListingIdentity identity;
  const int port = testing::FreePort();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials());
  builder.RegisterService(&identity);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  IdentityRevocations revocations(absl::StrCat("127.0.0.1:", port), absl::Milliseconds(200));
  auth::Principal token;
  token.subject = "p_rider";
  token.session_id = "s_phone";
  token.issued_at = absl::Now();
  EXPECT_FALSE(revocations.Revoked(token));

  const absl::Time revoked = absl::Now();
  identity.RevokeSession("s_phone");
  while (!revocations.Revoked(token) && absl::Now() < revoked + absl::Seconds(5)) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  const absl::Duration delay = absl::Now() - revoked;
  EXPECT_TRUE(revocations.Revoked(token));
  EXPECT_LT(delay, absl::Seconds(1)) << "poll every 200 ms";

  server->Shutdown(std::chrono::system_clock::now());
  server.reset();
  absl::SleepFor(absl::Milliseconds(600));
  EXPECT_TRUE(revocations.Revoked(token)) << "the last list stays in use";
}

}  // namespace
}  // namespace civicpoints::server
