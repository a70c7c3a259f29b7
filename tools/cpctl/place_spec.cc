#include "tools/cpctl/place_spec.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/cpctl/format.h"

namespace civicpoints::cpctl {
namespace {

namespace av1 = activity::v1;

const char* const kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int DayNumber(absl::string_view name) {
  for (int i = 0; i < 7; ++i) {
    if (absl::AsciiStrToLower(name) == kDays[i]) return i + 1;
  }
  return 0;
}

bool IsClock(absl::string_view t) {
  return t.size() == 5 && absl::ascii_isdigit(t[0]) && absl::ascii_isdigit(t[1]) && t[2] == ':' &&
         absl::ascii_isdigit(t[3]) && absl::ascii_isdigit(t[4]);
}

}  // namespace

const char kHoursHelp[] =
    "opening hours: always, 08:00-20:00 (every day), or day spans like "
    "\"mon-fri 08:00-20:00; sat 09:00-12:00\"";

absl::Status ParseServices(absl::string_view text, absl::string_view what, av1::Place* place) {
  for (absl::string_view name :
       absl::StrSplit(text, absl::ByAnyChar(";,|"), absl::SkipWhitespace())) {
    absl::StatusOr<av1::PlaceServiceType> s = ParseEnum<av1::PlaceServiceType>(name, what);
    if (!s.ok()) return s.status();
    place->add_services(*s);
  }
  return absl::OkStatus();
}

absl::Status ParseHours(absl::string_view text, absl::string_view what, av1::Place* place) {
  const std::string spec(absl::StripAsciiWhitespace(text));
  if (spec.empty()) return absl::OkStatus();
  av1::OpeningHours* hours = place->mutable_opening_hours();
  if (absl::AsciiStrToLower(spec) == "always") {
    hours->set_always_open(true);
    return absl::OkStatus();
  }
  auto bad = [&](absl::string_view part) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": '", part, "' is not understood; use ", kHoursHelp));
  };
  for (absl::string_view part : absl::StrSplit(spec, ';', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    std::vector<absl::string_view> words = absl::StrSplit(part, ' ', absl::SkipEmpty());
    int first = 1, last = 7;
    absl::string_view span;
    if (words.size() == 1) {
      span = words[0];
    } else if (words.size() == 2) {
      std::vector<absl::string_view> days = absl::StrSplit(words[0], '-');
      first = DayNumber(days[0]);
      last = days.size() == 2 ? DayNumber(days[1]) : first;
      if (days.size() > 2 || first == 0 || last == 0 || last < first) return bad(part);
      span = words[1];
    } else {
      return bad(part);
    }
    std::vector<absl::string_view> times = absl::StrSplit(span, '-');
    if (times.size() != 2 || !IsClock(times[0]) || !IsClock(times[1])) return bad(part);
    for (int d = first; d <= last; ++d) {
      av1::OpeningPeriod* p = hours->add_periods();
      p->set_day(static_cast<av1::Weekday>(d));
      p->set_open_time(std::string(times[0]));
      p->set_close_time(std::string(times[1]));
    }
  }
  return absl::OkStatus();
}

}  // namespace civicpoints::cpctl
