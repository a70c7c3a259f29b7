// HashGate: bounds how many argon2id hashes run at once, so their memory (64 MiB each by default)
// stays within a budget however many logins arrive together. A caller that finds every slot busy
// waits at most `queue_wait`, then is refused with RESOURCE_EXHAUSTED and a retry delay, instead
// of the process running out of memory.
//
//   HashGate gate(HashGate::SlotsFor(256 << 20, 64 << 20), absl::Milliseconds(250));
//   absl::StatusOr<HashGate::Slot> slot = gate.Acquire();
//   if (!slot.ok()) return slot.status();   // RESOURCE_EXHAUSTED, RetryInfo 1 s
//   PasswordHasher::Verify(hash, password);  // the slot is released when `slot` goes
//
// Thread-safe.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_HASH_GATE_H_
#define CIVICPOINTS_SERVICES_IDENTITY_HASH_GATE_H_

#include <cstddef>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace civicpoints::identity {

class HashGate {
 public:
  // What a refused caller is told to wait: hashes take well under a second each.
  static constexpr absl::Duration kRetryDelay = absl::Seconds(1);

  // Holds one slot until destroyed (movable, not copyable).
  class Slot {
   public:
    Slot(Slot&& other) noexcept : gate_(other.gate_) { other.gate_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    Slot(const Slot&) = delete;
    ~Slot();

   private:
    friend class HashGate;
    explicit Slot(HashGate* gate) : gate_(gate) {}
    HashGate* gate_;
  };

  // How many hashes of `per_hash_bytes` fit in `budget_bytes`; at least one, so a budget below one
  // hash still lets logins through one at a time.
  static int SlotsFor(size_t budget_bytes, size_t per_hash_bytes);

  // REQUIRES: slots >= 1.
  HashGate(int slots, absl::Duration queue_wait) : free_(slots), queue_wait_(queue_wait) {}

  // A slot, waiting up to queue_wait for one. Errors: RESOURCE_EXHAUSTED with a RetryInfo delay
  // when none came free in time.
  absl::StatusOr<Slot> Acquire();

 private:
  void Release();

  absl::Mutex mu_;
  int free_ ABSL_GUARDED_BY(mu_);
  const absl::Duration queue_wait_;
};

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_HASH_GATE_H_
