// The token-signing keys' states as pure rules over their times (see key_ring.h for the life of a
// key): which key signs, what each key's status and not_after are at a moment, and whether a
// rotation may start. No storage and no clock: KeyRing reads the keys (PgSigningKeys) and asks
// these. key_states_test.cc holds them without a database.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_KEY_STATES_H_
#define CIVICPOINTS_SERVICES_IDENTITY_KEY_STATES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "civicpoints/identity/v1/auth.pb.h"
#include "common/auth/jwt.h"

namespace civicpoints::identity {

// Access tokens live this long, which is how long a superseded key stays published (with the
// verifiers' clock leeway).
inline constexpr absl::Duration kAccessTokenTtl = absl::Minutes(15);

// One signing key as stored.
struct SigningKeyRecord {
  std::string kid;
  auth::Ed25519PublicKey public_key{};
  std::string sealed_secret;
  absl::Time activates_at;
  absl::Time created_at;
  std::optional<absl::Time> revoked_at;
};

// The key that signs at `now` among `keys` (oldest activation first): the newest unrevoked key
// whose activation has passed.
std::optional<size_t> ActiveKeyIndex(const std::vector<SigningKeyRecord>& keys, absl::Time now);

// keys[i] as published at `now`: PENDING before its activation, ACTIVE while it signs, RETIRING
// until the tokens it signed expired after a successor took over, RETIRED after that or once
// revoked (not_after then says when it stopped verifying).
v1::SigningKey DescribeKey(const std::vector<SigningKeyRecord>& keys, size_t i, absl::Time now);

// OK when a rotation may start at `now`. Errors: FAILED_PRECONDITION (KEY_ROTATION_PENDING) while
// a published key still waits for its activation.
absl::Status CheckRotationAllowed(const std::vector<SigningKeyRecord>& keys, absl::Time now);

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_KEY_STATES_H_
