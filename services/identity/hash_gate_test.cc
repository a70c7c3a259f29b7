#include "services/identity/hash_gate.h"

#include <gtest/gtest.h>

#include "common/status/grpc_status.h"

namespace civicpoints::identity {
namespace {

TEST(HashGateTest, BeyondTheBudgetACallerIsToldToRetryAndASlotComesBack) {
  EXPECT_EQ(HashGate::SlotsFor(size_t{256} << 20, size_t{64} << 20), 4);
  EXPECT_EQ(HashGate::SlotsFor(size_t{32} << 20, size_t{64} << 20), 1);
  HashGate gate(1, absl::ZeroDuration());
  {
    absl::StatusOr<HashGate::Slot> held = gate.Acquire();
    ASSERT_TRUE(held.ok());
    absl::StatusOr<HashGate::Slot> refused = gate.Acquire();
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(RetryDelayOf(refused.status()), HashGate::kRetryDelay);
  }
  EXPECT_TRUE(gate.Acquire().ok());
}

}  // namespace
}  // namespace civicpoints::identity
