// PgCatalogStore: the SQL of the gift catalog (gifts, their names per owner, where each can be
// had). Every method runs inside the caller's transaction. Stateless and thread-safe; a database
// error is thrown as pqxx's exception, which the transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_REWARDS_PG_CATALOG_STORE_H_
#define CIVICPOINTS_SERVICES_REWARDS_PG_CATALOG_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "civicpoints/common/v1/types.pb.h"
#include "civicpoints/rewards/v1/gift.pb.h"
#include "civicpoints/rewards/v1/stock.pb.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::rewards {

class PgCatalogStore {
 public:
  // A gift with the path of the node that owns it (whose staff may change it).
  struct GiftRow {
    v1::Gift gift;
    common::v1::OrgPath owner_path;
  };
  // The gift (FOR UPDATE when `lock`); nullopt when it does not exist.
  std::optional<GiftRow> Load(pqxx::transaction_base& tx, const std::string& gift_id,
                              bool lock) const;
  // The id of another gift of `owner` named `name` (case-insensitively), other than `except_id`.
  std::optional<std::string> NameTaken(pqxx::transaction_base& tx, const std::string& owner,
                                       const std::string& name, const std::string& except_id) const;
  // Inserts `gift` (id and fields set; `active` as given) owned at `owner_path`; returns it as
  // stored.
  v1::Gift Insert(pqxx::transaction_base& tx, const v1::Gift& gift,
                  const common::v1::OrgPath& owner_path, const std::string& creator_id) const;
  // Rewrites the gift's editable fields (a new version); returns it as stored.
  v1::Gift Update(pqxx::transaction_base& tx, const v1::Gift& gift) const;

  // Listing by category, name and id after the page key; of one category (0: any), active only
  // unless `include_inactive`, names containing `name_contains`, owned by one of `owners` (empty:
  // any).
  struct Filter {
    int category = 0;
    bool include_inactive = false;
    std::string name_contains;
    std::vector<std::string> owners;
    int after_category = 0;
    std::string after_name, after_id;
    int limit = 0;
  };
  std::vector<v1::Gift> List(pqxx::transaction_base& tx, const Filter& filter) const;

  // Stations holding the gift available, most first then by station id, after (after_quantity,
  // after_station); at a station of `window_id` when given; each with up to 5 scheduled or open
  // windows offering it there.
  std::vector<v1::GiftAvailability> Availability(pqxx::transaction_base& tx,
                                                 const std::string& gift_id,
                                                 const std::string& window_id,
                                                 std::optional<int64_t> after_quantity,
                                                 const std::string& after_station, int limit) const;
};

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_PG_CATALOG_STORE_H_
