// PgAttendanceStore: the SQL of confirming attendance (enrolments checked in and confirmed, and
// where an activity's work was done). Every method runs inside the caller's transaction, so the
// rules (attendance_rules.h) decide between a read and a write of one transaction; enrolment
// states go to SQL as parameters named from the proto's enum. Stateless and thread-safe; a database
// error is thrown as pqxx's exception, which the transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_PG_ATTENDANCE_STORE_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_PG_ATTENDANCE_STORE_H_

#include <string>
#include <vector>

#include "civicpoints/activity/v1/activity.pb.h"
#include "services/activity/attendance_rules.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::activity {

class PgAttendanceStore {
 public:
  // The riders checked in to the activity, in id order; locked (FOR UPDATE) when `lock`.
  std::vector<std::string> CheckedIn(pqxx::transaction_base& tx, const std::string& activity_id,
                                     bool lock) const;
  // Each of `riders` with their enrolment's status (empty: never enrolled), locked, in order.
  std::vector<NamedEnrolment> LockEnrolments(pqxx::transaction_base& tx,
                                             const std::string& activity_id,
                                             const std::vector<std::string>& riders) const;
  // Where the activity's work was done, as a whole path: its organiser's community, or for a
  // street-level activity the place's community.
  common::v1::OrgPath WorkPath(pqxx::transaction_base& tx, const v1::Activity& activity) const;
  // Marks the rider's attendance confirmed by `staff_id`.
  void MarkConfirmed(pqxx::transaction_base& tx, const std::string& activity_id,
                     const std::string& rider_id, const std::string& staff_id) const;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_PG_ATTENDANCE_STORE_H_
