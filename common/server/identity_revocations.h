// IdentityRevocations: the revocation list of every process but identity, polled from identity's
// ListRevocations by a background thread every `poll` (3 s by default), so a signed-out session,
// a suspension or a revoked role or API key is refused here within about that long. A check never
// calls identity; while identity cannot be reached the last list stays in use. Thread-safe.
#ifndef CIVICPOINTS_COMMON_SERVER_IDENTITY_REVOCATIONS_H_
#define CIVICPOINTS_COMMON_SERVER_IDENTITY_REVOCATIONS_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/revocations.h"

namespace grpc {
class Channel;
}

namespace civicpoints::server {

class IdentityRevocations final : public auth::RevocationChecker {
 public:
  // `address` is identity's gRPC host:port. Starts polling at once.
  explicit IdentityRevocations(const std::string& address, absl::Duration poll = absl::Seconds(3));
  // Stops the poller (waits for a poll in flight, at most 2 s).
  ~IdentityRevocations() override;

  bool Revoked(const auth::Principal& principal) const override;

  // Fetches the list now. Errors: identity's status (UNAVAILABLE when it is down).
  absl::Status Refresh();
  // When the list was last fetched (InfinitePast before the first success).
  absl::Time fetched_at() const;

 private:
  void PollLoop();

  std::shared_ptr<grpc::Channel> channel_;
  const absl::Duration poll_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const auth::RevocationSet> set_ ABSL_GUARDED_BY(mu_);
  absl::Time fetched_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread poller_;
};

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_IDENTITY_REVOCATIONS_H_
