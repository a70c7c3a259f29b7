#include "services/identity/ranking_name.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/text.h"

namespace civicpoints::identity {
namespace {

constexpr size_t kNicknameMin = 2;
constexpr size_t kNicknameMax = 12;

bool IsHan(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0xF900 && c <= 0xFAFF);
}

bool IsLetterOrDigit(char32_t c) {
  return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9') ||
         IsHan(c);
}

// Punctuation a nickname may hold; not "#", so none can pass for an anonymous name.
bool IsAllowedMark(char32_t c) { return c == U'_' || c == U'-' || c == U'.' || c == U'\u00B7'; }

absl::Status BadNickname(absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("nickname: ", problem));
}

}  // namespace

std::string MaskedName(absl::string_view display_name) {
  const std::vector<absl::string_view> chars = text::SplitChars(display_name);
  if (chars.empty()) return "";
  if (chars.size() <= 2) return absl::StrCat(chars.front(), "*");
  return absl::StrCat(chars.front(), std::string(chars.size() - 2, '*'), chars.back());
}

std::string AnonymousName(int64_t rider_number) {
  return absl::StrFormat("小哥 #%04d", rider_number);
}

std::string RankingNameOf(const RankingNameParts& parts) {
  if (parts.status == v1::PERSON_STATUS_CLOSED) return AnonymousName(parts.rider_number);
  switch (parts.choice) {
    case v1::RANKING_NAME_CHOICE_NICKNAME:
      if (!parts.nickname.empty()) return parts.nickname;
      return AnonymousName(parts.rider_number);
    case v1::RANKING_NAME_CHOICE_ANONYMOUS:
      return AnonymousName(parts.rider_number);
    default:
      return MaskedName(parts.display_name);
  }
}

absl::Status CheckNickname(absl::string_view nickname) {
  if (nickname.empty()) return BadNickname("is required");
  const std::optional<std::u32string> chars = text::DecodeUtf8(nickname);
  if (!chars.has_value()) return BadNickname("is not valid UTF-8");
  bool has_letter = false;
  for (size_t i = 0; i < chars->size(); ++i) {
    const char32_t c = (*chars)[i];
    if (c < 0x20 || (c >= 0x7F && c < 0xA0)) {
      return BadNickname("must not contain control characters");
    }
    if (c == U' ') {
      if (i == 0 || i + 1 == chars->size() || (*chars)[i - 1] == U' ') {
        return BadNickname("may hold spaces only singly, between other characters");
      }
      continue;
    }
    if (IsLetterOrDigit(c)) {
      has_letter = true;
    } else if (!IsAllowedMark(c)) {
      return BadNickname(
          "may hold only Chinese characters, Latin letters, digits, spaces and \"_-.·\"");
    }
  }
  if (!has_letter) return BadNickname("must hold a letter, a digit or a Chinese character");
  if (chars->size() < kNicknameMin || chars->size() > kNicknameMax) {
    return BadNickname(absl::StrCat("must be ", kNicknameMin, "-", kNicknameMax,
                                    " characters, not ", chars->size()));
  }
  return absl::OkStatus();
}

}  // namespace civicpoints::identity
