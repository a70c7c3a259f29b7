#include "services/ledger/ledger_support.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "common/status/status_macros.h"
#include "services/ledger/ledger.h"

namespace civicpoints::ledger::support {
namespace {

namespace gp = ::google::protobuf;

constexpr size_t kMaxReasonChars = 500;

}  // namespace

absl::Status Invalid(absl::string_view what) { return absl::InvalidArgumentError(what); }

absl::Status CheckId(const std::string& id, absl::string_view field) {
  if (id.empty()) return Invalid(absl::StrCat(field, ": is required"));
  if (id.size() > kMaxIdLength)
    return Invalid(absl::StrCat(field, ": is longer than 64 characters"));
  return absl::OkStatus();
}

absl::Status CheckAmount(int64_t amount, absl::string_view field) {
  if (amount < 1 || amount > kMaxAmount) {
    return Invalid(absl::StrCat(field, ": must be 1-1000000 points, got ", amount));
  }
  return absl::OkStatus();
}

absl::Status CheckReason(const std::string& reason, bool required) {
  return text::CheckText(
      reason, "reason",
      {.max = kMaxReasonChars, .required = required, .lines = text::Lines::kMany});
  return absl::OkStatus();
}

absl::Status CheckFullPath(const common::v1::OrgPath& path, absl::string_view field) {
  if (path.district_id().empty() || path.street_id().empty() || path.community_id().empty()) {
    return Invalid(absl::StrCat(field, ": must name the district, street and community"));
  }
  if (path.district_id().size() > kMaxIdLength || path.street_id().size() > kMaxIdLength ||
      path.community_id().size() > kMaxIdLength) {
    return Invalid(absl::StrCat(field, ": ids must be at most 64 characters"));
  }
  return absl::OkStatus();
}

gp::Timestamp ToProto(absl::Time t) {
  gp::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(t);
  ts.set_seconds(micros / 1000000);
  ts.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return ts;
}

absl::StatusOr<NodeColumns> ColumnsFor(const common::v1::OrgScope& scope) {
  NodeColumns n;
  switch (scope.level()) {
    case common::v1::ORG_LEVEL_CITY:
      n = {"", "district_id", common::v1::ORG_LEVEL_DISTRICT};
      break;
    case common::v1::ORG_LEVEL_DISTRICT:
      n = {"district_id", "street_id", common::v1::ORG_LEVEL_STREET};
      break;
    case common::v1::ORG_LEVEL_STREET:
      n = {"street_id", "community_id", common::v1::ORG_LEVEL_COMMUNITY};
      break;
    case common::v1::ORG_LEVEL_COMMUNITY:
      n = {"community_id", "", common::v1::ORG_LEVEL_UNSPECIFIED};
      break;
    default:
      return Invalid("scope.level: is required (city, district, street or community)");
  }
  if (!n.column.empty()) RETURN_IF_ERROR(CheckId(scope.org_id(), "scope.org_id"));
  return n;
}

int64_t SequenceOf(const v1::Entry& entry) {
  int64_t sequence = 0;
  return absl::SimpleAtoi(entry.entry_id(), &sequence) ? sequence : 0;
}

}  // namespace civicpoints::ledger::support
