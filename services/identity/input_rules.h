// The rules identity's inputs must meet, each returning INVALID_ARGUMENT that names the field.
// Pure functions: no storage, no clock.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_INPUT_RULES_H_
#define CIVICPOINTS_SERVICES_IDENTITY_INPUT_RULES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "civicpoints/identity/v1/person.pb.h"

namespace civicpoints::identity {

// A mainland mobile number in any accepted spelling ("+86 138-0013-8000", "8613800138000",
// "13800138000") as its 11 digits. Errors: INVALID_ARGUMENT naming `field`.
absl::StatusOr<std::string> NormalizePhone(absl::string_view phone, absl::string_view field);

// A delivery-platform account as a rider links it or a city system names it: a platform (OTHER
// with its name, 1–32 characters; no name for the others) and a rider id of 1–64 printable ASCII
// characters. Errors: INVALID_ARGUMENT naming `field`.
absl::Status CheckPlatformAccount(const v1::PlatformAccount& account, absl::string_view field);

// "138****8000" for an 11-digit number.
std::string MaskPhone(absl::string_view digits);

// 8–64 characters (≤ 256 bytes) with at least two of letters, digits and other characters, not
// containing the phone number, not a common password. `phone_digits` may be empty.
absl::Status CheckPassword(absl::string_view password, absl::string_view phone_digits,
                           absl::string_view field);

// An org node code: 2–32 characters of [0-9A-Za-z_-].
absl::Status CheckOrgCode(absl::string_view code, absl::string_view field);

// A check-in code: 8 characters of the code alphabet, case-insensitive, optionally in the QR form
// "civicpoints:checkin:<code>"; returned upper-case.
absl::StatusOr<std::string> NormalizeCheckInCode(absl::string_view code, absl::string_view field);

// The alphabet check-in codes are drawn from: no 0/O, 1/I/L to misread at a station.
inline constexpr char kCheckInCodeAlphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
inline constexpr size_t kCheckInCodeLength = 8;

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_INPUT_RULES_H_
