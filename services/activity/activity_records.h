// Rows of `activities` and `enrolments` as the activity methods read them, and their protos; the
// statements that write an activity's definition (enrolments' writes are PgAttendanceStore's).
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_RECORDS_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_RECORDS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/activity.pb.h"
#include "common/pg/throttle.h"

namespace pqxx {
class transaction_base;
class row;
}  // namespace pqxx

namespace civicpoints::activity {

class ResolvedRules;

// What the methods decide with; `proto` is the full answer (effective_points filled).
struct ActivityRow {
  v1::Activity proto;
  std::string code_secret;
  double place_lat = 0, place_lon = 0;
  int place_radius = 0;  // the place's own radius
  absl::Time start, end, enrol_close, check_in_open;
  bool cancelled = false;
  // Entered afterwards from paper (RecordPastActivity): confirmed by a second, street, staff
  // member within kConfirmationWindow of `created`.
  bool recorded_afterwards = false;
  absl::Time created;
  int64_t version = 0;
  // The geofence: the activity's radius, or the place's.
  int radius() const;
  bool ended(absl::Time now) const { return !cancelled && now >= end; }
};

// OK when a rider living at `home` may join `a`: anyone, or for CHECKED_IN_RIDERS activities a
// rider checked in inside the organiser's node. Errors: FAILED_PRECONDITION (AUDIENCE_MISMATCH).
absl::Status CheckAudience(const ActivityRow& a, const common::v1::OrgPath& home);

// Loads an activity (FOR UPDATE when `lock`). Errors: INVALID_ARGUMENT when `id` is empty;
// NOT_FOUND naming it.
absl::StatusOr<ActivityRow> LoadActivity(pqxx::transaction_base& tx, const std::string& id,
                                         bool lock, absl::Time now);
// kShare: many check-ins of one activity proceed at once, while a change to the activity itself
// (kUpdate: seats, times, cancellation) waits for them and they for it.
enum class ActivityLock { kNone, kShare, kUpdate };
// kUncounted leaves the checked-in and confirmed counts at zero: they cost a pass over the
// activity's enrolments, which a check-in (reading neither) should not pay.
enum class ActivityCounts { kCounted, kUncounted };
absl::StatusOr<ActivityRow> LoadActivity(pqxx::transaction_base& tx, const std::string& id,
                                         ActivityLock lock, absl::Time now,
                                         ActivityCounts counts = ActivityCounts::kCounted);

// What a rider's own check-in reads, in one statement run after pg::Throttle::LockIn of
// `code_limit`'s bucket: the wait that limit imposes (pg::Throttle::WaitIn's), the activity
// (kShare, uncounted) and then the rider's enrolment in it, if any, locked FOR UPDATE — the
// order every path takes the two.
struct CheckInRead {
  absl::Duration code_wait;
  ActivityRow activity;
  std::optional<v1::Enrolment> enrolment;
};
absl::StatusOr<CheckInRead> LoadForCheckIn(pqxx::transaction_base& tx, const std::string& id,
                                           const std::string& rider,
                                           const pg::Throttle::Limit& code_limit, absl::Time now);

// Writes a new activity `a` (id and every field already defaulted), organised by the node at
// `path` (`organiser_id`), with its check-in code's secret.
void InsertActivityRow(pqxx::transaction_base& tx, const v1::Activity& a,
                       const std::string& organiser_id, const common::v1::OrgPath& path,
                       const std::string& code_secret, const std::string& creator_id);
// Rewrites the activity's editable fields (a new version).
void UpdateActivityRow(pqxx::transaction_base& tx, const v1::Activity& a);

// The SELECT list and FROM clause LoadActivity and lists use, and the filler.
extern const char kActivitySelect[];
ActivityRow ReadActivity(pqxx::transaction_base& tx, const pqxx::row& row, absl::Time now);

// Enrolments.
extern const char kEnrolmentColumns[];
void FillEnrolment(pqxx::transaction_base& tx, const pqxx::row& row, bool for_staff,
                   v1::Enrolment* out);
// The enrolment of `rider`, if any (FOR UPDATE when `lock`).
std::optional<v1::Enrolment> LoadEnrolment(pqxx::transaction_base& tx,
                                           const std::string& activity_id, const std::string& rider,
                                           bool lock, bool for_staff);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_RECORDS_H_
