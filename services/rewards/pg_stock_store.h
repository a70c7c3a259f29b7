// PgStockStore: the SQL of stations' stock and its movements. Every method runs inside the
// caller's transaction, so the rules (stock_rules.h) decide between a read and a write of one
// transaction; each change of a stock row writes its movement in the same transaction
// (WriteStockMovement, which the redemption store uses too). Stateless and thread-safe; a database
// error is thrown as pqxx's exception, which the transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_REWARDS_PG_STOCK_STORE_H_
#define CIVICPOINTS_SERVICES_REWARDS_PG_STOCK_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "civicpoints/rewards/v1/stock.pb.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::rewards {

// Writes a movement of (station, gift), the stock row already holding the new figures (the
// movement records them after the change), and fills `out` when given.
void WriteStockMovement(pqxx::transaction_base& tx, const std::string& station_id,
                        const std::string& gift_id, v1::StockMovementKind kind,
                        int64_t available_delta, int64_t reserved_delta, const std::string& reason,
                        const std::string& actor, const std::string& redemption_id,
                        v1::StockMovement* out);

class PgStockStore {
 public:
  // Whether rewards has seen the station (it is recorded with its first stock or window).
  bool StationKnown(pqxx::transaction_base& tx, const std::string& station_id) const;
  // Whether the gift is active; nullopt when it does not exist.
  std::optional<bool> GiftActive(pqxx::transaction_base& tx, const std::string& gift_id) const;

  // The stock of (station, gift), locked (FOR UPDATE); nullopt when the station never held it.
  std::optional<v1::StationStock> Lock(pqxx::transaction_base& tx, const std::string& station_id,
                                       const std::string& gift_id) const;
  // Makes the row (empty) if the station never held the gift.
  void Ensure(pqxx::transaction_base& tx, const std::string& station_id,
              const std::string& gift_id) const;
  // Adds `quantity` to what is available / sets what is available.
  void AddAvailable(pqxx::transaction_base& tx, const std::string& station_id,
                    const std::string& gift_id, int64_t quantity) const;
  void SetAvailable(pqxx::transaction_base& tx, const std::string& station_id,
                    const std::string& gift_id, int64_t available) const;

  // The station's stock by gift name then id, after (after_name, after_id), at most `limit`;
  // only what is available when `available_only`, only active gifts when `active_only`.
  struct StockPage {
    std::string after_name, after_id;
    bool available_only = false, active_only = false;
    int limit = 0;
  };
  std::vector<v1::StationStock> List(pqxx::transaction_base& tx, const std::string& station_id,
                                     const StockPage& page) const;

  // The station's movements, newest first, below `before_id`, at most `limit`; of one gift and
  // of some kinds when given, created in [from_us, to_us) when given.
  struct MovementFilter {
    std::string station_id, gift_id;
    std::vector<int> kinds;
    std::optional<int64_t> from_us, to_us;
    std::string before_id;  // "" for the newest
    int limit = 0;
  };
  std::vector<v1::StockMovement> Movements(pqxx::transaction_base& tx,
                                           const MovementFilter& filter) const;
};

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_PG_STOCK_STORE_H_
