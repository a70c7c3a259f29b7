#include "common/server/identity_revocations.h"
#include "common/server/peer_channel.h"

#include <grpcpp/grpcpp.h>

#include "absl/time/clock.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/log/log.h"
#include "common/status/grpc_status.h"

namespace civicpoints::server {

IdentityRevocations::IdentityRevocations(const std::string& address, absl::Duration poll)
    : channel_(PeerChannel(address)),
      poll_(poll),
      set_(std::make_shared<const auth::RevocationSet>()),
      poller_([this] { PollLoop(); }) {}

IdentityRevocations::~IdentityRevocations() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  poller_.join();
}

bool IdentityRevocations::Revoked(const auth::Principal& principal) const {
  std::shared_ptr<const auth::RevocationSet> set;
  {
    absl::MutexLock lock(&mu_);
    set = set_;
  }
  return set->Revoked(principal);
}

absl::Time IdentityRevocations::fetched_at() const {
  absl::MutexLock lock(&mu_);
  return fetched_at_;
}

absl::Status IdentityRevocations::Refresh() {
  auto stub = identity::v1::IdentityService::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  identity::v1::ListRevocationsRequest req;
  identity::v1::ListRevocationsResponse resp;
  if (grpc::Status s = stub->ListRevocations(&ctx, req, &resp); !s.ok()) {
    return FromGrpcStatus(s);
  }
  auto set = std::make_shared<auth::RevocationSet>();
  for (const identity::v1::Revocation& r : resp.sessions()) {
    set->AddSession(r.digest(), absl::FromUnixSeconds(r.revoke_time().seconds()) +
                                    absl::Nanoseconds(r.revoke_time().nanos()));
  }
  for (const identity::v1::Revocation& r : resp.subjects()) {
    set->AddSubject(r.digest(), absl::FromUnixSeconds(r.revoke_time().seconds()) +
                                    absl::Nanoseconds(r.revoke_time().nanos()));
  }
  absl::MutexLock lock(&mu_);
  set_ = std::move(set);
  fetched_at_ = absl::Now();
  return absl::OkStatus();
}

void IdentityRevocations::PollLoop() {
  bool failing = false;
  absl::Time next = absl::Now();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithDeadline(absl::Condition(&stopping_), next);
      if (stopping_) return;
    }
    const absl::Status s = Refresh();
    // One line when the list goes stale and one when it is fresh again, not one per poll.
    if (!s.ok() && !failing) {
      log::Warn("cannot fetch identity's revocation list; the last one stays in use",
                {{"error", std::string(s.message())}});
    } else if (s.ok() && failing) {
      log::Info("identity's revocation list is fetched again");
    }
    failing = !s.ok();
    next = absl::Now() + poll_;
  }
}

}  // namespace civicpoints::server
