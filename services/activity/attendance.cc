// Confirming attendance: the transaction ConfirmAttendance runs, built from the rules in
// attendance_rules.h and the statements of PgAttendanceStore; each confirmed rider's award and its
// outbox row are written in it (awards.h).
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "services/activity/activity_events.h"
#include "services/activity/activity_records.h"
#include "services/activity/activity_service.h"
#include "services/activity/awards.h"
#include "services/activity/directory.h"

namespace civicpoints::activity {

absl::StatusOr<ActivityServiceImpl::RiderHomes> ActivityServiceImpl::HomesOf(
    const std::vector<std::string>& riders) {
  // Every rider asked gets an entry; one identity does not know (a closed account) keeps an empty
  // path and counts where the work was done.
  RiderHomes homes;
  if (riders.empty()) return homes;
  absl::StatusOr<std::vector<RiderInfo>> found = directory_->Riders(riders);
  if (found.ok()) {
    for (const RiderInfo& r : *found) homes[r.rider_id] = r.home;
    return homes;
  }
  if (found.status().code() != absl::StatusCode::kNotFound) return found.status();
  // The batch fails on the first unknown id: ask one by one.
  for (const std::string& id : riders) {
    absl::StatusOr<std::vector<RiderInfo>> one = directory_->Riders({id});
    if (!one.ok() && one.status().code() != absl::StatusCode::kNotFound) return one.status();
    homes[id] = one.ok() && !one->empty() ? (*one)[0].home : common::v1::OrgPath();
  }
  return homes;
}

absl::Status ActivityServiceImpl::ConfirmIn(pqxx::transaction_base& tx, const Caller& caller,
                                            const v1::ConfirmAttendanceRequest& req,
                                            const std::vector<std::string>& named,
                                            const RiderHomes& homes,
                                            v1::ConfirmAttendanceResponse* resp) {
  ASSIGN_OR_RETURN(const ActivityRow a, LoadActivity(tx, req.activity_id(), true, caller.now));
  const v1::Activity& act = a.proto;
  const std::string& id = act.activity_id();
  RETURN_IF_ERROR(CheckCovers(caller.who(), act.org_path(), absl::StrCat("activity ", id)));
  if (a.recorded_afterwards) {
    // Paper records get a second pair of eyes: street staff of the activity's street who did not
    // record it.
    common::v1::OrgPath street = act.org_path();
    street.clear_community_id();
    if (!Covers(caller.who(), street, {common::v1::ROLE_STREET_STAFF}) ||
        caller.id() == act.created_by()) {
      return Refuse(absl::StatusCode::kPermissionDenied,
                    v1::ACTIVITY_ERROR_REASON_NEEDS_SECOND_STAFF,
                    absl::StrCat("activity ", id, " was recorded afterwards by ", act.created_by(),
                                 "; street staff of street ", street.street_id(),
                                 " other than them confirm its attendance"));
    }
  }
  // An activity recorded afterwards may be confirmed for the same window after its recording.
  RETURN_IF_ERROR(CheckConfirmationOpen(id, a.cancelled, a.start,
                                        a.recorded_afterwards ? a.created : a.end, caller.now));
  AttendanceChoice choice;
  if (req.all_checked_in()) {
    choice = ChooseCheckedIn(attendance_.CheckedIn(tx, id, /*lock=*/true), caller.id());
  } else {
    ASSIGN_OR_RETURN(choice,
                     ChooseNamed(attendance_.LockEnrolments(tx, id, named), caller.id(), id));
  }
  for (const std::string& r : choice.skipped_self) {
    v1::SkippedRider* skipped = resp->add_skipped();
    skipped->set_rider_id(r);
    skipped->set_reason(v1::ACTIVITY_ERROR_REASON_SELF_CONFIRMATION);
  }
  for (const std::string& r : choice.already_confirmed) resp->add_already_confirmed_rider_ids(r);

  const RuleValue price = AttendancePrice(act, a.version, ResolvedRules::Read(tx, act.org_path()));
  const common::v1::OrgPath work_path = attendance_.WorkPath(tx, act);
  for (const std::string& r : choice.to_confirm) {
    auto home = homes.find(r);
    if (home == homes.end()) {
      // Checked in after the riders were looked up: never guess where their points count.
      return absl::AbortedError("attendance changed while it was being confirmed; confirm again");
    }
    const common::v1::OrgPath rider_path = PointsPath(home->second, work_path);
    attendance_.MarkConfirmed(tx, id, r, caller.id());
    ASSIGN_OR_RETURN(const v1::Award award,
                     CreateAward(tx,
                                 AwardSource{.kind = v1::AWARD_SOURCE_KIND_ACTIVITY_ATTENDANCE,
                                             .source_id = id,
                                             .rider_id = r,
                                             .rule = price,
                                             .verified_by = caller.id(),
                                             .occur = a.start,
                                             .reason = act.title(),
                                             .rider_path = rider_path},
                                 ResolvedRules::Read(tx, rider_path), caller.now));
    RETURN_IF_ERROR(
        RecordAttendanceConfirmed(tx, id, r, award.points(), caller.id(), act.org_path()));
    *resp->add_confirmed() = *LoadEnrolment(tx, id, r, false, true);
  }
  return absl::OkStatus();
}

}  // namespace civicpoints::activity
