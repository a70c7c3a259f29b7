// RevocationFeed: which access tokens identity refuses before they expire, read from the rows
// that record each revocation (sessions signed out or ended, API keys revoked: by session id;
// people suspended or closed, role grants revoked, service accounts disabled: by subject) over the
// last `max_age` (the longest token lifetime plus leeway; older tokens have expired anyway), and
// disabled service accounts however old (the event feed stops their webhooks by it). The
// list is read at most once per `refresh` and shared: it answers ListRevocations, and identity's
// own Authorizer checks tokens against it. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_REVOCATION_FEED_H_
#define CIVICPOINTS_SERVICES_IDENTITY_REVOCATION_FEED_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "common/auth/revocations.h"

namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::identity {

// How long a revocation must stay listed for tokens living `access_token_ttl`: their lifetime plus
// the verifiers' clock leeway.
inline absl::Duration RevocationWindow(absl::Duration access_token_ttl) {
  return access_token_ttl + absl::Minutes(1);
}

class RevocationFeed final : public auth::RevocationChecker {
 public:
  struct Snapshot {
    v1::ListRevocationsResponse answer;
    auth::RevocationSet set;
  };

  // `pool` must outlive the feed.
  RevocationFeed(pg::PgPool* pool, absl::Duration max_age,
                 absl::Duration refresh = absl::Seconds(1));

  // The list, read afresh when the last read is older than `refresh`. Errors: the database's
  // (UNAVAILABLE when it is down).
  absl::StatusOr<std::shared_ptr<const Snapshot>> Current() const;

  // Checks against Current(); when the database cannot be read, against the last list read.
  bool Revoked(const auth::Principal& principal) const override;

 private:
  absl::StatusOr<std::shared_ptr<const Snapshot>> Read() const;

  pg::PgPool* const pool_;
  const absl::Duration max_age_;
  const absl::Duration refresh_;
  // One reader at a time; the others use the last snapshot meanwhile.
  mutable absl::Mutex read_mu_;
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const Snapshot> last_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_REVOCATION_FEED_H_
