// SelfToken: identity's own internal-service token, signed with its own key ring, for the calls
// identity makes itself (publishing its events). The others exchange an API key with identity for
// theirs; identity is the issuer and needs none. Re-signed when less than 5 minutes are left.
// Thread-safe.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_SELF_TOKEN_H_
#define CIVICPOINTS_SERVICES_IDENTITY_SELF_TOKEN_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/server/service_token.h"

namespace civicpoints::identity {

class KeyRing;

class SelfToken final : public server::ServiceToken {
 public:
  explicit SelfToken(KeyRing* keys, absl::Duration lifetime = absl::Minutes(15))
      : keys_(keys), lifetime_(lifetime) {}
  // Errors: UNAVAILABLE when no signing key is active.
  absl::StatusOr<std::string> Get() override;

 private:
  KeyRing* const keys_;
  const absl::Duration lifetime_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time expires_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_SELF_TOKEN_H_
