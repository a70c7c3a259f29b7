// Rotating check-in codes: 6 digits derived from an activity's secret and the current time period
// (as TOTP does), so the staff device and the service agree without storing codes, and a
// photographed code stops working when the period rotates.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_CHECK_IN_CODE_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_CHECK_IN_CODE_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace civicpoints::activity {

// Seconds a code stays accepted after it rotated away, for a rider still typing it.
inline constexpr int kCodeGraceSeconds = 10;

// The code of period `index` (unix seconds / period) under `secret` (32 bytes).
std::string CheckInCode(const std::string& secret, int64_t index);

// The period `t` falls in.
int64_t CodePeriod(absl::Time t, int period_seconds);

// 32 random bytes for a new activity.
std::string NewCodeSecret();

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_CHECK_IN_CODE_H_
