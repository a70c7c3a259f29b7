// OverviewGate: at most `max` overviews gathered at once in one process. Each overview holds a
// thread per source call (about ten, and one per child) for as long as its slowest source takes,
// so a burst of dashboards must not turn into thousands of threads; beyond the bound the caller is
// told to retry in a second (RESOURCE_EXHAUSTED with RetryInfo).
#ifndef CIVICPOINTS_SERVICES_INSIGHTS_OVERVIEW_GATE_H_
#define CIVICPOINTS_SERVICES_INSIGHTS_OVERVIEW_GATE_H_

#include <atomic>

#include "absl/status/statusor.h"

namespace civicpoints::insights {

class OverviewGate {
 public:
  explicit OverviewGate(int max) : max_(max) {}

  // Held while one overview is gathered; leaving its scope lets the next one in.
  class Pass {
   public:
    Pass(Pass&& other) noexcept : gate_(other.gate_) { other.gate_ = nullptr; }
    Pass& operator=(Pass&&) = delete;
    ~Pass() {
      if (gate_ != nullptr) gate_->in_flight_.fetch_sub(1);
    }

   private:
    friend class OverviewGate;
    explicit Pass(OverviewGate* gate) : gate_(gate) {}
    OverviewGate* gate_;
  };

  // A pass, or RESOURCE_EXHAUSTED (retry after 1 s) when `max` overviews are being gathered.
  absl::StatusOr<Pass> Enter();

  int in_flight() const { return in_flight_.load(); }

 private:
  const int max_;
  std::atomic<int> in_flight_{0};
};

}  // namespace civicpoints::insights

#endif  // CIVICPOINTS_SERVICES_INSIGHTS_OVERVIEW_GATE_H_
