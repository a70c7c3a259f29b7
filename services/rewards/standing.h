// A rider's standing in an exchange window: every reason they cannot order now, their place in the
// window's ranking, balance and remaining allowances. Shared by CreateRedemption (which refuses
// with the first reason) and the eligibility methods (which explain all of them).
#ifndef CIVICPOINTS_SERVICES_REWARDS_STANDING_H_
#define CIVICPOINTS_SERVICES_REWARDS_STANDING_H_

#include <map>
#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "absl/time/time.h"
#include "civicpoints/rewards/v1/exchange_window.pb.h"
#include "services/rewards/records.h"

namespace civicpoints::rewards {

// The live ranking of a rider for a window not yet open (from the ledger).
struct ProvisionalRank {
  int32_t rank = 0;
  int64_t points = 0;
  int64_t cutoff = 0;  // points of the N-th place; 0 when fewer than N are ranked or unknown
  bool known = false;
};

struct Standing {
  v1::Eligibility eligibility;
  std::map<std::string, int32_t> redeemed_by_gift;  // PENDING, READY or FULFILLED items
  int32_t redeemed_total = 0;
};

// What a standing is worked out from besides the window: the rider's row of the frozen ranking
// cut (for an open or closed window with a ranking rule) and the items they have in the window.
struct StandingFacts {
  std::optional<int32_t> cut_rank;  // empty: not inside the cut (or no cut was read)
  int64_t cut_points = 0;
  std::map<std::string, int32_t> redeemed_by_gift;  // PENDING, READY or FULFILLED items
};
// Reads the facts for `rider` in `window` (CreateRedemption reads them within its one statement,
// PgRedemptionStore::ReadOrderContext).
StandingFacts ReadStandingFacts(pqxx::transaction_base& tx, const WindowRecord& window,
                                const std::string& rider);

// Works out `rider`'s standing in `window` (loaded with its gifts) as of `now`, with their
// available balance `balance`; `provisional` is used for SCHEDULED windows with a ranking rule.
Standing EvaluateStanding(const WindowRecord& window, const std::string& rider, int64_t balance,
                          absl::Time now, const ProvisionalRank& provisional,
                          const StandingFacts& facts);

// The sentence (Simplified Chinese) explaining the reasons of `e`.
std::string Explain(const v1::Eligibility& e, const v1::ExchangeWindow& window);

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_STANDING_H_
