// EventFilter: which events one subscriber receives — the types it asked for, the org subtree it
// asked for, and always only what its grants cover (a city system's key reaches its node's
// subtree, staff the nodes of their roles, internal services everything).
#ifndef CIVICPOINTS_SERVICES_EVENTS_EVENT_FILTER_H_
#define CIVICPOINTS_SERVICES_EVENTS_EVENT_FILTER_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "civicpoints/events/v1/event.pb.h"
#include "common/auth/principal.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace civicpoints::events {

class EventFilter {
 public:
  // Errors: INVALID_ARGUMENT naming the first type that is not one of the suite's event types.
  // `org_path` is the path of the org node asked for (empty with org_id empty: no narrowing); its
  // scope must have been checked by the caller.
  static absl::StatusOr<EventFilter> Make(
      const google::protobuf::RepeatedPtrField<std::string>& types, std::string org_id,
      const auth::Principal& principal);

  // A filter kept in storage (a webhook's), from the parts below.
  static EventFilter FromParts(std::vector<std::string> types, std::string org_id,
                               bool sees_everything, std::vector<std::string> covered_nodes);

  bool Matches(const v1::Event& event) const;

  // Its parts, to store it: the types asked for (empty: all), the subtree asked for, and what the
  // caller's grants covered.
  std::vector<std::string> types() const { return {types_.begin(), types_.end()}; }
  const std::string& org_id() const { return org_id_; }
  bool sees_everything() const { return sees_everything_; }
  const std::vector<std::string>& covered_nodes() const { return covered_nodes_; }

 private:
  absl::flat_hash_set<std::string> types_;  // empty: all
  std::string org_id_;                      // empty: all
  bool sees_everything_ = false;            // an internal service, or a grant at the city root
  std::vector<std::string> covered_nodes_;  // nodes whose subtrees the caller's grants cover
};

// Whether a node id names the city root.
bool IsCityRoot(absl::string_view org_id);

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_EVENT_FILTER_H_
