#include "services/identity/division_code.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"

namespace civicpoints::identity {
namespace {

using common::v1::OrgLevel;

constexpr size_t kDigits = 12;

// Where a level's own digits end (they begin where the level above ends).
size_t OwnEnd(OrgLevel level) {
  switch (level) {
    case common::v1::ORG_LEVEL_CITY:
      return 4;
    case common::v1::ORG_LEVEL_DISTRICT:
      return 6;
    case common::v1::ORG_LEVEL_STREET:
      return 9;
    default:
      return 12;
  }
}

size_t OwnBegin(OrgLevel level) {
  return level == common::v1::ORG_LEVEL_CITY ? 0 : OwnEnd(static_cast<OrgLevel>(level - 1));
}

// "a street's" and an example of its form (平城区's own code, a street and a community under it).
const char* LevelName(OrgLevel level) {
  switch (level) {
    case common::v1::ORG_LEVEL_CITY:
      return "the city's";
    case common::v1::ORG_LEVEL_DISTRICT:
      return "a district's";
    case common::v1::ORG_LEVEL_STREET:
      return "a street's";
    default:
      return "a community's";
  }
}

const char* Example(OrgLevel level) {
  switch (level) {
    case common::v1::ORG_LEVEL_CITY:
      return "140200000000";
    case common::v1::ORG_LEVEL_DISTRICT:
      return "140213000000";
    case common::v1::ORG_LEVEL_STREET:
      return "140213001000";
    default:
      return "140213001001";
  }
}

bool AllZeros(absl::string_view digits) {
  return digits.find_first_not_of('0') == absl::string_view::npos;
}

}  // namespace

absl::Status CheckDivisionCodeForm(absl::string_view code, absl::string_view field,
                                   absl::string_view example) {
  if (code.size() == kDigits && std::all_of(code.begin(), code.end(), absl::ascii_isdigit)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": must be the 12 digits of a statistical division code (e.g. ", example, ")"));
}

absl::Status CheckDivisionCode(absl::string_view code, OrgLevel level, absl::string_view field) {
  if (code.empty()) return absl::OkStatus();
  if (level == common::v1::ORG_LEVEL_DEPARTMENT) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": a department carries no statistical division code (it is not an area)"));
  }
  RETURN_IF_ERROR(CheckDivisionCodeForm(code, field, Example(level)));
  const size_t begin = OwnBegin(level), end = OwnEnd(level);
  if (AllZeros(code.substr(begin, end - begin)) || !AllZeros(code.substr(end))) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", code, " is not ", LevelName(level), " code: its own digits are ", begin + 1,
        "–", end, (end < kDigits ? ", the rest zeros" : ""), " (e.g. ", Example(level), ")"));
  }
  return absl::OkStatus();
}

absl::string_view DivisionCodePrefix(absl::string_view code, OrgLevel level) {
  return code.substr(0, OwnEnd(level));
}

absl::Status CheckDivisionCodeUnder(absl::string_view child, absl::string_view parent,
                                    OrgLevel parent_level, absl::string_view field) {
  if (child.empty() || parent.empty()) return absl::OkStatus();
  const absl::string_view prefix = DivisionCodePrefix(parent, parent_level);
  if (absl::StartsWith(child, prefix)) return absl::OkStatus();
  return Refuse(absl::StatusCode::kFailedPrecondition,
                v1::IDENTITY_ERROR_REASON_DIVISION_CODE_OUTSIDE_PARENT,
                absl::StrCat(field, ": ", child, " is not under ", parent,
                             ", the code above it (a code under it starts with ", prefix, ")"));
}

}  // namespace civicpoints::identity
