#include "services/identity/identity_events.h"

#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/events.pb.h"
#include "common/events/outbox.h"

namespace civicpoints::identity {

absl::Status RecordRiderRegistered(
    pqxx::transaction_base& tx, const std::string& person_id,
    const google::protobuf::RepeatedPtrField<v1::PlatformAccount>& platforms,
    const common::v1::OrgPath& where) {
  v1::RiderRegistered data;
  data.set_person_id(person_id);
  for (const v1::PlatformAccount& p : platforms) data.add_platforms(p.platform());
  return events::RecordEvent(tx, {.service = "identity",
                                  .name = "rider_registered",
                                  .subject = absl::StrCat("people/", person_id),
                                  .org_path = where,
                                  .data = &data});
}

absl::Status RecordRiderCheckedIn(pqxx::transaction_base& tx, const std::string& person_id,
                                  const std::string& check_in_id, const common::v1::OrgPath& where,
                                  const std::string& previous) {
  v1::RiderCheckedIn data;
  data.set_person_id(person_id);
  data.set_check_in_id(check_in_id);
  data.set_community_id(where.community_id());
  data.set_previous_community_id(previous);
  return events::RecordEvent(tx, {.service = "identity",
                                  .name = "rider_checked_in",
                                  .subject = absl::StrCat("people/", person_id),
                                  .org_path = where,
                                  .data = &data});
}

}  // namespace civicpoints::identity
