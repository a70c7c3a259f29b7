// Text as every service checks what callers send: valid UTF-8, a length in characters (code
// points, as PostgreSQL's char_length counts them), no control characters, and the message style
// of docs/api-conventions.md ("field: problem").
#ifndef CIVICPOINTS_COMMON_BASE_TEXT_H_
#define CIVICPOINTS_COMMON_BASE_TEXT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace civicpoints::text {

// Characters in `text`, or nullopt when it is not valid UTF-8 (a truncated or overlong sequence,
// a surrogate, a value past U+10FFFF).
std::optional<size_t> Utf8Length(absl::string_view text);

// Characters in `text` known to be valid UTF-8 (checked on the way in, or read back from
// PostgreSQL): its lead bytes, counted without decoding.
size_t CountChars(absl::string_view text);

// The code points of `text`, or nullopt when it is not valid UTF-8.
std::optional<std::u32string> DecodeUtf8(absl::string_view text);

// The characters of `text` known to be valid UTF-8, each as its bytes.
std::vector<absl::string_view> SplitChars(absl::string_view text);

enum class Lines {
  kOne,   // names, titles, reasons: no control characters at all
  kMany,  // descriptions, notes: line breaks and tabs allowed
};

struct TextRule {
  size_t max = 0;  // characters
  bool required = false;
  Lines lines = Lines::kOne;
};

// OK when `text` is valid UTF-8 of at most `rule.max` characters without control characters
// (C0, DEL, C1; line breaks and tabs pass under Lines::kMany), and not empty when required.
// Errors: INVALID_ARGUMENT naming `field`.
absl::Status CheckText(absl::string_view text, absl::string_view field, const TextRule& rule);

// OK when `key` is a usable idempotency key: 1–128 printable ASCII characters without spaces.
// Errors: INVALID_ARGUMENT naming idempotency_key.
absl::Status CheckIdempotencyKey(absl::string_view key);

}  // namespace civicpoints::text

#endif  // CIVICPOINTS_COMMON_BASE_TEXT_H_
