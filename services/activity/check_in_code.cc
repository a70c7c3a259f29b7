#include "services/activity/check_in_code.h"

#include <sodium.h>

#include <cstdio>

namespace civicpoints::activity {

std::string CheckInCode(const std::string& secret, int64_t index) {
  unsigned char message[8];
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<unsigned char>(index & 0xff);
    index >>= 8;
  }
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, message, sizeof message);
  crypto_auth_hmacsha256_final(&state, mac);
  // Dynamic truncation as in RFC 4226.
  const int offset = mac[sizeof mac - 1] & 0x0f;
  const uint32_t value = ((mac[offset] & 0x7fu) << 24) | (mac[offset + 1] << 16) |
                         (mac[offset + 2] << 8) | mac[offset + 3];
  char code[8];
  std::snprintf(code, sizeof code, "%06u", value % 1000000u);
  return code;
}

int64_t CodePeriod(absl::Time t, int period_seconds) {
  return absl::ToUnixSeconds(t) / period_seconds;
}

std::string NewCodeSecret() {
  std::string secret(32, '\0');
  randombytes_buf(secret.data(), secret.size());
  return secret;
}

}  // namespace civicpoints::activity
