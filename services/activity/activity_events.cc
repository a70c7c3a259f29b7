#include "services/activity/activity_events.h"

#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/events.pb.h"
#include "common/events/outbox.h"

namespace civicpoints::activity {
namespace {

absl::Status Record(pqxx::transaction_base& tx, absl::string_view name, std::string subject,
                    const common::v1::OrgPath& where, const google::protobuf::Message& data) {
  return events::RecordEvent(tx, {.service = "activity",
                                  .name = name,
                                  .subject = std::move(subject),
                                  .org_path = where,
                                  .data = &data});
}

}  // namespace

absl::Status RecordAttendanceConfirmed(pqxx::transaction_base& tx, const std::string& activity_id,
                                       const std::string& rider_id, int64_t points,
                                       const std::string& by, const common::v1::OrgPath& where) {
  v1::AttendanceConfirmed data;
  data.set_activity_id(activity_id);
  data.set_rider_id(rider_id);
  data.set_points(points);
  data.set_confirmed_by_person_id(by);
  return Record(tx, "attendance_confirmed",
                absl::StrCat("activities/", activity_id, "/riders/", rider_id), where, data);
}

absl::Status RecordShiftConfirmed(pqxx::transaction_base& tx, const v1::DutyShift& shift,
                                  int64_t points, const std::string& by,
                                  const common::v1::OrgPath& where) {
  v1::ShiftConfirmed data;
  data.set_shift_id(shift.shift_id());
  data.set_post_id(shift.post_id());
  data.set_rider_id(shift.rider_id());
  data.set_points(points);
  data.set_confirmed_by_person_id(by);
  return Record(tx, "shift_confirmed", absl::StrCat("duty-shifts/", shift.shift_id()), where, data);
}

absl::Status RecordClaimDecided(pqxx::transaction_base& tx, const std::string& claim_id,
                                const std::string& post_id, const std::string& rider_id,
                                v1::PostClaimStatus status, const std::string& by,
                                const common::v1::OrgPath& where) {
  v1::PostClaimDecided data;
  data.set_claim_id(claim_id);
  data.set_post_id(post_id);
  data.set_rider_id(rider_id);
  data.set_status(status);
  data.set_decided_by_person_id(by);
  return Record(tx, "post_claim_decided", absl::StrCat("post-claims/", claim_id), where, data);
}

absl::Status RecordServiceRecordChanged(pqxx::transaction_base& tx, absl::string_view name,
                                        const v1::ServiceRecord& record, const std::string& by) {
  v1::ServiceRecordChanged data;
  data.set_service_record_id(record.service_record_id());
  data.set_rider_id(record.rider_id());
  data.set_kind(record.kind());
  data.set_status(record.status());
  data.set_points(record.award().points());
  data.set_by_person_id(by);
  return Record(tx, name, absl::StrCat("service-records/", record.service_record_id()),
                record.org_path(), data);
}

}  // namespace civicpoints::activity
