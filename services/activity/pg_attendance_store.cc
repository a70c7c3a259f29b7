#include "services/activity/pg_attendance_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/pg/prepared.h"
#include "services/activity/activity_records.h"

namespace civicpoints::activity {

namespace {

constexpr int kCheckedIn = v1::ENROLMENT_STATUS_CHECKED_IN;
constexpr int kConfirmed = v1::ENROLMENT_STATUS_CONFIRMED;

}  // namespace

std::vector<std::string> PgAttendanceStore::CheckedIn(pqxx::transaction_base& tx,
                                                      const std::string& activity_id,
                                                      bool lock) const {
  std::vector<std::string> riders;
  for (const auto& row : tx.exec_params(
           std::string("SELECT rider_id FROM enrolments WHERE activity_id = $1 AND status = "
                       "$2::smallint ORDER BY rider_id") +
               (lock ? " FOR UPDATE" : ""),
           activity_id, kCheckedIn)) {
    riders.push_back(row[0].as<std::string>());
  }
  return riders;
}

std::vector<NamedEnrolment> PgAttendanceStore::LockEnrolments(
    pqxx::transaction_base& tx, const std::string& activity_id,
    const std::vector<std::string>& riders) const {
  std::vector<NamedEnrolment> out;
  for (const std::string& r : riders) {
    std::optional<v1::Enrolment> e = LoadEnrolment(tx, activity_id, r, true, true);
    out.emplace_back(r, e.has_value() ? std::optional(e->status()) : std::nullopt);
  }
  return out;
}

common::v1::OrgPath PgAttendanceStore::WorkPath(pqxx::transaction_base& tx,
                                                const v1::Activity& activity) const {
  common::v1::OrgPath path = activity.org_path();
  if (!path.community_id().empty()) return path;
  pqxx::row p =
      tx.exec_params1("SELECT district_id, street_id, community_id FROM places WHERE place_id = $1",
                      activity.place_id());
  path.set_district_id(p[0].as<std::string>());
  path.set_street_id(p[1].as<std::string>());
  path.set_community_id(p[2].as<std::string>());
  return path;
}

void PgAttendanceStore::MarkConfirmed(pqxx::transaction_base& tx, const std::string& activity_id,
                                      const std::string& rider_id,
                                      const std::string& staff_id) const {
  tx.exec_params(
      "UPDATE enrolments SET status = $4::smallint, reviewed_at = now(), reviewed_by = $3 "
      "WHERE activity_id = $1 AND rider_id = $2",
      activity_id, rider_id, staff_id, kConfirmed);
}

v1::Enrolment PgAttendanceStore::MarkCheckedIn(pqxx::transaction_base& tx,
                                               const std::string& activity_id,
                                               const std::string& rider_id,
                                               v1::CheckInMethod method, const std::string& by,
                                               std::optional<int> distance_m,
                                               bool for_staff) const {
  const pqxx::result r = pg::Exec(
      tx,
      absl::StrCat(
          "UPDATE enrolments SET status = enrolment_status('CHECKED_IN'), checked_in_at = now(), "
          "check_in_method = $3::smallint, checked_in_by = $4, "
          "check_in_distance_m = coalesce($5::int, check_in_distance_m) "
          "WHERE activity_id = $1 AND rider_id = $2 RETURNING ",
          kEnrolmentColumns),
      activity_id, rider_id, static_cast<int>(method), by, distance_m);
  v1::Enrolment e;
  FillEnrolment(tx, r[0], for_staff, &e);
  return e;
}

void PgAttendanceStore::Enrol(pqxx::transaction_base& tx, const std::string& activity_id,
                              const std::string& rider_id) const {
  tx.exec_params(
      "INSERT INTO enrolments (activity_id, rider_id, status, enrolled_at) VALUES ($1, $2, "
      "enrolment_status('ENROLLED'), now()) ON CONFLICT (activity_id, rider_id) DO UPDATE SET "
      "status = enrolment_status('ENROLLED'), enrolled_at = now(), withdrawn_at = NULL",
      activity_id, rider_id);
  tx.exec_params("UPDATE activities SET enrolled_count = enrolled_count + 1 WHERE activity_id = $1",
                 activity_id);
}

void PgAttendanceStore::Withdraw(pqxx::transaction_base& tx, const std::string& activity_id,
                                 const std::string& rider_id) const {
  tx.exec_params(
      "UPDATE enrolments SET status = enrolment_status('WITHDRAWN'), withdrawn_at = now() "
      "WHERE activity_id = $1 AND rider_id = $2",
      activity_id, rider_id);
  tx.exec_params("UPDATE activities SET enrolled_count = enrolled_count - 1 WHERE activity_id = $1",
                 activity_id);
}

void PgAttendanceStore::Cancel(pqxx::transaction_base& tx, const std::string& activity_id,
                               const std::string& reason) const {
  tx.exec_params(
      "UPDATE enrolments SET status = enrolment_status('WITHDRAWN'), withdrawn_at = now() "
      "WHERE activity_id = $1 AND status IN (enrolment_status('ENROLLED'), "
      "enrolment_status('CHECKED_IN'))",
      activity_id);
  tx.exec_params(
      "UPDATE activities SET cancelled_at = now(), cancel_reason = $2, enrolled_count = 0, "
      "version = version + 1, updated_at = now() WHERE activity_id = $1",
      activity_id, reason);
}

void PgAttendanceStore::MarkRejected(pqxx::transaction_base& tx, const std::string& activity_id,
                                     const std::string& rider_id, const std::string& staff_id,
                                     const std::string& reason) const {
  tx.exec_params(
      "UPDATE enrolments SET status = enrolment_status('ATTENDANCE_REJECTED'), reviewed_at = "
      "now(), reviewed_by = $3, reject_reason = $4 WHERE activity_id = $1 AND rider_id = $2",
      activity_id, rider_id, staff_id, reason);
}

}  // namespace civicpoints::activity
