// The proto enums whose values rewards' SQL names (common/pg/sql_enums.h): redemption_state(),
// exchange_window_state(), stock_movement_kind(), error_reason(), gift_category().
#ifndef CIVICPOINTS_SERVICES_REWARDS_SQL_ENUMS_H_
#define CIVICPOINTS_SERVICES_REWARDS_SQL_ENUMS_H_

#include "civicpoints/rewards/v1/errors.pb.h"
#include "civicpoints/rewards/v1/exchange_window.pb.h"
#include "civicpoints/rewards/v1/gift.pb.h"
#include "civicpoints/rewards/v1/redemption.pb.h"
#include "civicpoints/rewards/v1/stock.pb.h"
#include "common/pg/sql_enums.h"

namespace civicpoints::rewards {

inline pg::SqlEnums RewardsSqlEnums() {
  return {v1::RedemptionState_descriptor(), v1::ExchangeWindowState_descriptor(),
          v1::StockMovementKind_descriptor(), v1::ErrorReason_descriptor(),
          v1::GiftCategory_descriptor()};
}

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_SQL_ENUMS_H_
