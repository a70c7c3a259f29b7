#include "services/rewards/window_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "civicpoints/rewards/v1/errors.pb.h"
#include "common/status/refusal.h"

namespace civicpoints::rewards {

absl::Status CheckEditable(v1::ExchangeWindowState state, const std::string& field) {
  static const std::set<std::string> kWhileOpen = {"title", "description", "end_time"};
  if (state == v1::EXCHANGE_WINDOW_STATE_SCHEDULED ||
      (state == v1::EXCHANGE_WINDOW_STATE_OPEN && kWhileOpen.count(field) > 0)) {
    return absl::OkStatus();
  }
  return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_WINDOW_NOT_EDITABLE,
                absl::StrCat(field, ": cannot change while the window is ",
                             v1::ExchangeWindowState_Name(state)),
                {{"field", field}});
}

absl::StatusOr<OpenStep> DecideOpen(const std::string& window_id, v1::ExchangeWindowState state,
                                    absl::Time end, absl::Time now) {
  if (state == v1::EXCHANGE_WINDOW_STATE_OPEN) return OpenStep::kAlreadyOpen;
  if (state == v1::EXCHANGE_WINDOW_STATE_CLOSED) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_WINDOW_CLOSED,
                  absl::StrCat("exchange window ", window_id, " is closed"));
  }
  if (end <= now) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_WINDOW_CLOSED,
                  absl::StrCat("exchange window ", window_id, " ended before it was opened"));
  }
  return OpenStep::kOpen;
}

EligibilityCut CutAtTopN(std::vector<std::pair<std::string, int64_t>> entries, int top_n) {
  entries.erase(
      std::remove_if(entries.begin(), entries.end(), [](const auto& e) { return e.second <= 0; }),
      entries.end());
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  EligibilityCut cut;
  const size_t n = static_cast<size_t>(std::max(top_n, 0));
  cut.cutoff_points = n > 0 && entries.size() >= n ? entries[n - 1].second : 0;
  for (size_t i = 0; i < entries.size() && entries[i].second >= cut.cutoff_points; ++i) {
    const bool tied = i > 0 && entries[i - 1].second == entries[i].second;
    const int rank = tied ? cut.riders.back().rank : static_cast<int>(i) + 1;
    cut.riders.push_back({entries[i].first, entries[i].second, rank});
  }
  return cut;
}

}  // namespace civicpoints::rewards
