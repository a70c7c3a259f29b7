// Opaque random ids of the suite's resources: "<prefix>_" and 16 characters of lower-case base32
// (80 random bits from libsodium), e.g. "p_4kq7…" for a person, "wh_…" for a webhook.
#ifndef CIVICPOINTS_COMMON_BASE_IDS_H_
#define CIVICPOINTS_COMMON_BASE_IDS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace civicpoints {

std::string NewId(absl::string_view prefix);

}  // namespace civicpoints

#endif  // CIVICPOINTS_COMMON_BASE_IDS_H_
