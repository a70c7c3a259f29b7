// GatewayClient: the demo loader's one door into the suite — the gateway's gRPC port, with the
// four public contracts' stubs. Every call carries the caller's bearer token and is retried while
// the gateway says "too many requests" (a short retry-after) or a backend is briefly unavailable;
// the loader only makes calls that are safe to repeat (reads, or writes with idempotency keys or
// natural keys). Thread-safe: one client serves all loader threads.
//
//   GatewayClient gw("127.0.0.1:50050");
//   identity::v1::GetOrgNodeResponse node;
//   absl::Status s = gw.Call(&IdentityStub::GetOrgNode, token, request, &node);
#ifndef CIVICPOINTS_TOOLS_DEMO_GATEWAY_CLIENT_H_
#define CIVICPOINTS_TOOLS_DEMO_GATEWAY_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"

namespace civicpoints::demo {

using IdentityStub = identity::v1::IdentityService::Stub;
using ActivityStub = activity::v1::ActivityService::Stub;
using LedgerStub = ledger::v1::LedgerService::Stub;
using RewardsStub = rewards::v1::RewardsService::Stub;

class GatewayClient {
 public:
  explicit GatewayClient(const std::string& address);

  // Calls `method` as the holder of `token` (empty: a public call). Returns the call's status
  // with the method's name in front of the message. RESOURCE_EXHAUSTED with a retry-after of at
  // most 5 s and UNAVAILABLE are retried for up to `patience`; any other error is returned.
  template <typename Stub, typename Req, typename Resp>
  absl::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                    const std::string& token, const Req& req, Resp* resp) {
    Stub* stub = StubFor<Stub>();
    return Retrying(Req::descriptor()->name(), [&](grpc::ClientContext* ctx) {
      if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
      return (stub->*method)(ctx, req, resp);
    });
  }

  // How long a call keeps retrying a busy gateway. Default 2 minutes.
  void set_patience(absl::Duration patience) { patience_ = patience; }

 private:
  template <typename Stub>
  Stub* StubFor() {
    if constexpr (std::is_same_v<Stub, IdentityStub>) {
      return identity_.get();
    } else if constexpr (std::is_same_v<Stub, ActivityStub>) {
      return activity_.get();
    } else if constexpr (std::is_same_v<Stub, LedgerStub>) {
      return ledger_.get();
    } else {
      static_assert(std::is_same_v<Stub, RewardsStub>, "not a Civic Points stub");
      return rewards_.get();
    }
  }

  absl::Status Retrying(const std::string& what,
                        const std::function<grpc::Status(grpc::ClientContext*)>& attempt);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<IdentityStub> identity_;
  std::unique_ptr<ActivityStub> activity_;
  std::unique_ptr<LedgerStub> ledger_;
  std::unique_ptr<RewardsStub> rewards_;
  absl::Duration patience_ = absl::Minutes(2);
};

}  // namespace civicpoints::demo

#endif  // CIVICPOINTS_TOOLS_DEMO_GATEWAY_CLIENT_H_
