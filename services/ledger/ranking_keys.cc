#include "services/ledger/ranking_keys.h"

#include <cstdio>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace civicpoints::ledger {
namespace {

// China has kept UTC+8 without daylight saving since 1991; a fixed zone needs no tzdata.
const absl::TimeZone& Shanghai() {
  static const absl::TimeZone* tz = new absl::TimeZone(absl::FixedTimeZone(8 * 60 * 60));
  return *tz;
}

constexpr size_t kMaxOrgIdLength = 64;

}  // namespace

std::string MonthKey(absl::Time t) {
  const absl::CivilMonth m(absl::ToCivilDay(t, Shanghai()));
  return absl::StrFormat("%04d-%02d", m.year(), m.month());
}

std::string IsoWeekKey(absl::Time t) {
  const absl::CivilDay day = absl::ToCivilDay(t, Shanghai());
  // ISO weeks start on Monday; a week belongs to the year of its Thursday.
  const int weekday = (static_cast<int>(absl::GetWeekday(day)) + 7) % 7;  // Monday = 0
  const absl::CivilDay thursday = day - weekday + 3;
  const int week = (absl::GetYearDay(thursday) - 1) / 7 + 1;
  return absl::StrFormat("%04d-W%02d", thursday.year(), week);
}

std::vector<std::string> RankingKeysFor(const common::v1::OrgPath& path, absl::Time occur_time) {
  std::vector<std::string> scopes = {"city"};
  if (!path.district_id().empty()) scopes.push_back("district:" + path.district_id());
  if (!path.street_id().empty()) scopes.push_back("street:" + path.street_id());
  if (!path.community_id().empty()) scopes.push_back("community:" + path.community_id());
  const std::string periods[] = {"all", "month:" + MonthKey(occur_time),
                                 "week:" + IsoWeekKey(occur_time)};
  std::vector<std::string> keys;
  for (const std::string& scope : scopes) {
    for (const std::string& period : periods) keys.push_back(absl::StrCat(scope, "|", period));
  }
  return keys;
}

std::vector<std::string> SeasonKeysFor(const common::v1::OrgPath& path, absl::Time t,
                                       const std::vector<SeasonRange>& seasons) {
  std::vector<std::string> keys;
  if (path.community_id().empty()) return keys;
  // The path's nodes by level: city, district, street, community.
  const std::pair<common::v1::OrgLevel, std::string> nodes[] = {
      {common::v1::ORG_LEVEL_CITY, "city"},
      {common::v1::ORG_LEVEL_DISTRICT, "district:" + path.district_id()},
      {common::v1::ORG_LEVEL_STREET, "street:" + path.street_id()},
      {common::v1::ORG_LEVEL_COMMUNITY, "community:" + path.community_id()}};
  const std::string* ids[] = {nullptr, &path.district_id(), &path.street_id(),
                              &path.community_id()};
  for (const SeasonRange& season : seasons) {
    if (t < season.start || t >= season.end) continue;
    const int level = static_cast<int>(season.level) - static_cast<int>(nodes[0].first);
    if (level < 0 || level > 3) continue;
    if (level > 0 && *ids[level] != season.org_id) continue;
    for (int l = level; l < 4; ++l) {
      keys.push_back(absl::StrCat(nodes[l].second, "|season:", season.season_id));
    }
  }
  return keys;
}

