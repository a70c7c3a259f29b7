// Turning command-line text into request values and responses into text: enum names without their
// prefix ("rider-station" for PLACE_KIND_RIDER_STATION), times in Asia/Shanghai, and a generic
// "field: value" rendering of any message for `show`-style commands.
//
//   absl::StatusOr<PlaceKind> kind = ParseEnum<PlaceKind>("love-corner", "--kind");
//   std::string label = EnumLabel(place.kind());                     // "love-corner"
//   PrintRecord(place, std::cout);
#ifndef CIVICPOINTS_TOOLS_CPCTL_FORMAT_H_
#define CIVICPOINTS_TOOLS_CPCTL_FORMAT_H_

#include <google/protobuf/generated_enum_reflection.h>

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace google::protobuf {
class Message;
class Timestamp;
}  // namespace google::protobuf

namespace civicpoints::cpctl {

// The value named by `text` ("love-corner", "LOVE_CORNER", "PLACE_KIND_LOVE_CORNER" or its number);
// INVALID_ARGUMENT naming `what` and the accepted names otherwise. UNSPECIFIED is never accepted.
absl::StatusOr<int> ParseEnumValue(const google::protobuf::EnumDescriptor* e,
                                   absl::string_view text, absl::string_view what);
// "love-corner" for PLACE_KIND_LOVE_CORNER; the number for an unknown value.
std::string EnumValueLabel(const google::protobuf::EnumDescriptor* e, int value);
// "rider-station, love-corner, activity-venue": the accepted names, for help texts.
std::string EnumChoices(const google::protobuf::EnumDescriptor* e);

template <typename E>
absl::StatusOr<E> ParseEnum(absl::string_view text, absl::string_view what) {
  absl::StatusOr<int> v = ParseEnumValue(google::protobuf::GetEnumDescriptor<E>(), text, what);
  if (!v.ok()) return v.status();
  return static_cast<E>(*v);
}
template <typename E>
std::string EnumLabel(E value) {
  return EnumValueLabel(google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}
template <typename E>
std::string EnumChoicesOf() {
  return EnumChoices(google::protobuf::GetEnumDescriptor<E>());
}

// The zone times are read and shown in (the programme's city).
const absl::TimeZone& LocalZone();
// A time given as RFC 3339 ("2026-11-29T10:00:00+08:00"), as local "2026-11-29 10:00" or
// "2026-11-29T10:00", as "now", or relative to now ("+2h", "-30m", "+1d");
// INVALID_ARGUMENT naming `what` otherwise.
absl::StatusOr<absl::Time> ParseTime(absl::string_view text, absl::string_view what);
// A day "YYYY-MM-DD" (also "today"); INVALID_ARGUMENT naming `what` otherwise.
absl::StatusOr<std::string> ParseDay(absl::string_view text, absl::string_view what);
void SetTime(absl::Time t, google::protobuf::Timestamp* out);
// "2026-11-29 10:00:05" local, or "" for an unset timestamp.
std::string FormatTime(const google::protobuf::Timestamp& t);

// Writes every set field of `message` as "name: value" lines (nested messages indented, enums by
// label, timestamps local), for `show` commands.
void PrintRecord(const google::protobuf::Message& message, std::ostream& out);
// The message in the proto3 JSON mapping, one object, for --json.
std::string ToJson(const google::protobuf::Message& message);

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_FORMAT_H_
