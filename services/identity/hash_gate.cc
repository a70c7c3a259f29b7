#include "services/identity/hash_gate.h"

#include <algorithm>

#include "civicpoints/identity/v1/errors.pb.h"
#include "common/status/grpc_status.h"
#include "common/status/refusal.h"

namespace civicpoints::identity {

HashGate::Slot::~Slot() {
  if (gate_ != nullptr) gate_->Release();
}

int HashGate::SlotsFor(size_t budget_bytes, size_t per_hash_bytes) {
  if (per_hash_bytes == 0) return 1;
  return static_cast<int>(std::max<size_t>(1, budget_bytes / per_hash_bytes));
}

namespace {
bool Positive(int* n) { return *n > 0; }
}  // namespace

absl::StatusOr<HashGate::Slot> HashGate::Acquire() {
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithTimeout(absl::Condition(&Positive, &free_), queue_wait_)) {
    return WithRetryDelay(
        Refuse(absl::StatusCode::kResourceExhausted, v1::IDENTITY_ERROR_REASON_BUSY,
               "too many passwords are being checked at once; try again in 1 second"),
        kRetryDelay);
  }
  --free_;
  return Slot(this);
}

void HashGate::Release() {
  absl::MutexLock lock(&mu_);
  ++free_;
}

}  // namespace civicpoints::identity