absl::StatusOr<RankingWindow> ParseRankingKey(const std::string& key) {
  const size_t bar = key.find('|');
  if (bar == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("'", key, "' is not a ranking key"));
  }
  const std::string scope = key.substr(0, bar);
  const std::string period = key.substr(bar + 1);
  RankingWindow w;
  if (scope != "city") {
    const size_t colon = scope.find(':');
    const std::string level = scope.substr(0, colon);
    if (colon == std::string::npos || colon + 1 == scope.size()) {
      return absl::InvalidArgumentError(absl::StrCat("'", scope, "' is not a ranking scope"));
    }
    w.org_id = scope.substr(colon + 1);
    if (level == "district") {
      w.level = common::v1::ORG_LEVEL_DISTRICT;
    } else if (level == "street") {
      w.level = common::v1::ORG_LEVEL_STREET;
    } else if (level == "community") {
      w.level = common::v1::ORG_LEVEL_COMMUNITY;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("'", scope, "' is not a ranking scope"));
    }
  }
  int year = 0;
  int number = 0;
  char tail = 0;
  if (period == "all") return w;
  if (period.rfind("season:", 0) == 0 && period.size() > 7) {
    w.season_id = period.substr(7);
    return w;
  }
  if (sscanf(period.c_str(), "month:%4d-%2d%c", &year, &number, &tail) == 2 &&
      MonthKey(absl::FromCivil(absl::CivilDay(year, number, 1), Shanghai())) == period.substr(6)) {
    const absl::CivilMonth month(year, number);
    w.start = absl::FromCivil(month, Shanghai());
    w.end = absl::FromCivil(month + 1, Shanghai());
    return w;
  }
  if (sscanf(period.c_str(), "week:%4d-W%2d%c", &year, &number, &tail) == 2 && number >= 1) {
    // ISO week 1 is the week holding 4 January; weeks start on Monday.
    const absl::CivilDay jan4(year, 1, 4);
    const int weekday = (static_cast<int>(absl::GetWeekday(jan4)) + 7) % 7;  // Monday = 0
    const absl::CivilDay monday = jan4 - weekday + 7 * (number - 1);
    if (IsoWeekKey(absl::FromCivil(monday, Shanghai())) == period.substr(5)) {
      w.start = absl::FromCivil(monday, Shanghai());
      w.end = absl::FromCivil(monday + 7, Shanghai());
      return w;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("'", period, "' is not a ranking period"));
}

absl::StatusOr<std::string> RankingKeyFor(const common::v1::OrgScope& scope,
                                          const common::v1::RankingPeriod& period, absl::Time now) {
  std::string scope_part;
  switch (scope.level()) {
    case common::v1::ORG_LEVEL_CITY:
      scope_part = "city";
      break;
    case common::v1::ORG_LEVEL_DISTRICT:
      scope_part = "district:";
      break;
    case common::v1::ORG_LEVEL_STREET:
      scope_part = "street:";
      break;
    case common::v1::ORG_LEVEL_COMMUNITY:
      scope_part = "community:";
      break;
    default:
      return absl::InvalidArgumentError(
          "scope.level is required (city, district, street or community)");
  }
  if (scope.level() != common::v1::ORG_LEVEL_CITY) {
    if (scope.org_id().empty() || scope.org_id().size() > kMaxOrgIdLength) {
      return absl::InvalidArgumentError("scope.org_id: must be 1-64 characters for this level");
    }
    scope_part += scope.org_id();
  }
  static const std::regex kMonth(R"(^\d{4}-(0[1-9]|1[0-2])$)");
  static const std::regex kWeek(R"(^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$)");
  std::string period_part;
  switch (period.kind()) {
    case common::v1::RANKING_PERIOD_KIND_ALL_TIME:
      if (!period.key().empty()) {
        return absl::InvalidArgumentError("period.key: must be empty for ALL_TIME");
      }
      period_part = "all";
      break;
    case common::v1::RANKING_PERIOD_KIND_MONTH:
      if (!period.key().empty() && !std::regex_match(period.key(), kMonth)) {
        return absl::InvalidArgumentError(
            absl::StrCat("period.key '", period.key(), "' is not a month like 2026-11"));
      }
      period_part = "month:" + (period.key().empty() ? MonthKey(now) : period.key());
      break;
    case common::v1::RANKING_PERIOD_KIND_ISO_WEEK:
      if (!period.key().empty() && !std::regex_match(period.key(), kWeek)) {
        return absl::InvalidArgumentError(
            absl::StrCat("period.key '", period.key(), "' is not an ISO week like 2026-W48"));
      }
      period_part = "week:" + (period.key().empty() ? IsoWeekKey(now) : period.key());
      break;
    case common::v1::RANKING_PERIOD_KIND_SEASON:
      if (period.key().empty() || period.key().size() > kMaxOrgIdLength) {
        return absl::InvalidArgumentError("period.key: must name the season (1-64 characters)");
      }
      period_part = "season:" + period.key();
      break;
    default:
      return absl::InvalidArgumentError("period.kind: is required");
  }
  return absl::StrCat(scope_part, "|", period_part);
}

}  // namespace civicpoints::ledger
