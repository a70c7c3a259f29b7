// Times as the services move them: microseconds since the Unix epoch between C++ and SQL (the
// schemas' us() and from_us() functions), google.protobuf.Timestamp on the wire, and the calendar
// day in Asia/Shanghai that daily caps and rankings count in.
#ifndef CIVICPOINTS_COMMON_BASE_TIME_UNITS_H_
#define CIVICPOINTS_COMMON_BASE_TIME_UNITS_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace google::protobuf {
class Timestamp;
}

namespace civicpoints::times {

inline int64_t Us(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromUs(int64_t us) { return absl::FromUnixMicros(us); }

// Sets `ts` to `us` microseconds since the epoch (before it too: nanos stay in 0..999999999).
void SetTime(google::protobuf::Timestamp* ts, int64_t us);
void SetTime(google::protobuf::Timestamp* ts, absl::Time t);
absl::Time TimeOf(const google::protobuf::Timestamp& ts);
// Microseconds since the epoch of `ts`, truncated towards the past.
int64_t UsOf(const google::protobuf::Timestamp& ts);

// UTC+8: China has kept it without daylight saving since 1991, so no tzdata is needed.
const absl::TimeZone& Shanghai();
// The calendar day of `t` in Asia/Shanghai as "YYYY-MM-DD".
std::string ShanghaiDay(absl::Time t);

}  // namespace civicpoints::times

#endif  // CIVICPOINTS_COMMON_BASE_TIME_UNITS_H_
