#include "services/events/cursor.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "civicpoints/events/v1/errors.pb.h"
#include "common/status/refusal.h"

namespace civicpoints::events {
namespace {
constexpr absl::string_view kPrefix = "e1_";
}

std::string EncodeCursor(int64_t seq) { return absl::StrCat(kPrefix, seq); }

absl::StatusOr<int64_t> DecodeCursor(absl::string_view cursor, absl::string_view field) {
  absl::string_view digits = cursor;
  int64_t seq = -1;
  const bool well_formed = absl::ConsumePrefix(&digits, kPrefix) && !digits.empty() &&
                           digits.size() <= 18 &&
                           std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) &&
                           absl::SimpleAtoi(digits, &seq);
  if (!well_formed) {
    return Refuse(absl::StatusCode::kInvalidArgument, v1::EVENTS_ERROR_REASON_BAD_CURSOR,
                  absl::StrCat(field, ": '", absl::CHexEscape(cursor.substr(0, 40)),
                               "' is not a feed cursor (they look like e1_1234)"));
  }
  return seq;
}

}  // namespace civicpoints::events
