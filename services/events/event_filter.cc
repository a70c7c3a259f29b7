#include "services/events/event_filter.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "civicpoints/events/v1/errors.pb.h"
#include "common/events/event_types.h"
#include "common/status/refusal.h"

namespace civicpoints::events {
namespace {

bool PathHas(const common::v1::OrgPath& path, const std::string& node) {
  return path.district_id() == node || path.street_id() == node || path.community_id() == node;
}

}  // namespace

bool IsCityRoot(absl::string_view org_id) { return org_id == "root" || org_id == "city"; }

absl::StatusOr<EventFilter> EventFilter::Make(
    const google::protobuf::RepeatedPtrField<std::string>& types, std::string org_id,
    const auth::Principal& principal) {
  EventFilter f;
  for (int i = 0; i < types.size(); ++i) {
    if (FindEventType(types[i]) == nullptr) {
      return Refuse(absl::StatusCode::kInvalidArgument, v1::EVENTS_ERROR_REASON_UNKNOWN_EVENT_TYPE,
                    absl::StrCat("types[", i, "]: '", types[i].substr(0, 80),
                                 "' is not an event type of the suite (e.g. "
                                 "civicpoints.activity.v1.attendance_confirmed; docs/events.md "
                                 "lists them)"),
                    {{"type", types[i].substr(0, 80)}});
    }
    f.types_.insert(types[i]);
  }
  if (!IsCityRoot(org_id)) f.org_id_ = std::move(org_id);
  for (const auth::RoleGrant& g : principal.roles) {
    if (g.role == common::v1::ROLE_INTERNAL_SERVICE ||
        (g.role != common::v1::ROLE_RIDER && IsCityRoot(g.org_id))) {
      f.sees_everything_ = true;
    } else if (g.role != common::v1::ROLE_RIDER && !g.org_id.empty()) {
      f.covered_nodes_.push_back(g.org_id);
    }
  }
  return f;
}

EventFilter EventFilter::FromParts(std::vector<std::string> types, std::string org_id,
                                   bool sees_everything, std::vector<std::string> covered_nodes) {
  EventFilter f;
  f.types_.insert(types.begin(), types.end());
  f.org_id_ = std::move(org_id);
  f.sees_everything_ = sees_everything;
  f.covered_nodes_ = std::move(covered_nodes);
  return f;
}

bool EventFilter::Matches(const v1::Event& event) const {
  if (!types_.empty() && !types_.contains(event.type())) return false;
  if (!org_id_.empty() && !PathHas(event.org_path(), org_id_)) return false;
  if (sees_everything_) return true;
  for (const std::string& node : covered_nodes_) {
    if (PathHas(event.org_path(), node)) return true;
  }
  return false;
}

}  // namespace civicpoints::events
