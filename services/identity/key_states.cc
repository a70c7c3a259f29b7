#include "services/identity/key_states.h"

#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/base/time_units.h"
#include "common/status/refusal.h"

namespace civicpoints::identity {
namespace {

// A superseded key stays published until tokens it signed have expired, with clock leeway.
const absl::Duration kRetireAfter = kAccessTokenTtl + auth::TokenVerifier::kLeeway;

}  // namespace

std::optional<size_t> ActiveKeyIndex(const std::vector<SigningKeyRecord>& keys, absl::Time now) {
  std::optional<size_t> active;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].activates_at <= now && !keys[i].revoked_at.has_value()) active = i;
  }
  return active;
}

v1::SigningKey DescribeKey(const std::vector<SigningKeyRecord>& keys, size_t i, absl::Time now) {
  const SigningKeyRecord& k = keys[i];
  v1::SigningKey out;
  out.set_kid(k.kid);
  out.set_algorithm("EdDSA");
  out.set_curve("Ed25519");
  out.set_public_key(auth::Base64UrlEncode(
      absl::string_view(reinterpret_cast<const char*>(k.public_key.data()), k.public_key.size())));
  times::SetTime(out.mutable_not_before(), k.activates_at);
  times::SetTime(out.mutable_create_time(), k.created_at);
  if (k.revoked_at.has_value()) {
    out.set_status(v1::SIGNING_KEY_STATUS_RETIRED);
    times::SetTime(out.mutable_not_after(), *k.revoked_at);
  } else if (k.activates_at > now) {
    out.set_status(v1::SIGNING_KEY_STATUS_PENDING);
  } else if (ActiveKeyIndex(keys, now) == i) {
    out.set_status(v1::SIGNING_KEY_STATUS_ACTIVE);
  } else {
    // Superseded by the next key that really took over: one activated before it was revoked (a
    // key revoked while pending never signed, so it superseded nothing).
    out.set_status(v1::SIGNING_KEY_STATUS_RETIRED);
    for (size_t j = i + 1; j < keys.size(); ++j) {
      const SigningKeyRecord& next = keys[j];
      if (next.activates_at > now) continue;
      if (next.revoked_at.has_value() && *next.revoked_at <= next.activates_at) continue;
      const absl::Time not_after = next.activates_at + kRetireAfter;
      times::SetTime(out.mutable_not_after(), not_after);
      if (now < not_after) out.set_status(v1::SIGNING_KEY_STATUS_RETIRING);
      break;
    }
  }
  return out;
}

absl::Status CheckRotationAllowed(const std::vector<SigningKeyRecord>& keys, absl::Time now) {
  for (const SigningKeyRecord& k : keys) {
    if (k.activates_at > now && !k.revoked_at.has_value()) {
      return Refuse(
          absl::StatusCode::kFailedPrecondition, v1::IDENTITY_ERROR_REASON_KEY_ROTATION_PENDING,
          absl::StrCat("key ", k.kid,
                       " is still pending activation; wait for it before rotating again"));
    }
  }
  return absl::OkStatus();
}

}  // namespace civicpoints::identity
