#include "services/identity/device_token.h"

#include <sodium.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "common/auth/jwt.h"

namespace civicpoints::identity {
namespace {

constexpr char kPrefix[] = "cpd_";
constexpr size_t kNonceBytes = 16;
constexpr size_t kExpiryBytes = 8;
constexpr size_t kMacBytes = 16;

std::string EncodeExpiry(absl::Time expiry) {
  uint64_t v = static_cast<uint64_t>(absl::ToUnixSeconds(expiry));
  std::string out(kExpiryBytes, '\0');
  for (size_t i = kExpiryBytes; i-- > 0; v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

absl::Time DecodeExpiry(absl::string_view bytes) {
  uint64_t v = 0;
  for (unsigned char c : bytes) v = (v << 8) | c;
  return absl::FromUnixSeconds(static_cast<int64_t>(v));
}

}  // namespace

std::string IssueDeviceToken(const Secrets& secrets, const std::string& phone_hash,
                             absl::Time expiry) {
  const std::string signed_part = RandomBytes(kNonceBytes) + EncodeExpiry(expiry);
  return kPrefix + Base64Url(signed_part + secrets.DeviceTokenMac(phone_hash, signed_part));
}

absl::StatusOr<std::optional<std::string>> CheckDeviceToken(const Secrets& secrets,
                                                            const std::string& token,
                                                            const std::string& phone_hash,
                                                            absl::Time now) {
  std::string raw;
  if (token.size() > 128 || !absl::StartsWith(token, kPrefix) ||
      !auth::Base64UrlDecode(absl::string_view(token).substr(sizeof kPrefix - 1), &raw) ||
      raw.size() != kNonceBytes + kExpiryBytes + kMacBytes) {
    return absl::InvalidArgumentError(
        "device_token: is not a device token (send back the one Login returned, or none)");
  }
  const std::string signed_part = raw.substr(0, kNonceBytes + kExpiryBytes);
  const std::string mac = secrets.DeviceTokenMac(phone_hash, signed_part);
  if (sodium_memcmp(mac.data(), raw.data() + signed_part.size(), kMacBytes) != 0) {
    return std::nullopt;
  }
  if (DecodeExpiry(absl::string_view(signed_part).substr(kNonceBytes)) <= now) return std::nullopt;
  return absl::BytesToHexString(signed_part.substr(0, kNonceBytes));
}

}  // namespace civicpoints::identity
