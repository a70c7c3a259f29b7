// The languages the suite's labels and error messages are offered in, and how a caller's choice
// (a request's `locale`, an Accept-Language header) picks one.
#ifndef CIVICPOINTS_COMMON_LABELS_LOCALE_H_
#define CIVICPOINTS_COMMON_LABELS_LOCALE_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace civicpoints::labels {

enum class Locale { kZhCn, kEn };

// Every offered locale, the default first.
inline constexpr Locale kLocales[] = {Locale::kZhCn, Locale::kEn};
// The programme is a Chinese city's: a caller who says nothing reads Chinese.
inline constexpr Locale kDefaultLocale = Locale::kZhCn;

// "zh-CN" or "en": the BCP 47 tag of `locale`, as answers carry it.
absl::string_view LocaleTag(Locale locale);

// The offered locale of a language tag, by its primary language, case-insensitive: "zh", "zh-CN",
// "zh-Hans", "ZH-hans-cn" → zh-CN (Simplified Chinese is the one Chinese offered); "en", "en-GB" →
// en. Nullopt for any other language, an empty tag or a malformed one.
std::optional<Locale> ParseLocale(absl::string_view tag);

// The offered locale an Accept-Language header prefers (RFC 9110 §12.5.4): the tag of highest
// weight that ParseLocale knows, the earlier one on a tie; q=0 refuses a tag; "*" means any, so
// the default. The default when the header is empty, malformed or names nothing offered.
Locale NegotiateLocale(absl::string_view accept_language);

}  // namespace civicpoints::labels

#endif  // CIVICPOINTS_COMMON_LABELS_LOCALE_H_
