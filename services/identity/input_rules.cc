#include "services/identity/input_rules.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/base/text.h"

namespace civicpoints::identity {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// Passwords seen most often in leaks (and their obvious Chinese-app variants); lower-cased.
constexpr std::array<absl::string_view, 24> kCommonPasswords = {
    "12345678", "123456789",  "1234567890", "password",    "password1",  "qwerty123",
    "11111111", "88888888",   "66666666",   "00000000",    "abc12345",   "abcd1234",
    "a1234567", "iloveyou",   "qwertyuiop", "1qaz2wsx",    "woaini1314", "aa123456",
    "asdf1234", "zxcvbnm123", "admin123",   "password123", "qq123456",   "123qwe123"};

}  // namespace

absl::StatusOr<std::string> NormalizePhone(absl::string_view phone, absl::string_view field) {
  if (phone.empty()) return Invalid(field, "is required");
  if (phone.size() > 32) return Invalid(field, "is too long to be a phone number");
  std::string digits;
  for (size_t i = 0; i < phone.size(); ++i) {
    const char c = phone[i];
    if (c == ' ' || c == '-') continue;
    if (c == '+' && digits.empty() && i == 0) continue;
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return Invalid(field, "may hold only digits, spaces, dashes and a leading '+'");
    }
    digits.push_back(c);
  }
  if (digits.size() == 13 && absl::StartsWith(digits, "86")) digits.erase(0, 2);
  if (digits.size() != 11 || digits[0] != '1' || digits[1] < '3' || digits[1] > '9') {
    return Invalid(field, "is not a mainland mobile number (11 digits starting 13-19)");
  }
  return digits;
}

std::string MaskPhone(absl::string_view digits) {
  if (digits.size() != 11) return "****";
  return absl::StrCat(digits.substr(0, 3), "****", digits.substr(7));
}

absl::Status CheckPassword(absl::string_view password, absl::string_view phone_digits,
                           absl::string_view field) {
  if (password.empty()) return Invalid(field, "is required");
  if (password.size() > 256) return Invalid(field, "is longer than 256 bytes");
  const size_t chars = text::Utf8Length(password).value_or(password.size());
  if (chars < 8) return Invalid(field, "is shorter than 8 characters");
  if (chars > 64) return Invalid(field, "is longer than 64 characters");
  bool letter = false, digit = false, other = false;
  for (unsigned char c : password) {
    if (absl::ascii_isalpha(c)) {
      letter = true;
    } else if (absl::ascii_isdigit(c)) {
      digit = true;
    } else {
      other = true;
    }
  }
  if (letter + digit + other < 2) {
    return Invalid(field, "needs at least two of letters, digits and other characters");
  }
  // The number less its 3-digit prefix; anything shorter than a number is not checked.
  if (phone_digits.size() > 3 && absl::StrContains(password, phone_digits.substr(3))) {
    return Invalid(field, "must not contain the phone number");
  }
  const std::string lower = absl::AsciiStrToLower(password);
  if (std::find(kCommonPasswords.begin(), kCommonPasswords.end(), lower) !=
      kCommonPasswords.end()) {
    return Invalid(field, "is one of the most common passwords");
  }
  return absl::OkStatus();
}

absl::Status CheckOrgCode(absl::string_view code, absl::string_view field) {
  if (code.empty()) return Invalid(field, "is required");
  if (code.size() < 2 || code.size() > 32) return Invalid(field, "must be 2-32 characters");
  for (unsigned char c : code) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-') {
      return Invalid(field, "may hold only letters, digits, '_' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeCheckInCode(absl::string_view code, absl::string_view field) {
  if (code.empty()) return Invalid(field, "is required");
  absl::string_view bare = code;
  absl::ConsumePrefix(&bare, "civicpoints:checkin:");
  std::string upper = absl::AsciiStrToUpper(bare);
  if (upper.size() != kCheckInCodeLength ||
      upper.find_first_not_of(kCheckInCodeAlphabet) != std::string::npos) {
    return Invalid(field, "is not a check-in code (8 letters and digits, as shown at the station)");
  }
  return upper;
}

absl::Status CheckPlatformAccount(const v1::PlatformAccount& a, absl::string_view field) {
  if (a.platform() == v1::DELIVERY_PLATFORM_UNSPECIFIED ||
      !v1::DeliveryPlatform_IsValid(a.platform())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".platform: is required"));
  }
  if (a.platform() == v1::DELIVERY_PLATFORM_OTHER) {
    if (absl::Status s = text::CheckText(a.platform_name(), absl::StrCat(field, ".platform_name"),
                                         {.max = 32, .required = true});
        !s.ok()) {
      return s;
    }
  } else if (!a.platform_name().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".platform_name: is only for DELIVERY_PLATFORM_OTHER"));
  }
  const std::string& id = a.platform_rider_id();
  if (id.empty() || id.size() > 64 ||
      std::any_of(id.begin(), id.end(), [](char c) { return c < 0x21 || c > 0x7E; })) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".platform_rider_id: must be 1-64 printable ASCII characters"));
  }
  return absl::OkStatus();
}

}  // namespace civicpoints::identity
