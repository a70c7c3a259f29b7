// Staff reviewing what a rider submitted — a duty shift confirmed or rejected, a service record
// verified or rejected, an appeal decided — as pure rules over the submission's state. No storage:
// the handlers read the submission under its row lock (PgShiftStore, PgServiceRecordStore), ask
// these, and write the answer in the same transaction. review_rules_test.cc holds them without a
// database.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_REVIEW_RULES_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_REVIEW_RULES_H_

#include <string>

#include "civicpoints/activity/v1/post.pb.h"
#include "civicpoints/activity/v1/service_record.pb.h"

namespace civicpoints::activity {

// What one review call does.
enum class ReviewStep {
  kApply,          // the submission waits for review: move it to the outcome (a confirmation
                   // writes its award in the same transaction)
  kAlreadyDone,    // it is already at the outcome: a retry, answered with the submission as it is
  kOwnSubmission,  // the reviewer submitted it: refused, whatever its state (SELF_CONFIRMATION)
  kWrongState,     // it went the other way (or further): refused (WRONG_STATE)
};

// A review by `reviewer_id` of a submission by `rider_id` now in `current`, which a review may
// move from `waiting` to `outcome`. Checked in this order: own submission, outcome reached,
// waiting, anything else.
template <typename Status>
ReviewStep DecideReview(const std::string& reviewer_id, const std::string& rider_id, Status current,
                        Status waiting, Status outcome) {
  if (reviewer_id == rider_id) return ReviewStep::kOwnSubmission;
  if (current == outcome) return ReviewStep::kAlreadyDone;
  if (current == waiting) return ReviewStep::kApply;
  return ReviewStep::kWrongState;
}

// The status an appeal's decision leaves its service record in: upheld, verified (and awarded);
// denied, APPEAL_DENIED.
v1::ServiceRecordStatus StatusAfterAppeal(v1::AppealDecision decision);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_REVIEW_RULES_H_
