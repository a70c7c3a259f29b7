// PgWindowStore: the SQL that writes exchange windows (creating, editing, listing, opening with
// the frozen cut, closing); reading one is records.h's LoadWindow. Every method runs inside the
// caller's transaction, so the rules (window_rules.h) decide between a read and a write of one
// transaction. Stateless and thread-safe; a database error is thrown as pqxx's exception, which the
// transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_REWARDS_PG_WINDOW_STORE_H_
#define CIVICPOINTS_SERVICES_REWARDS_PG_WINDOW_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "civicpoints/common/v1/types.pb.h"
#include "civicpoints/rewards/v1/exchange_window.pb.h"
#include "services/rewards/window_rules.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::rewards {

class PgWindowStore {
 public:
  // What a window's gift list needs of a gift; nullopt when it does not exist.
  struct GiftFacts {
    std::string name;
    int64_t points_cost = 0;
    bool active = false;
  };
  std::optional<GiftFacts> Gift(pqxx::transaction_base& tx, const std::string& gift_id) const;

  // A new SCHEDULED window `w` (id, fields, rule text set) owned by the node at `owner_path`.
  void Insert(pqxx::transaction_base& tx, const v1::ExchangeWindow& w,
              const common::v1::OrgPath& owner_path, const std::string& creator_id) const;
  // Rewrites the window's editable fields (a new version); its stations and gifts too when
  // `with_parts` (only while scheduled).
  void Update(pqxx::transaction_base& tx, const v1::ExchangeWindow& w, bool with_parts) const;
  // Writes the window's stations and gifts in order, replacing what was there.
  void WriteParts(pqxx::transaction_base& tx, const v1::ExchangeWindow& w) const;

  // Listing by start time then id, after the page key; of some states, at a station, owned at or
  // under a node, overlapping [from_us, to_us), when given. Windows come with their parts.
  struct Filter {
    std::vector<int> states;
    std::string station_id, owner_org_id;
    std::optional<int64_t> from_us, to_us;
    std::optional<int64_t> after_start_us;
    std::string after_id;
    int limit = 0;
  };
  std::vector<v1::ExchangeWindow> List(pqxx::transaction_base& tx, const Filter& filter) const;

  // Opens the window at `now` with its frozen cut (`snapshot` kept only when `has_ranking`).
  void MarkOpen(pqxx::transaction_base& tx, const std::string& window_id, absl::Time now,
                const EligibilityCut& cut, const v1::EligibilitySnapshot& snapshot,
                bool has_ranking) const;
  // Closes the window at `now` (an end in the future is brought forward to it) for `reason`.
  void MarkClosed(pqxx::transaction_base& tx, const std::string& window_id, absl::Time now,
                  const std::string& reason) const;
};

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_PG_WINDOW_STORE_H_
