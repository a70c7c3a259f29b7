// Device tokens (OWASP "device cookies"): Login hands one to a device after a successful sign-in,
// bound by a keyed MAC to the phone and valid for a while. A later login for that phone carrying it
// is counted on the device's own small budget and is not held up by the limits that other
// addresses' failures put on the phone or on a shared address, so an attacker guessing a rider's
// password cannot lock the rider out of their own phone. Nothing is stored: the MAC is the proof.
//
//   std::string token = IssueDeviceToken(secrets, phone_hash, now + kDeviceTokenLifetime);
//   absl::StatusOr<std::optional<std::string>> id = CheckDeviceToken(secrets, token, phone_hash,
//   now);
#ifndef CIVICPOINTS_SERVICES_IDENTITY_DEVICE_TOKEN_H_
#define CIVICPOINTS_SERVICES_IDENTITY_DEVICE_TOKEN_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/identity/crypto.h"

namespace civicpoints::identity {

// "cpd_" + base64url(16-byte nonce, 8-byte expiry in Unix seconds, 16-byte MAC): 58 characters.
std::string IssueDeviceToken(const Secrets& secrets, const std::string& phone_hash,
                             absl::Time expiry);

// The token's id (hex of its nonce; it names the device's throttle bucket) when `token` is a
// device token issued for `phone_hash` that has not expired at `now`; nullopt when it is shaped
// right but not valid for this phone (another phone's, expired, or made under another master
// key): the login then goes on as one from an unknown device. Errors: INVALID_ARGUMENT naming
// device_token when it is not shaped like a device token.
absl::StatusOr<std::optional<std::string>> CheckDeviceToken(const Secrets& secrets,
                                                            const std::string& token,
                                                            const std::string& phone_hash,
                                                            absl::Time now);

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_DEVICE_TOKEN_H_
