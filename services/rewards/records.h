// The rewards tables' rows as the service reads them, and their proto forms, plus the small
// helpers every method file shares: times, ids, refusals with an ErrorInfo reason, and keyset page
// tokens. Every SELECT of a table uses the column list below, so one reader parses every query.
#ifndef CIVICPOINTS_SERVICES_REWARDS_RECORDS_H_
#define CIVICPOINTS_SERVICES_REWARDS_RECORDS_H_

#include <functional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civicpoints/rewards/v1/exchange_window.pb.h"
#include "civicpoints/rewards/v1/gift.pb.h"
#include "civicpoints/rewards/v1/redemption.pb.h"
#include "civicpoints/rewards/v1/stock.pb.h"
#include "common/base/time_units.h"
#include "common/pg/paging.h"
#include "common/pg/sql_values.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"
#include "google/protobuf/message.h"

namespace civicpoints::rewards {

// Timestamps travel between C++ and SQL as microseconds (SQL functions us() and from_us()):
// common/base/time_units.h, and common/pg/sql_values.h for nullable columns.
using pg::SetTime;
using times::SetTime;
using times::TimeOf;
using times::Us;

// A fresh opaque id: `prefix` and 16 random hex digits.
std::string NewId(absl::string_view prefix);
// A fresh six-digit pickup code from a cryptographic source.
std::string NewPickupCode();

// Refusals carry a v1::ErrorReason (common/status/refusal.h).
using civicpoints::RefusalFigures;
using civicpoints::Refuse;
inline v1::ErrorReason ReasonOf(const absl::Status& status) {
  return civicpoints::ReasonOf<v1::ErrorReason>(status);
}

// INVALID_ARGUMENT naming `field` when `id` is empty or longer than 64 characters.
absl::Status CheckId(absl::string_view id, const char* field);

// ---- paging (common/pg/paging.h) ----
using pg::EncodePageToken;
using pg::FillPage;
using pg::Paging;
using pg::StartPaging;
using pg::TrimPage;

// The first column of every row, as text (lists of ids).
std::vector<std::string> FirstColumn(const pqxx::result& rows);

// ---- rows ----
inline constexpr char kGiftColumns[] =
    "g.gift_id, g.name, g.description, g.image_uri, g.category, g.points_cost, g.active, "
    "g.owner_org_id, us(g.created_at), us(g.updated_at), g.version, g.owner_district_id, "
    "g.owner_street_id";
void FillGift(const pqxx::row& row, v1::Gift* gift);
common::v1::OrgPath GiftOwnerPath(const pqxx::row& row);

// station_stock s joined with gifts g and stations st.
inline constexpr char kStockColumns[] =
    "s.station_id, s.gift_id, g.name, s.available, s.reserved, st.district_id, st.street_id, "
    "st.community_id, us(s.updated_at)";
void FillStock(const pqxx::row& row, v1::StationStock* stock);

inline constexpr char kMovementColumns[] =
    "movement_id, station_id, gift_id, kind, available_delta, reserved_delta, on_hand_delta, "
    "available_after, on_hand_after, reason, actor_id, coalesce(redemption_id, ''), "
    "us(created_at)";
void FillMovement(const pqxx::row& row, v1::StockMovement* movement);

// exchange_windows w.
inline constexpr char kWindowColumns[] =
    "w.window_id, w.title, w.description, w.owner_org_id, us(w.start_at), us(w.end_at), "
    "w.eligibility, w.max_items_per_rider, w.pickup_ttl_s, w.state, w.rule_text, w.snapshot, "
    "w.creator_id, us(w.created_at), us(w.updated_at), us(w.opened_at), us(w.closed_at), "
    "w.version, w.close_reason, w.owner_district_id, w.owner_street_id, w.owner_community_id";
struct WindowRecord {
  v1::ExchangeWindow window;  // without station_ids and gifts until LoadWindowParts
  common::v1::OrgPath owner_path;
  int64_t version = 0;
  int64_t pickup_ttl_s = 0;  // 0: the service default
};
WindowRecord ReadWindow(const pqxx::row& row);
// Loads the window (FOR UPDATE when `lock`) with its stations and gifts. Errors: NOT_FOUND.
absl::StatusOr<WindowRecord> LoadWindow(pqxx::transaction_base& tx, const std::string& window_id,
                                        bool lock);
void LoadWindowParts(pqxx::transaction_base& tx, v1::ExchangeWindow* window);

// redemptions r.
inline constexpr char kRedemptionColumns[] =
    "r.redemption_id, r.rider_id, r.window_id, r.station_id, r.gift_id, r.gift_name, r.quantity, "
    "r.unit_points, r.points, r.state, r.pickup_code, r.district_id, r.street_id, "
    "r.community_id, us(r.created_at), us(r.ready_at), us(r.expire_at), us(r.ended_at), "
    "r.fulfilled_by, r.failure_reason, r.cancel_reason, r.intent, r.intent_reason, "
    "r.stock_reserved, r.failure_message, r.pickup_ttl_s";
// Fills `out`; the pickup code only when `with_code`.
void FillRedemption(const pqxx::row& row, bool with_code, v1::Redemption* out);
struct OrderInternals {
  int intent = 0;
  int intent_reason = 0;
  bool stock_reserved = false;
  std::string failure_message;
  int64_t pickup_ttl_s = 0;
};
OrderInternals ReadOrderInternals(const pqxx::row& row);

// The rule text published with a window (Simplified Chinese); `scope_name` names the ranking's
// org node.
std::string ComposeRuleText(const v1::ExchangeWindow& window, const std::string& scope_name);

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_RECORDS_H_
