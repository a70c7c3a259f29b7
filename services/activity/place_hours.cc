#include "services/activity/place_hours.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/activity/support.h"

namespace civicpoints::activity {
namespace {

constexpr int64_t kDay = 24 * 3600;
constexpr int64_t kWeek = 7 * kDay;

// Minutes since midnight of "HH:MM", or -1. "24:00" only when `allow_24`.
int ParseClock(absl::string_view s, bool allow_24) {
  if (s.size() != 5 || s[2] != ':') return -1;
  for (int i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return -1;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59) return -1;
  if (h == 24 && m == 0 && allow_24) return 24 * 60;
  if (h > 23) return -1;
  return h * 60 + m;
}

using Span = std::pair<int64_t, int64_t>;  // [start, end) in seconds since Monday 00:00

// The spans of one well-formed period on the week circle (two when it wraps past Sunday).
std::vector<Span> PeriodSpans(const v1::OpeningPeriod& p) {
  const int64_t open = ParseClock(p.open_time(), false), close = ParseClock(p.close_time(), true);
  const int64_t length = (close > open ? close - open : 24 * 60 - open + close) * 60;
  const int64_t start = (static_cast<int64_t>(p.day()) - 1) * kDay + open * 60;
  const int64_t end = start + length;
  if (end <= kWeek) return {{start, end}};
  return {{start, kWeek}, {0, end - kWeek}};
}

std::string PeriodText(const v1::OpeningPeriod& p) {
  return absl::StrCat(v1::Weekday_Name(p.day()), " ", p.open_time(), "–", p.close_time());
}

// The schedule as sorted, merged spans (touching spans joined).
std::vector<Span> Merged(const v1::OpeningHours& hours) {
  std::vector<Span> spans;
  for (const v1::OpeningPeriod& p : hours.periods()) {
    for (const Span& s : PeriodSpans(p)) spans.push_back(s);
  }
  std::sort(spans.begin(), spans.end());
  std::vector<Span> out;
  for (const Span& s : spans) {
    if (!out.empty() && s.first <= out.back().second) {
      out.back().second = std::max(out.back().second, s.second);
    } else {
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace

absl::Status CheckOpeningHours(const v1::OpeningHours& hours, absl::string_view field) {
  if (hours.always_open() && hours.periods_size() > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".periods: must be empty when always_open is true"));
  }
  if (hours.periods_size() > 21) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".periods: at most 21 (got ", hours.periods_size(), ")"));
  }
  for (int i = 0; i < hours.periods_size(); ++i) {
    const v1::OpeningPeriod& p = hours.periods(i);
    const std::string where = absl::StrCat(field, ".periods[", i, "]");
    if (p.day() == v1::WEEKDAY_UNSPECIFIED || !v1::Weekday_IsValid(p.day())) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".day: is unspecified or unknown"));
    }
    if (ParseClock(p.open_time(), false) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".open_time: '", p.open_time(),
                                                     "' is not a time HH:MM from 00:00 to 23:59"));
    }
    if (ParseClock(p.close_time(), true) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".close_time: '", p.close_time(),
                                                     "' is not a time HH:MM from 00:00 to 24:00"));
    }
  }
  for (int i = 0; i < hours.periods_size(); ++i) {
    for (int j = i + 1; j < hours.periods_size(); ++j) {
      for (const Span& a : PeriodSpans(hours.periods(i))) {
        for (const Span& b : PeriodSpans(hours.periods(j))) {
          if (a.first < b.second && b.first < a.second) {
            return absl::InvalidArgumentError(
                absl::StrCat(field, ".periods[", j, "]: ", PeriodText(hours.periods(j)),
                             " overlaps periods[", i, "] ", PeriodText(hours.periods(i))));
          }
        }
      }
    }
  }
  return absl::OkStatus();
}

OpenState ScheduleAt(const v1::OpeningHours& hours, absl::Time t) {
  if (hours.always_open()) return {true, std::nullopt};
  const std::vector<Span> spans = Merged(hours);
  if (spans.empty()) return {false, std::nullopt};
  if (spans.size() == 1 && spans[0].first == 0 && spans[0].second == kWeek) {
    return {true, std::nullopt};
  }
  const absl::CivilSecond local = absl::ToCivilSecond(t, Shanghai());
  const int64_t day =
      (static_cast<int>(absl::GetWeekday(local)) - static_cast<int>(absl::Weekday::monday) + 7) % 7;
  const int64_t w = day * kDay + local.hour() * 3600 + local.minute() * 60 + local.second();
  const absl::Time week_start = absl::FromCivil(local, Shanghai()) - absl::Seconds(w);
  const bool wraps = spans.front().first == 0 && spans.back().second == kWeek;
  for (const Span& s : spans) {
    if (w >= s.first && w < s.second) {
      int64_t end = s.second;
      if (end == kWeek && wraps) end = kWeek + spans.front().second;
      return {true, week_start + absl::Seconds(end)};
    }
  }
  for (const Span& s : spans) {
    if (s.first > w) return {false, week_start + absl::Seconds(s.first)};
  }
  return {false, week_start + absl::Seconds(kWeek + spans.front().first)};
}

OpenState PlaceOpenAt(const v1::Place& place, absl::Time t) {
  if (place.temporarily_closed()) {
    if (!place.has_closed_until()) return {false, std::nullopt};
    const absl::Time until = TimeOf(place.closed_until());
    if (t < until) {
      const OpenState then = ScheduleAt(place.opening_hours(), until);
      if (then.open) return {false, until};
      return {false, then.next_change};
    }
  }
  return ScheduleAt(place.opening_hours(), t);
}

}  // namespace civicpoints::activity
