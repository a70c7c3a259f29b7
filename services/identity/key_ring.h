// KeyRing: identity's token-signing keys, kept in PostgreSQL with their secret halves sealed under
// the master key, and the states that follow from their times:
//
//   PENDING   published, not signing yet (now < activates_at)
//   ACTIVE    the newest key whose activates_at has passed; signs every new token
//   RETIRING  superseded, still published until its last token expires
//             (not_after = successor's activates_at + access-token lifetime + clock leeway)
//   RETIRED   past not_after, or revoked; no longer published
//
// So a rotation needs no state changes in the table: publish a key with a future activates_at and
// every replica switches to it on its own when the time comes. Keys are cached in memory for a
// few seconds; an unknown kid reloads at once (at most once a second). The states are pure rules
// (key_states.h); the SQL is PgSigningKeys. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_KEY_RING_H_
#define CIVICPOINTS_SERVICES_IDENTITY_KEY_RING_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "civicpoints/identity/v1/auth.pb.h"
#include "common/auth/jwt.h"
#include "services/identity/key_states.h"
#include "services/identity/pg_signing_keys.h"

namespace pqxx {
class transaction_base;
}
namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::identity {

class Secrets;

class KeyRing final : public auth::KeyProvider {
 public:
  // How long published keys are cached before a reload; verifiers elsewhere may cache for 300 s.
  static constexpr absl::Duration kCacheTtl = absl::Seconds(5);
  static constexpr absl::Duration kDefaultActivationDelay = absl::Seconds(600);

  KeyRing(pg::PgPool* pool, const Secrets* secrets) : pool_(pool), secrets_(secrets) {}

  // Creates the first key when no usable key exists (safe to race: one transaction wins).
  absl::Status EnsureKey(absl::Time now);

  // Signs `who` with the active key. Errors: UNAVAILABLE when no key is active.
  absl::StatusOr<std::string> Sign(const auth::Principal& who, absl::Time now);

  // Pending, active and retiring keys, newest first.
  absl::StatusOr<std::vector<v1::SigningKey>> Published(absl::Time now);

  // Publishes a new key that activates after `delay`, in `tx`. Returns (new key, previous active
  // key if any). Errors: FAILED_PRECONDITION when a rotation is still pending.
  absl::StatusOr<std::pair<v1::SigningKey, std::optional<v1::SigningKey>>> Rotate(
      pqxx::transaction_base& tx, absl::Duration delay, absl::Time now);

  // Revokes `kid`; when it was the active key, a new key is activated at once and returned too.
  // Errors: NOT_FOUND.
  absl::StatusOr<std::pair<v1::SigningKey, std::optional<v1::SigningKey>>> Revoke(
      pqxx::transaction_base& tx, const std::string& kid, const std::string& reason,
      absl::Time now);

  // Forgets the cache (after a rotation or revocation commits).
  void Invalidate();

  // auth::KeyProvider: a published key by kid, reloading once on a miss.
  absl::StatusOr<auth::Ed25519PublicKey> Find(const std::string& kid) override;

 private:
  using Key = SigningKeyRecord;
  struct Snapshot {
    std::vector<Key> keys;  // every key, revoked ones too, oldest activation first
    absl::Time loaded_at = absl::InfinitePast();
  };

  // The cached keys (shared, never copied per call), reloaded when stale or when `force`d.
  absl::StatusOr<std::shared_ptr<const Snapshot>> Current(bool force);
  Key NewKey(pqxx::transaction_base& tx, absl::Time activates_at);

  pg::PgPool* const pool_;
  const Secrets* const secrets_;
  const PgSigningKeys store_{};
  absl::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by Invalidate()
  absl::Time last_forced_load_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_KEY_RING_H_
