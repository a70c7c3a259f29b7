#include "common/events/event_types.h"

#include "absl/strings/str_cat.h"

namespace civicpoints::events {

const std::vector<EventType>& AllEventTypes() {
  static const auto* types = new std::vector<EventType>{
      {"identity", "rider_registered", "civicpoints.identity.v1.RiderRegistered"},
      {"identity", "rider_checked_in", "civicpoints.identity.v1.RiderCheckedIn"},
      {"activity", "post_claim_decided", "civicpoints.activity.v1.PostClaimDecided"},
      {"activity", "shift_confirmed", "civicpoints.activity.v1.ShiftConfirmed"},
      {"activity", "attendance_confirmed", "civicpoints.activity.v1.AttendanceConfirmed"},
      {"activity", "service_record_submitted", "civicpoints.activity.v1.ServiceRecordChanged"},
      {"activity", "service_record_verified", "civicpoints.activity.v1.ServiceRecordChanged"},
      {"activity", "service_record_rejected", "civicpoints.activity.v1.ServiceRecordChanged"},
      {"activity", "service_record_appealed", "civicpoints.activity.v1.ServiceRecordChanged"},
      {"ledger", "points_awarded", "civicpoints.ledger.v1.PointsPosted"},
      {"ledger", "points_deducted", "civicpoints.ledger.v1.PointsPosted"},
      {"ledger", "points_reversed", "civicpoints.ledger.v1.PointsPosted"},
      {"rewards", "exchange_window_opened", "civicpoints.rewards.v1.ExchangeWindowChanged"},
      {"rewards", "exchange_window_closed", "civicpoints.rewards.v1.ExchangeWindowChanged"},
      {"rewards", "redemption_ready", "civicpoints.rewards.v1.RedemptionChanged"},
      {"rewards", "redemption_fulfilled", "civicpoints.rewards.v1.RedemptionChanged"},
      {"rewards", "redemption_cancelled", "civicpoints.rewards.v1.RedemptionChanged"},
      {"rewards", "redemption_expired", "civicpoints.rewards.v1.RedemptionChanged"},
      {"rewards", "stock_low", "civicpoints.rewards.v1.StockLow"},
  };
  return *types;
}

std::string EventTypeName(absl::string_view service, absl::string_view name) {
  return absl::StrCat("civicpoints.", service, ".v1.", name);
}

const EventType* FindEventType(absl::string_view full_name) {
  for (const EventType& type : AllEventTypes()) {
    if (EventTypeName(type.service, type.name) == full_name) return &type;
  }
  return nullptr;
}

std::string EventSource(absl::string_view service) {
  return absl::StrCat("/civicpoints/", service);
}

}  // namespace civicpoints::events
