#include "services/identity/crypto.h"

#include <sodium.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/auth/jwt.h"
#include "services/identity/input_rules.h"

namespace civicpoints::identity {
namespace {

void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
}

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string S(const unsigned char* p, size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n);
}

}  // namespace

absl::StatusOr<Secrets> Secrets::FromHex(absl::string_view hex) {
  EnsureSodium();
  unsigned char master[crypto_kdf_KEYBYTES];
  size_t len = 0;
  if (hex.size() != 2 * sizeof master ||
      sodium_hex2bin(master, sizeof master, hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != sizeof master) {
    return absl::InvalidArgumentError("the master key must be 64 hex digits (32 bytes)");
  }
  Secrets s;
  // Each purpose gets its own subkey id under one 8-character context.
  static constexpr char kContext[crypto_kdf_CONTEXTBYTES + 1] = "cpident1";
  crypto_kdf_derive_from_key(s.phone_key_.data(), s.phone_key_.size(), 1, kContext, master);
  crypto_kdf_derive_from_key(s.api_key_key_.data(), s.api_key_key_.size(), 2, kContext, master);
  crypto_kdf_derive_from_key(s.refresh_key_.data(), s.refresh_key_.size(), 3, kContext, master);
  crypto_kdf_derive_from_key(s.seal_key_.data(), s.seal_key_.size(), 4, kContext, master);
  crypto_kdf_derive_from_key(s.request_key_.data(), s.request_key_.size(), 5, kContext, master);
  crypto_kdf_derive_from_key(s.device_key_.data(), s.device_key_.size(), 6, kContext, master);
  sodium_memzero(master, sizeof master);
  return s;
}

absl::StatusOr<Secrets> Secrets::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  std::string hex(absl::StripAsciiWhitespace(text.str()));
  absl::StatusOr<Secrets> secrets = FromHex(hex);
  if (!secrets.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "': ", secrets.status().message()));
  }
  return secrets;
}

std::string Secrets::NewMasterKeyHex() {
  EnsureSodium();
  unsigned char key[crypto_kdf_KEYBYTES];
  crypto_kdf_keygen(key);
  char hex[2 * sizeof key + 1];
  sodium_bin2hex(hex, sizeof hex, key, sizeof key);
  return hex;
}

std::string Secrets::PhoneHash(absl::string_view digits) const {
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, phone_key_.data(), phone_key_.size());
  crypto_auth_hmacsha256_update(&st, U(digits), digits.size());
  crypto_auth_hmacsha256_final(&st, out);
  return S(out, sizeof out);
}

std::string Secrets::ApiKeyHash(absl::string_view secret) const {
  unsigned char out[32];
  crypto_generichash(out, sizeof out, U(secret), secret.size(), api_key_key_.data(),
                     api_key_key_.size());
  return S(out, sizeof out);
}

std::string Secrets::RequestHash(absl::string_view bytes) const {
  unsigned char out[32];
  crypto_generichash(out, sizeof out, U(bytes), bytes.size(), request_key_.data(),
                     request_key_.size());
  return S(out, sizeof out);
}

std::string Secrets::DeviceTokenMac(absl::string_view phone_hash, absl::string_view nonce) const {
  const std::string message = absl::StrCat(phone_hash, nonce);
  unsigned char out[16];
  crypto_generichash(out, sizeof out, U(message), message.size(), device_key_.data(),
                     device_key_.size());
  return S(out, sizeof out);
}

std::string Secrets::RefreshSuccessor(absl::string_view token) const {
  unsigned char out[32];
  crypto_generichash(out, sizeof out, U(token), token.size(), refresh_key_.data(),
                     refresh_key_.size());
  return absl::StrCat("cpr_", Base64Url(S(out, sizeof out)));
}

std::string Secrets::Seal(absl::string_view plaintext) const {
  EnsureSodium();
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, U(plaintext), plaintext.size(), nonce,
                        seal_key_.data());
  return out;
}

absl::StatusOr<std::string> Secrets::Unseal(absl::string_view sealed) const {
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return absl::DataLossError("sealed key is truncated");
  }
  std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(
          reinterpret_cast<unsigned char*>(out.data()), U(sealed) + crypto_secretbox_NONCEBYTES,
          sealed.size() - crypto_secretbox_NONCEBYTES, U(sealed), seal_key_.data()) != 0) {
    return absl::DataLossError(
        "a signing key does not open with this master key (was the master key changed?)");
  }
  return out;
}

std::string PasswordHasher::Hash(absl::string_view password) const {
  EnsureSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), opslimit, memlimit_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return "";  // out of memory: an empty hash never verifies
  }
  return out;
}

bool PasswordHasher::Verify(const std::string& hash, absl::string_view password) {
  EnsureSodium();
  if (hash.empty()) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string RandomBytes(size_t bytes) {
  EnsureSodium();
  std::string out(bytes, '\0');
  randombytes_buf(out.data(), bytes);
  return out;
}

std::string NewCheckInCode() {
  EnsureSodium();
  constexpr uint32_t kAlphabet = sizeof kCheckInCodeAlphabet - 1;
  std::string code;
  for (size_t i = 0; i < kCheckInCodeLength; ++i) {
    code.push_back(kCheckInCodeAlphabet[randombytes_uniform(kAlphabet)]);
  }
  return code;
}

std::string NewSmsCode() {
  EnsureSodium();
  return absl::StrFormat("%06u", randombytes_uniform(1000000));
}

std::string Sha256(absl::string_view data) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, U(data), data.size());
  return S(out, sizeof out);
}

std::string Base64Url(absl::string_view bytes) { return auth::Base64UrlEncode(bytes); }

}  // namespace civicpoints::identity
