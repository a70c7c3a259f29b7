#include "common/base/text.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"

namespace civicpoints::text {
namespace {

// Decodes the code point at `*pos` and moves past it; false on invalid UTF-8.
bool NextCodePoint(absl::string_view text, size_t* pos, char32_t* cp) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char b0 = byte(*pos);
  size_t len;
  char32_t value;
  if (b0 < 0x80) {
    len = 1, value = b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, value = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, value = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, value = b0 & 0x07;
  } else {
    return false;
  }
  if (*pos + len > text.size()) return false;
  for (size_t i = 1; i < len; ++i) {
    const unsigned char b = byte(*pos + i);
    if ((b & 0xC0) != 0x80) return false;
    value = (value << 6) | (b & 0x3F);
  }
  static constexpr std::array<char32_t, 5> kMin = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kMin[len] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return false;
  *pos += len;
  *cp = value;
  return true;
}

bool IsControl(char32_t cp, Lines lines) {
  if (lines == Lines::kMany && (cp == '\n' || cp == '\r' || cp == '\t')) return false;
  return cp < 0x20 || (cp >= 0x7F && cp < 0xA0);
}

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

}  // namespace

std::optional<size_t> Utf8Length(absl::string_view text) {
  size_t pos = 0, count = 0;
  char32_t cp;
  while (pos < text.size()) {
    if (!NextCodePoint(text, &pos, &cp)) return std::nullopt;
    ++count;
  }
  return count;
}

std::optional<std::u32string> DecodeUtf8(absl::string_view text) {
  std::u32string out;
  size_t pos = 0;
  char32_t cp;
  while (pos < text.size()) {
    if (!NextCodePoint(text, &pos, &cp)) return std::nullopt;
    out.push_back(cp);
  }
  return out;
}

std::vector<absl::string_view> SplitChars(absl::string_view text) {
  std::vector<absl::string_view> chars;
  size_t start = 0;
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      chars.push_back(text.substr(start, i - start));
      start = i;
    }
  }
  return chars;
}

size_t CountChars(absl::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

absl::Status CheckText(absl::string_view text, absl::string_view field, const TextRule& rule) {
  if (text.empty()) return rule.required ? Invalid(field, "is required") : absl::OkStatus();
  size_t pos = 0, count = 0;
  char32_t cp;
  while (pos < text.size()) {
    if (!NextCodePoint(text, &pos, &cp)) return Invalid(field, "is not valid UTF-8");
    if (IsControl(cp, rule.lines)) {
      return Invalid(field, rule.lines == Lines::kMany
                                ? "must not contain control characters other than line breaks "
                                  "and tabs"
                                : "must not contain control characters");
    }
    ++count;
  }
  if (count > rule.max) {
    return Invalid(field, absl::StrCat("is longer than ", rule.max, " characters (", count, ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckIdempotencyKey(absl::string_view key) {
  if (key.empty()) return Invalid("idempotency_key", "is required");
  if (key.size() > 128) return Invalid("idempotency_key", "is longer than 128 characters");
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7E) {
      return Invalid("idempotency_key", "must be printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

}  // namespace civicpoints::text
