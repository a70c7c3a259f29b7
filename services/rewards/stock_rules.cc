#include "services/rewards/stock_rules.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "civicpoints/rewards/v1/errors.pb.h"
#include "common/status/refusal.h"

namespace civicpoints::rewards {

absl::Status CheckRestock(int64_t on_hand, int64_t quantity) {
  if (on_hand + quantity <= kMaxOnHand) return absl::OkStatus();
  return Refuse(absl::StatusCode::kResourceExhausted, v1::ERROR_REASON_STOCK_LIMIT,
                absl::StrCat("quantity: on hand would be ", on_hand + quantity, ", over 1,000,000"),
                {{"on_hand", std::to_string(on_hand)}, {"limit", std::to_string(kMaxOnHand)}});
}

absl::StatusOr<int64_t> AvailableAfterCount(int64_t available, int64_t reserved, int64_t counted,
                                            std::optional<int64_t> expected) {
  if (expected && *expected != available + reserved) {
    return Refuse(absl::StatusCode::kAborted, v1::ERROR_REASON_CONCURRENT_CHANGE,
                  absl::StrCat("expected_on_hand_quantity: on hand is now ", available + reserved,
                               ", not ", *expected));
  }
  if (counted < reserved) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_STOCK_BELOW_RESERVED,
                  absl::StrCat("counted_quantity: ", counted, " is below the ", reserved,
                               " items reserved for READY orders"),
                  {{"reserved_quantity", std::to_string(reserved)}});
  }
  return counted - reserved;
}

}  // namespace civicpoints::rewards
