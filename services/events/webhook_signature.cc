#include "services/events/webhook_signature.h"

#include <sodium.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace civicpoints::events {
namespace {

constexpr absl::string_view kSecretPrefix = "whsec_";

}  // namespace

std::string NewWebhookKey() {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
  std::string key(24, '\0');
  randombytes_buf(key.data(), key.size());
  return key;
}

std::string WebhookSecret(absl::string_view key) {
  return absl::StrCat(kSecretPrefix, absl::Base64Escape(key));
}

std::optional<std::string> WebhookKeyOf(absl::string_view secret) {
  if (!absl::ConsumePrefix(&secret, kSecretPrefix)) return std::nullopt;
  std::string key;
  if (!absl::Base64Unescape(secret, &key) || key.empty()) return std::nullopt;
  return key;
}

std::string SignWebhook(absl::string_view key, absl::string_view id, int64_t unix_seconds,
                        absl::string_view body) {
  const std::string signed_content = absl::StrCat(id, ".", unix_seconds, ".", body);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(
      &state, reinterpret_cast<const unsigned char*>(signed_content.data()), signed_content.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return absl::StrCat(
      "v1,", absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(mac), sizeof mac)));
}

}  // namespace civicpoints::events
