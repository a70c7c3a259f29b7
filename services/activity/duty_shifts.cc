// Reviewing duty shifts: the transaction ConfirmDutyShift and RejectDutyShift run, built from the
// rules in review_rules.h and the statements of PgShiftStore; a confirmation writes the shift's
// award and its outbox row in it (awards.h).
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "services/activity/activity_events.h"
#include "services/activity/activity_service.h"
#include "services/activity/awards.h"
#include "services/activity/directory.h"
#include "services/activity/points_rules.h"
#include "services/activity/post_records.h"
#include "services/activity/review_rules.h"

namespace civicpoints::activity {

using common::v1::ROLE_COMMUNITY_STAFF;
using common::v1::ROLE_STREET_STAFF;

absl::StatusOr<common::v1::OrgPath> ActivityServiceImpl::HomeOfShiftRider(
    const Caller& caller, const std::string& post_id, const std::string& shift_id) {
  std::string rider;
  RETURN_IF_ERROR(InReadTx("read shift", [&](pqxx::transaction_base& tx) {
    rider = shifts_.RiderOf(tx, post_id, shift_id);
    return absl::OkStatus();
  }));
  // No such shift, or the caller's own (refused in the transaction): nothing to ask.
  if (rider.empty() || rider == caller.id()) return common::v1::OrgPath();
  absl::StatusOr<std::vector<RiderInfo>> riders = directory_->Riders({rider});
  if (!riders.ok() && riders.status().code() != absl::StatusCode::kNotFound) {
    return riders.status();
  }
  return riders.ok() && !riders->empty() ? (*riders)[0].home : common::v1::OrgPath();
}

absl::Status ActivityServiceImpl::ReviewShift(pqxx::transaction_base& tx, const Caller& caller,
                                              const ShiftReview& review, v1::DutyShift* out,
                                              bool* applied) {
  const bool confirm = review.outcome == v1::DUTY_SHIFT_STATUS_CONFIRMED;
  ASSIGN_OR_RETURN(const v1::Post post, LoadPost(tx, review.post_id, false));
  RETURN_IF_ERROR(CheckCovers(caller.who(), post.org_path(), absl::StrCat("post ", post.post_id()),
                              {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF}));
  std::optional<v1::DutyShift> shift = LoadShift(tx, post.post_id(), review.shift_id, true, true);
  if (!shift) {
    return absl::NotFoundError(absl::StrCat("shift '", review.shift_id,
                                            "' does not exist on post '", post.post_id(), "'"));
  }
  switch (DecideReview(caller.id(), shift->rider_id(), shift->status(),
                       v1::DUTY_SHIFT_STATUS_SUBMITTED, review.outcome)) {
    case ReviewStep::kOwnSubmission:
      return Refuse(
          absl::StatusCode::kPermissionDenied, v1::ACTIVITY_ERROR_REASON_SELF_CONFIRMATION,
          confirm ? "staff cannot confirm their own shift" : "staff cannot review their own shift");
    case ReviewStep::kAlreadyDone:
      *out = *std::move(shift);
      return absl::OkStatus();
    case ReviewStep::kWrongState:
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_STATE,
                    confirm ? absl::StrCat("shift ", shift->shift_id(), " was rejected")
                            : absl::StrCat("shift ", shift->shift_id(),
                                           " is confirmed; correct its award with a ledger "
                                           "reversal instead"));
    case ReviewStep::kApply:
      break;
  }
  shifts_.MarkReviewed(tx, shift->shift_id(), review.outcome, caller.id(), review.reject_reason,
                       caller.now);
  if (confirm) {
    // Priced where the duty was done; counted (and capped) where the rider lives, or where the
    // duty was done for a rider checked in nowhere.
    const RuleValue price = ResolvedRules::Read(tx, post.org_path()).PostShiftPoints(post.kind());
    const common::v1::OrgPath rider_path =
        review.rider_home.community_id().empty() ? post.org_path() : review.rider_home;
    ASSIGN_OR_RETURN(const v1::Award award,
                     CreateAward(tx,
                                 AwardSource{.kind = v1::AWARD_SOURCE_KIND_POST_SHIFT,
                                             .source_id = shift->shift_id(),
                                             .rider_id = shift->rider_id(),
                                             .rule = price,
                                             .verified_by = caller.id(),
                                             .occur = TimeOf(shift->start_time()),
                                             .reason = post.title(),
                                             .rider_path = rider_path},
                                 ResolvedRules::Read(tx, rider_path), caller.now));
    RETURN_IF_ERROR(RecordShiftConfirmed(tx, *shift, award.points(), caller.id(), post.org_path()));
  }
  *out = *LoadShift(tx, post.post_id(), shift->shift_id(), false, true);
  *applied = true;
  return absl::OkStatus();
}

}  // namespace civicpoints::activity
