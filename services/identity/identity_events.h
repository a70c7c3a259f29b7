// Identity's domain events (civicpoints/identity/v1/events.proto), recorded in the transaction of
// the change (common/events/outbox.h). No phone number, name or platform rider id goes in them.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_IDENTITY_EVENTS_H_
#define CIVICPOINTS_SERVICES_IDENTITY_IDENTITY_EVENTS_H_

#include <string>

#include "absl/status/status.h"
#include "civicpoints/common/v1/types.pb.h"
#include "civicpoints/identity/v1/person.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::identity {

// A rider joined; `where` is the community of the code they registered with (empty: none).
absl::Status RecordRiderRegistered(
    pqxx::transaction_base& tx, const std::string& person_id,
    const google::protobuf::RepeatedPtrField<v1::PlatformAccount>& platforms,
    const common::v1::OrgPath& where);

// A check-in became active: `where` is the new home community; `previous` the one it replaced.
absl::Status RecordRiderCheckedIn(pqxx::transaction_base& tx, const std::string& person_id,
                                  const std::string& check_in_id, const common::v1::OrgPath& where,
                                  const std::string& previous);

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_IDENTITY_EVENTS_H_
