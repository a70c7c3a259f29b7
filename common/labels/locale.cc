#include "common/labels/locale.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace civicpoints::labels {
namespace {

// A tag is letters, digits and hyphens, each subtag 1–8 characters (RFC 5646's shape, loosely).
bool WellFormedTag(absl::string_view tag) {
  if (tag.empty()) return false;
  for (absl::string_view sub : absl::StrSplit(tag, '-')) {
    if (sub.empty() || sub.size() > 8) return false;
    for (char c : sub) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
    }
  }
  return true;
}

// The weight of one Accept-Language entry's parameters ("q=0.5"): 1 when absent, nullopt when
// malformed (a weight outside 0..1 or not a number).
std::optional<double> Weight(absl::string_view params) {
  double q = 1.0;
  for (absl::string_view param : absl::StrSplit(params, ';', absl::SkipWhitespace())) {
    param = absl::StripAsciiWhitespace(param);
    if (!absl::ConsumePrefix(&param, "q=") && !absl::ConsumePrefix(&param, "Q=")) continue;
    if (!absl::SimpleAtod(param, &q) || !(q >= 0.0 && q <= 1.0)) return std::nullopt;
  }
  return q;
}

}  // namespace

absl::string_view LocaleTag(Locale locale) {
  switch (locale) {
    case Locale::kEn:
      return "en";
    case Locale::kZhCn:
      break;
  }
  return "zh-CN";
}

std::optional<Locale> ParseLocale(absl::string_view tag) {
  tag = absl::StripAsciiWhitespace(tag);
  if (!WellFormedTag(tag)) return std::nullopt;
  const std::string language = absl::AsciiStrToLower(tag.substr(0, tag.find('-')));
  if (language == "zh") return Locale::kZhCn;
  if (language == "en") return Locale::kEn;
  return std::nullopt;
}

Locale NegotiateLocale(absl::string_view accept_language) {
  std::optional<Locale> best;
  double best_q = 0.0;
  for (absl::string_view entry : absl::StrSplit(accept_language, ',', absl::SkipWhitespace())) {
    const size_t semi = entry.find(';');
    const absl::string_view tag = absl::StripAsciiWhitespace(entry.substr(0, semi));
    const std::optional<double> q =
        Weight(semi == absl::string_view::npos ? absl::string_view() : entry.substr(semi + 1));
    if (!q || *q <= best_q) continue;
    std::optional<Locale> locale =
        tag == "*" ? std::optional<Locale>(kDefaultLocale) : ParseLocale(tag);
    if (!locale) continue;
    best = locale;
    best_q = *q;
  }
  return best.value_or(kDefaultLocale);
}

}  // namespace civicpoints::labels
