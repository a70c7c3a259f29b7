// PgAttendanceStore: the SQL of enrolments and attendance — enrolling and withdrawing, cancelling
// an activity, checking in (by code or by staff, a walk-in enrolled on the spot), confirming and
// rejecting attendance, and where an activity's work was done. Every method
// runs inside the caller's transaction, so the rules (attendance_rules.h) decide between a read and
// a write of one transaction; enrolment states go to SQL as parameters named from the proto's enum.
// Stateless and thread-safe; a database error is thrown as pqxx's exception, which the
// transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_PG_ATTENDANCE_STORE_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_PG_ATTENDANCE_STORE_H_

#include <optional>
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
  // Marks the rider checked in, by code at `distance_m` from the place (`by` the rider), or by
  // staff member `by` (distance unknown, nullopt); returns the enrolment as it now stands (as
  // LoadEnrolment reads it for staff or not), from the same statement.
  v1::Enrolment MarkCheckedIn(pqxx::transaction_base& tx, const std::string& activity_id,
                              const std::string& rider_id, v1::CheckInMethod method,
                              const std::string& by, std::optional<int> distance_m,
                              bool for_staff) const;
  // Enrols the rider (again, after a withdrawal; a walk-in at check-in too) and counts their seat.
  void Enrol(pqxx::transaction_base& tx, const std::string& activity_id,
             const std::string& rider_id) const;
  // Withdraws the rider's enrolment and frees their seat.
  void Withdraw(pqxx::transaction_base& tx, const std::string& activity_id,
                const std::string& rider_id) const;
  // Cancels the activity for `reason`: every enrolment not yet confirmed is withdrawn.
  void Cancel(pqxx::transaction_base& tx, const std::string& activity_id,
              const std::string& reason) const;
  // Marks the rider's attendance rejected by `staff_id` for `reason` (they keep their seat).
  void MarkRejected(pqxx::transaction_base& tx, const std::string& activity_id,
                    const std::string& rider_id, const std::string& staff_id,
                    const std::string& reason) const;
  // Marks the rider's attendance confirmed by `staff_id`.
  void MarkConfirmed(pqxx::transaction_base& tx, const std::string& activity_id,
                     const std::string& rider_id, const std::string& staff_id) const;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_PG_ATTENDANCE_STORE_H_
