// Exchange windows as pure rules: which fields an edit may change in each state, whether a window
// may open, and the eligibility cut frozen when it opens. No storage and no clock:
// window_methods.cc reads the window under its lock (LoadWindow) and the ranking from the ledger,
// asks these, and writes the answer through PgWindowStore. window_rules_test.cc holds them without
// a database.
#ifndef CIVICPOINTS_SERVICES_REWARDS_WINDOW_RULES_H_
#define CIVICPOINTS_SERVICES_REWARDS_WINDOW_RULES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/rewards/v1/exchange_window.pb.h"

namespace civicpoints::rewards {

// OK when `field` may change while the window is in `state`: any writable field while SCHEDULED;
// title, description and end_time while OPEN; nothing once CLOSED. Errors: FAILED_PRECONDITION
// (WINDOW_NOT_EDITABLE, naming the field).
absl::Status CheckEditable(v1::ExchangeWindowState state, const std::string& field);

// What opening a window in `state`, ending at `end`, does at `now`.
enum class OpenStep {
  kOpen,         // SCHEDULED and not yet over: freeze the cut and open it
  kAlreadyOpen,  // a retry: nothing to do
};
// Errors: FAILED_PRECONDITION (WINDOW_CLOSED) when the window is closed or ended before it was
// opened.
absl::StatusOr<OpenStep> DecideOpen(const std::string& window_id, v1::ExchangeWindowState state,
                                    absl::Time end, absl::Time now);

// A rider inside a window's ranking cut, with their place: 1 + the riders with more points, so
// riders with equal points share a place.
struct RankedRider {
  std::string rider_id;
  int64_t points = 0;
  int rank = 0;
};
struct EligibilityCut {
  std::vector<RankedRider> riders;  // by points, most first (equal points by rider id)
  int64_t cutoff_points = 0;        // the N-th place's points (0 when fewer than N have points)
};
// The cut of a ranking rule "top N" over the ledger's entries (rider, points; any order): riders
// with no points are out, and everyone tied with the N-th place is in.
EligibilityCut CutAtTopN(std::vector<std::pair<std::string, int64_t>> entries, int top_n);

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_WINDOW_RULES_H_
