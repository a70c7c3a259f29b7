// IdentityKeyProvider: the token-verification keys of every service but identity, fetched from
// identity's ListPublicKeys and cached, so verifying a token never calls identity on the hot path.
// The cache is refreshed when older than the max age identity announces (300 s), and at once on a
// token with an unknown kid (a rotation), at most once every `min_refresh` so a flood of forged
// kids cannot turn into a flood of calls. When identity cannot be reached the last keys stay in
// use. Thread-safe.
#ifndef CIVICPOINTS_COMMON_SERVER_IDENTITY_KEYS_H_
#define CIVICPOINTS_COMMON_SERVER_IDENTITY_KEYS_H_

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/jwt.h"

namespace grpc {
class Channel;
}

namespace civicpoints::server {

class IdentityKeyProvider final : public auth::KeyProvider {
 public:
  // `address` is identity's gRPC host:port. `fallback` (may be null) is consulted first, e.g.
  // the keys of a JWKS file.
  IdentityKeyProvider(const std::string& address, std::shared_ptr<auth::KeyProvider> fallback,
                      absl::Duration min_refresh = absl::Seconds(10));

  absl::StatusOr<auth::Ed25519PublicKey> Find(const std::string& kid) override;

  // Fetches the keys now. Errors: identity's status (UNAVAILABLE when it is down).
  absl::Status Refresh();

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<auth::KeyProvider> fallback_;
  const absl::Duration min_refresh_;
  absl::Mutex mu_;
  std::map<std::string, auth::Ed25519PublicKey> keys_ ABSL_GUARDED_BY(mu_);
  absl::Time fetched_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time tried_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration max_age_ ABSL_GUARDED_BY(mu_) = absl::Seconds(300);
};

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_IDENTITY_KEYS_H_
