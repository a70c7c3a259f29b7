// identity's cryptography, all from libsodium: keyed hashes of phone numbers and API keys,
// refresh-token successors, sealed signing keys, argon2id password hashes, random ids and codes.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_CRYPTO_H_
#define CIVICPOINTS_SERVICES_IDENTITY_CRYPTO_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/base/ids.h"

namespace civicpoints::identity {

// Keys derived from the one 32-byte master key (crypto_kdf, one context per purpose), so a leak of
// the database alone reveals no phone number, API key or signing key.
class Secrets {
 public:
  // `hex` is 64 hex digits. Errors: INVALID_ARGUMENT.
  static absl::StatusOr<Secrets> FromHex(absl::string_view hex);
  // Reads a file holding the 64 hex digits (whitespace ignored). Errors name the file.
  static absl::StatusOr<Secrets> FromFile(const std::string& path);
  // A random master key (tests, and `make run`'s first start).
  static std::string NewMasterKeyHex();

  // HMAC-SHA-256 of the normalised phone digits (32 bytes).
  std::string PhoneHash(absl::string_view digits) const;
  // Keyed BLAKE2b of an API key secret (32 bytes).
  std::string ApiKeyHash(absl::string_view secret) const;
  // The refresh token that replaces `token`: a keyed hash of it, so a retried refresh within the
  // grace period recomputes the same successor without it being stored.
  std::string RefreshSuccessor(absl::string_view token) const;
  // Keyed BLAKE2b of a serialized request (32 bytes): the idempotency records keep this, so a
  // database dump cannot be used to test guesses of a phone number against a stored request.
  std::string RequestHash(absl::string_view bytes) const;
  // Keyed BLAKE2b (16 bytes) binding a device token's nonce to a phone hash: a device token
  // (OWASP "device cookie") proves an earlier successful login for that phone from this device.
  std::string DeviceTokenMac(absl::string_view phone_hash, absl::string_view nonce) const;
  // Encrypts (XSalsa20-Poly1305, random nonce prepended) / decrypts a signing secret key.
  std::string Seal(absl::string_view plaintext) const;
  absl::StatusOr<std::string> Unseal(absl::string_view sealed) const;

 private:
  using Key = std::array<unsigned char, 32>;
  Key phone_key_{}, api_key_key_{}, refresh_key_{}, seal_key_{}, request_key_{}, device_key_{};
};

// argon2id password hashing (crypto_pwhash_str: the parameters travel inside each hash string, so
// raising them later leaves old hashes verifiable).
struct PasswordHasher {
  uint64_t opslimit = 3;
  size_t memlimit_bytes = 64u << 20;

  std::string Hash(absl::string_view password) const;
  static bool Verify(const std::string& hash, absl::string_view password);
};

// `bytes` random bytes.
std::string RandomBytes(size_t bytes);
// A random check-in code of kCheckInCodeLength characters of kCheckInCodeAlphabet.
std::string NewCheckInCode();
// A random one-time SMS code: 6 decimal digits, leading zeros kept ("042917").
std::string NewSmsCode();
// SHA-256 (32 bytes).
std::string Sha256(absl::string_view data);
// Unpadded base64url.
std::string Base64Url(absl::string_view bytes);

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_CRYPTO_H_
