#include "common/base/time_units.h"

#include "google/protobuf/timestamp.pb.h"

namespace civicpoints::times {

void SetTime(google::protobuf::Timestamp* ts, int64_t us) {
  int64_t seconds = us / 1000000, micros = us % 1000000;
  if (micros < 0) micros += 1000000, seconds -= 1;
  ts->set_seconds(seconds);
  ts->set_nanos(static_cast<int32_t>(micros * 1000));
}

void SetTime(google::protobuf::Timestamp* ts, absl::Time t) {
  const absl::Time second = absl::FromUnixSeconds(absl::ToUnixSeconds(t));
  ts->set_seconds(absl::ToUnixSeconds(t));
  ts->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - second)));
}

absl::Time TimeOf(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

int64_t UsOf(const google::protobuf::Timestamp& ts) { return Us(TimeOf(ts)); }

const absl::TimeZone& Shanghai() {
  static const absl::TimeZone zone = absl::FixedTimeZone(8 * 3600);
  return zone;
}

std::string ShanghaiDay(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, Shanghai()); }

}  // namespace civicpoints::times
