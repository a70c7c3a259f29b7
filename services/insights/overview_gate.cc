#include "services/insights/overview_gate.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status/grpc_status.h"

namespace civicpoints::insights {

absl::StatusOr<OverviewGate::Pass> OverviewGate::Enter() {
  if (in_flight_.fetch_add(1) >= max_) {
    in_flight_.fetch_sub(1);
    return WithRetryDelay(
        absl::ResourceExhaustedError(absl::StrCat("this server is already gathering ", max_,
                                                  " overviews; retry in a second")),
        absl::Seconds(1));
  }
  return Pass(this);
}

}  // namespace civicpoints::insights
