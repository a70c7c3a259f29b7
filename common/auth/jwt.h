// Ed25519-signed access tokens (JWT, alg "EdDSA") for the whole suite.
//
// identity signs; the gateway and every service verify locally against identity's published keys,
// chosen by the token's `kid`, so verifying never calls identity. Claims:
//   iss "civicpoints-identity", aud "civicpoints", sub, jti, iat, exp and optional nbf (seconds
//   since the epoch),
//   roles [{"role":"ROLE_RIDER","org_id":"c_..."}], scopes ["ledger.read"].
// Both classes are immutable after construction and thread-safe.
//
//   TokenVerifier verifier(std::make_shared<StaticKeyProvider>(keys));
//   absl::StatusOr<Principal> who = verifier.Verify(bearer_token, absl::Now());
#ifndef CIVICPOINTS_COMMON_AUTH_JWT_H_
#define CIVICPOINTS_COMMON_AUTH_JWT_H_

#include <array>
#include <map>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"

namespace civicpoints::auth {

inline constexpr char kIssuer[] = "civicpoints-identity";
inline constexpr char kAudience[] = "civicpoints";

using Ed25519PublicKey = std::array<unsigned char, 32>;
using Ed25519SecretKey = std::array<unsigned char, 64>;

// The public keys that verify tokens, by kid.
class KeySet {
 public:
  // Parses a JWKS document of OKP/Ed25519 keys. Errors: INVALID_ARGUMENT naming the bad key.
  static absl::StatusOr<KeySet> FromJwks(absl::string_view jwks_json);

  void Add(std::string kid, const Ed25519PublicKey& key) { keys_[std::move(kid)] = key; }
  const Ed25519PublicKey* Find(const std::string& kid) const;
  // The set as a JWKS document.
  std::string ToJwks() const;
  bool empty() const { return keys_.empty(); }

 private:
  static absl::StatusOr<KeySet> ParseJwks(absl::string_view jwks_json);
  std::map<std::string, Ed25519PublicKey> keys_;
};

// Where a verifier finds the key for a kid. Implementations may refresh on an unknown kid.
class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  // Returns the key for `kid`. Errors: NOT_FOUND when no such key is known (after any refresh).
  virtual absl::StatusOr<Ed25519PublicKey> Find(const std::string& kid) = 0;
};

// A fixed KeySet (from a JWKS file, or tests).
class StaticKeyProvider : public KeyProvider {
 public:
  explicit StaticKeyProvider(KeySet keys) : keys_(std::move(keys)) {}
  absl::StatusOr<Ed25519PublicKey> Find(const std::string& kid) override;

 private:
  const KeySet keys_;
};

class TokenVerifier {
 public:
  // Clock skew tolerated on exp and iat.
  static constexpr absl::Duration kLeeway = absl::Seconds(30);
  // Verified tokens remembered until they expire, so a client's repeated calls cost one
  // signature check (access tokens cannot be revoked early, so this loses nothing).
  // Full, it evicts one entry (an expired one, else the earliest to expire among a few), never
  // everything.
  static constexpr size_t kCacheSize = 10000;
  // Every this many new entries, the expired ones are dropped: a token that expires unused (its
  // holder signed in again, or left) would otherwise stay until the cache fills, and memory would
  // follow the tokens seen since start rather than those in use.
  static constexpr size_t kSweepEvery = 1024;

  explicit TokenVerifier(std::shared_ptr<KeyProvider> keys) : keys_(std::move(keys)) {}

  // Verifies signature, algorithm, issuer, audience and lifetime and returns the principal.
  // Errors: UNAUTHENTICATED with the reason (malformed, algorithm other than EdDSA, unknown kid,
  // bad signature, expired, issued in the future or not valid yet, wrong issuer or audience, bad
  // claims). Claims it does not know (identity's "name", "sid", ...) are ignored.
  absl::StatusOr<Principal> Verify(absl::string_view token, absl::Time now) const;

  // How many verified tokens are remembered.
  size_t CachedTokensForTest() const;

 private:
  static constexpr int kEvictionSample = 8;
  absl::StatusOr<Principal> VerifyUnchecked(absl::string_view token, absl::Time now) const;
  void EvictOneLocked(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(cache_mu_);
  std::shared_ptr<KeyProvider> keys_;
  mutable absl::Mutex cache_mu_;
  mutable absl::flat_hash_map<std::string, Principal> cache_ ABSL_GUARDED_BY(cache_mu_);
  mutable size_t inserts_since_sweep_ ABSL_GUARDED_BY(cache_mu_) = 0;
};

class TokenSigner {
 public:
  TokenSigner(std::string kid, const Ed25519SecretKey& secret_key);

  // A fresh random key pair.
  static void GenerateKeyPair(Ed25519PublicKey* public_key, Ed25519SecretKey* secret_key);

  // Signs a token for `who` (its issued_at and expires_at are used as iat and exp).
  std::string Sign(const Principal& who) const;

  const std::string& kid() const { return kid_; }

 private:
  std::string kid_;
  Ed25519SecretKey secret_key_;
};

// Unpadded base64url, as JWT uses.
std::string Base64UrlEncode(absl::string_view bytes);
bool Base64UrlDecode(absl::string_view text, std::string* bytes);

}  // namespace civicpoints::auth

#endif  // CIVICPOINTS_COMMON_AUTH_JWT_H_
