// Activity's domain events (civicpoints/activity/v1/events.proto), recorded in the transaction of
// the change they announce (common/events/outbox.h). The org path is where the work happened: the
// activity's, post's or record's community.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_EVENTS_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_EVENTS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "civicpoints/activity/v1/post.pb.h"
#include "civicpoints/activity/v1/service_record.pb.h"
#include "civicpoints/common/v1/types.pb.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::activity {

absl::Status RecordAttendanceConfirmed(pqxx::transaction_base& tx, const std::string& activity_id,
                                       const std::string& rider_id, int64_t points,
                                       const std::string& by, const common::v1::OrgPath& where);

absl::Status RecordShiftConfirmed(pqxx::transaction_base& tx, const v1::DutyShift& shift,
                                  int64_t points, const std::string& by,
                                  const common::v1::OrgPath& where);

absl::Status RecordClaimDecided(pqxx::transaction_base& tx, const std::string& claim_id,
                                const std::string& post_id, const std::string& rider_id,
                                v1::PostClaimStatus status, const std::string& by,
                                const common::v1::OrgPath& where);

// `name` is one of service_record_submitted, _verified, _rejected, _appealed; `record` is the
// record as it stands after the change (its award, if any, gives the points).
absl::Status RecordServiceRecordChanged(pqxx::transaction_base& tx, absl::string_view name,
                                        const v1::ServiceRecord& record, const std::string& by);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_EVENTS_H_
