#include "services/activity/pg_shift_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/base/time_units.h"
#include "common/pg/sql_values.h"

namespace civicpoints::activity {

using times::Us;

void PgShiftStore::LockRiderShifts(pqxx::transaction_base& tx, const std::string& rider_id) const {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                 absl::StrCat("duty-shift:", rider_id));
}

std::optional<std::pair<std::string, std::string>> PgShiftStore::Overlapping(
    pqxx::transaction_base& tx, const std::string& rider_id, absl::Time start,
    absl::Time end) const {
  pqxx::result r = tx.exec_params(
      "SELECT shift_id, post_id FROM duty_shifts WHERE rider_id = $1 AND status IN "
      "(duty_shift_status('SUBMITTED'), duty_shift_status('CONFIRMED')) "
      "AND start_at < from_us($3::bigint) AND end_at > from_us($2::bigint) "
      "ORDER BY start_at LIMIT 1",
      rider_id, Us(start), Us(end));
  if (r.empty()) return std::nullopt;
  return std::pair{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
}

void PgShiftStore::Insert(pqxx::transaction_base& tx, const NewShift& s) const {
  tx.exec_params(
      "INSERT INTO duty_shifts (shift_id, post_id, claim_id, rider_id, start_at, end_at, "
      "summary, latitude, longitude, attachment_refs, status, created_at) VALUES ($1, $2, "
      "$3, $4, from_us($5::bigint), from_us($6::bigint), $7, "
      "CASE WHEN $8 THEN $9::double precision END, "
      "CASE WHEN $8 THEN $10::double precision END, $11::text[], "
      "duty_shift_status('SUBMITTED'), from_us($12::bigint))",
      s.shift_id, s.post_id, s.claim_id, s.rider_id, Us(s.start), Us(s.end), s.summary,
      s.location.has_value(), s.location ? s.location->first : 0.0,
      s.location ? s.location->second : 0.0, pg::TextArray(s.attachment_refs), Us(s.created));
}

std::string PgShiftStore::RiderOf(pqxx::transaction_base& tx, const std::string& post_id,
                                  const std::string& shift_id) const {
  pqxx::result r = tx.exec_params(
      "SELECT rider_id FROM duty_shifts WHERE post_id = $1 AND shift_id = $2", post_id, shift_id);
  return r.empty() ? "" : r[0][0].as<std::string>();
}

void PgShiftStore::MarkReviewed(pqxx::transaction_base& tx, const std::string& shift_id,
                                v1::DutyShiftStatus status, const std::string& reviewer_id,
                                const std::string& reject_reason, absl::Time now) const {
  // A confirmation leaves reject_reason as it was (empty).
  tx.exec_params(
      "UPDATE duty_shifts SET status = $2::smallint, reviewed_by = $3, "
      "reject_reason = CASE WHEN $4 = '' THEN reject_reason ELSE $4 END, "
      "reviewed_at = from_us($5::bigint) WHERE shift_id = $1",
      shift_id, static_cast<int>(status), reviewer_id, reject_reason, Us(now));
}

}  // namespace civicpoints::activity
