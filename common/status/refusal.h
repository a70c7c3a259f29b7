// Refusals a client may act on: a status with a google.rpc.ErrorInfo whose reason is a value of
// the service's error-reason enum, spelled as docs/api-conventions.md says (the value's name
// without the enum's prefix: ERROR_REASON_OUT_OF_STOCK → "OUT_OF_STOCK"), whose domain is
// "<service>.civicpoints" (from the enum's proto package, civicpoints.<service>.v1), and whose
// metadata holds the figures behind the refusal.
//
//   return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_OUT_OF_STOCK,
//                 "station s1 has 0 of gift g1", {{"available_quantity", "0"}});
#ifndef CIVICPOINTS_COMMON_STATUS_REFUSAL_H_
#define CIVICPOINTS_COMMON_STATUS_REFUSAL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/status/grpc_status.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace google::protobuf {
class EnumValueDescriptor;
}  // namespace google::protobuf

namespace civicpoints {

// The figures behind a refusal, as ErrorInfo metadata ("available_balance" → "42").
using RefusalFigures = ErrorMetadata;

// How a client sees the value of an error-reason enum: as ErrorInfo.reason, the value's name
// without the enum's prefix ("OUT_OF_STOCK"), and as ErrorInfo.domain, from the enum's package
// ("rewards.civicpoints").
std::string ReasonWireName(const google::protobuf::EnumValueDescriptor& value);
std::string ReasonDomain(const google::protobuf::EnumDescriptor& type);

// `status` with an ErrorInfo naming the value `number` of the enum `type` (replacing any it had).
absl::Status AddReason(absl::Status status, const google::protobuf::EnumDescriptor& type,
                       int number, const RefusalFigures& figures);
// As Refuse below, for the value `number` of the enum `type`.
absl::Status RefuseWith(absl::StatusCode code, const google::protobuf::EnumDescriptor& type,
                        int number, absl::string_view message, const RefusalFigures& figures);

template <typename ReasonEnum>
absl::Status Refuse(absl::StatusCode code, ReasonEnum reason, absl::string_view message,
                    const RefusalFigures& figures = {}) {
  return RefuseWith(code, *google::protobuf::GetEnumDescriptor<ReasonEnum>(),
                    static_cast<int>(reason), message, figures);
}

// `status` unchanged when OK, else the same refusal carrying `reason` (for checks shared by all
// services, such as auth::CheckStaffCovers, whose denials each service names in its own enum).
// (Its other details, such as a RetryInfo, stay.)
template <typename ReasonEnum>
absl::Status WithReason(absl::Status status, ReasonEnum reason) {
  if (status.ok()) return status;
  return AddReason(std::move(status), *google::protobuf::GetEnumDescriptor<ReasonEnum>(),
                   static_cast<int>(reason), {});
}

// The number of the value of `type` that `status` carries, or 0 (UNSPECIFIED) when it carries none
// of that enum's reasons.
int ReasonNumberOf(const absl::Status& status, const google::protobuf::EnumDescriptor& type);

template <typename ReasonEnum>
ReasonEnum ReasonOf(const absl::Status& status) {
  return static_cast<ReasonEnum>(
      ReasonNumberOf(status, *google::protobuf::GetEnumDescriptor<ReasonEnum>()));
}

}  // namespace civicpoints

#endif  // CIVICPOINTS_COMMON_STATUS_REFUSAL_H_
