// PgShiftStore: the SQL of logging and reviewing duty shifts (reading a shift back is
// post_records.h's LoadShift). Every method runs inside the caller's transaction, so the rules
// (review_rules.h, the checks in shift_methods.cc) decide between a read and a write of one
// transaction; states go to SQL as parameters named from the proto's enums. Stateless and
// thread-safe; a database error is thrown as pqxx's exception, which the transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_PG_SHIFT_STORE_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_PG_SHIFT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "civicpoints/activity/v1/post.pb.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::activity {

class PgShiftStore {
 public:
  // Serializes the rider's shift logging until the transaction ends, so two overlapping shifts
  // cannot both pass the overlap check.
  void LockRiderShifts(pqxx::transaction_base& tx, const std::string& rider_id) const;
  // The rider's earliest live (submitted or confirmed) shift overlapping [start, end), as
  // {shift id, post id}; nullopt when none.
  std::optional<std::pair<std::string, std::string>> Overlapping(pqxx::transaction_base& tx,
                                                                 const std::string& rider_id,
                                                                 absl::Time start,
                                                                 absl::Time end) const;
  // A shift as logged: submitted, waiting for review.
  struct NewShift {
    std::string shift_id, post_id, claim_id, rider_id;
    absl::Time start, end, created;
    std::string summary;
    std::optional<std::pair<double, double>> location;  // latitude, longitude
    std::vector<std::string> attachment_refs;
  };
  void Insert(pqxx::transaction_base& tx, const NewShift& shift) const;

  // The rider who logged the shift ("" when there is no such shift on the post).
  std::string RiderOf(pqxx::transaction_base& tx, const std::string& post_id,
                      const std::string& shift_id) const;
  // Moves the shift to `status` (confirmed or rejected) by `reviewer_id` at `now`, with the
  // rejection's reason ("" for a confirmation).
  void MarkReviewed(pqxx::transaction_base& tx, const std::string& shift_id,
                    v1::DutyShiftStatus status, const std::string& reviewer_id,
                    const std::string& reject_reason, absl::Time now) const;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_PG_SHIFT_STORE_H_
