#include "common/status/refusal.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/grpc_status.h"
#include "google/protobuf/descriptor.h"

namespace civicpoints {
namespace {

// "ActivityErrorReason" → "ACTIVITY_ERROR_REASON_": the prefix every value of the enum carries
// (buf's ENUM_VALUE_PREFIX rule).
std::string ValuePrefix(const google::protobuf::EnumDescriptor& type) {
  std::string prefix;
  for (char c : type.name()) {
    if (absl::ascii_isupper(static_cast<unsigned char>(c)) && !prefix.empty())
      prefix.push_back('_');
    prefix.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return prefix + "_";
}

}  // namespace

std::string ReasonWireName(const google::protobuf::EnumValueDescriptor& value) {
  absl::string_view name = value.name();
  absl::ConsumePrefix(&name, ValuePrefix(*value.type()));
  return std::string(name);
}

// "civicpoints.rewards.v1" → "rewards.civicpoints"; another package names itself.
std::string ReasonDomain(const google::protobuf::EnumDescriptor& type) {
  std::vector<std::string> parts = absl::StrSplit(type.file()->package(), '.');
  if (parts.size() < 2 || parts[0] != "civicpoints") return type.file()->package();
  return absl::StrCat(parts[1], ".civicpoints");
}

absl::Status RefuseWith(absl::StatusCode code, const google::protobuf::EnumDescriptor& type,
                        int number, absl::string_view message, const RefusalFigures& figures) {
  return AddReason(absl::Status(code, message), type, number, figures);
}

absl::Status AddReason(absl::Status status, const google::protobuf::EnumDescriptor& type,
                       int number, const RefusalFigures& figures) {
  const google::protobuf::EnumValueDescriptor* reason = type.FindValueByNumber(number);
  return WithErrorReason(std::move(status),
                         reason != nullptr ? ReasonWireName(*reason) : absl::StrCat(number),
                         ReasonDomain(type), figures);
}

int ReasonNumberOf(const absl::Status& status, const google::protobuf::EnumDescriptor& type) {
  const std::string name = ErrorReasonOf(status);
  if (name.empty()) return 0;
  for (int i = 0; i < type.value_count(); ++i) {
    if (ReasonWireName(*type.value(i)) == name) return type.value(i)->number();
  }
  return 0;
}

}  // namespace civicpoints
