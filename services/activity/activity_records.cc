#include "services/activity/activity_records.h"

#include <optional>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/pg/prepared.h"
#include "services/activity/awards.h"
#include "services/activity/points_rules.h"
#include "services/activity/support.h"

namespace civicpoints::activity {

const char kActivitySelect[] =
    "SELECT a.activity_id, a.title, a.description, a.category, a.place_id, p.name, p.latitude, "
    "p.longitude, a.organiser_org_id, a.district_id, a.street_id, a.community_id, us(a.start_at), "
    "us(a.end_at), us(a.enrol_close_at), a.check_in_lead_minutes, a.capacity, a.enrolled_count, "
    "c.checked_in, c.confirmed, a.points, a.audience, a.check_in_radius_meters, "
    "a.code_period_seconds, a.cancelled_at IS NOT NULL, a.cancel_reason, a.created_by, "
    "us(a.created_at), us(a.updated_at), a.version, a.code_secret, p.check_in_radius_meters, "
    "a.recorded_afterwards, a.sign_in_sheet_ref FROM activities a JOIN places p USING (place_id) "
    "CROSS JOIN LATERAL (SELECT "
    "count(*) FILTER (WHERE e.status IN (enrolment_status('CHECKED_IN'), "
    "enrolment_status('CONFIRMED')))::int AS checked_in, "
    "count(*) FILTER (WHERE e.status = enrolment_status('CONFIRMED'))::int AS confirmed "
    "FROM enrolments e WHERE e.activity_id = a.activity_id) c";

namespace {

// kActivitySelect with the counts' pass over the enrolments replaced by zeros.
const std::string& UncountedSelect() {
  static const std::string kUncounted = [] {
    std::string select = kActivitySelect;
    select.replace(select.find("CROSS JOIN LATERAL"), std::string::npos,
                   "CROSS JOIN (SELECT 0 AS checked_in, 0 AS confirmed) c");
    return select;
  }();
  return kUncounted;
}

}  // namespace

int ActivityRow::radius() const {
  return proto.check_in_radius_meters() > 0 ? proto.check_in_radius_meters() : place_radius;
}

ActivityRow ReadActivity(pqxx::transaction_base& tx, const pqxx::row& row, absl::Time now) {
  ActivityRow a;
  v1::Activity& p = a.proto;
  p.set_activity_id(row[0].as<std::string>());
  p.set_title(row[1].as<std::string>());
  p.set_description(row[2].as<std::string>());
  p.set_category(static_cast<v1::ActivityCategory>(row[3].as<int>()));
  p.set_place_id(row[4].as<std::string>());
  p.set_place_name(row[5].as<std::string>());
  a.place_lat = row[6].as<double>();
  a.place_lon = row[7].as<double>();
  p.mutable_place_location()->set_latitude(a.place_lat);
  p.mutable_place_location()->set_longitude(a.place_lon);
  p.set_organiser_org_id(row[8].as<std::string>());
  p.mutable_org_path()->set_district_id(row[9].as<std::string>());
  p.mutable_org_path()->set_street_id(row[10].as<std::string>());
  p.mutable_org_path()->set_community_id(row[11].as<std::string>());
  SetTime(p.mutable_start_time(), row[12].as<int64_t>());
  SetTime(p.mutable_end_time(), row[13].as<int64_t>());
  SetTime(p.mutable_enrol_close_time(), row[14].as<int64_t>());
  a.start = FromUs(row[12].as<int64_t>());
  a.end = FromUs(row[13].as<int64_t>());
  a.enrol_close = FromUs(row[14].as<int64_t>());
  p.set_check_in_lead_minutes(row[15].as<int>());
  a.check_in_open = a.start - absl::Minutes(p.check_in_lead_minutes());
  SetTime(p.mutable_check_in_window()->mutable_start_time(), Us(a.check_in_open));
  SetTime(p.mutable_check_in_window()->mutable_end_time(), Us(a.end));
  p.set_capacity(row[16].as<int>());
  p.set_enrolled_count(row[17].as<int>());
  p.set_checked_in_count(row[18].as<int>());
  p.set_confirmed_count(row[19].as<int>());
  p.set_points(row[20].as<int64_t>());
  p.set_audience(static_cast<v1::ActivityAudience>(row[21].as<int>()));
  p.set_check_in_radius_meters(row[22].as<int>());
  p.set_check_in_code_period_seconds(row[23].as<int>());
  a.cancelled = row[24].as<bool>();
  p.set_status(a.cancelled    ? v1::ACTIVITY_STATUS_CANCELLED
               : now >= a.end ? v1::ACTIVITY_STATUS_ENDED
                              : v1::ACTIVITY_STATUS_SCHEDULED);
  p.set_cancel_reason(row[25].as<std::string>());
  p.set_created_by(row[26].as<std::string>());
  SetTime(p.mutable_create_time(), row[27].as<int64_t>());
  SetTime(p.mutable_update_time(), row[28].as<int64_t>());
  a.version = row[29].as<int64_t>();
  p.set_etag(absl::StrCat("v", a.version));
  a.code_secret = pqxx::binarystring(row[30]).str();
  a.place_radius = row[31].as<int>();
  a.recorded_afterwards = row[32].as<bool>();
  p.set_recorded_afterwards(a.recorded_afterwards);
  p.set_sign_in_sheet_ref(row[33].as<std::string>());
  a.created = FromUs(row[27].as<int64_t>());
  p.set_effective_points(
      p.points() > 0 ? p.points()
                     : ResolvedRules::Read(tx, p.org_path()).ActivityPoints(p.category()).value);
  return a;
}

absl::Status CheckAudience(const ActivityRow& a, const common::v1::OrgPath& home) {
  if (a.proto.audience() != v1::ACTIVITY_AUDIENCE_CHECKED_IN_RIDERS) return absl::OkStatus();
  const common::v1::OrgPath& p = a.proto.org_path();
  const bool inside = !home.community_id().empty() &&
                      (p.community_id().empty() ? home.street_id() == p.street_id()
                                                : home.community_id() == p.community_id());
  if (inside) return absl::OkStatus();
  return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_AUDIENCE_MISMATCH,
                absl::StrCat("activity ", a.proto.activity_id(), " is for riders checked in at ",
                             a.proto.organiser_org_id()));
}

absl::StatusOr<ActivityRow> LoadActivity(pqxx::transaction_base& tx, const std::string& id,
                                         bool lock, absl::Time now) {
  return LoadActivity(tx, id, lock ? ActivityLock::kUpdate : ActivityLock::kNone, now);
}

absl::StatusOr<ActivityRow> LoadActivity(pqxx::transaction_base& tx, const std::string& id,
                                         ActivityLock lock, absl::Time now, ActivityCounts counts) {
  if (id.empty()) return absl::InvalidArgumentError("activity_id: is required");
  const char* clause = lock == ActivityLock::kUpdate  ? " FOR UPDATE OF a"
                       : lock == ActivityLock::kShare ? " FOR SHARE OF a"
                                                      : "";
  pqxx::result r =
      pg::Exec(tx,
               absl::StrCat(counts == ActivityCounts::kCounted ? std::string(kActivitySelect)
                                                               : UncountedSelect(),
                            " WHERE a.activity_id = $1", clause),
               id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("activity '", id, "' does not exist"));
  return ReadActivity(tx, r[0], now);
}

const char kEnrolmentColumns[] =
    "activity_id, rider_id, status, us(enrolled_at), COALESCE(us(withdrawn_at), 0), "
    "COALESCE(us(checked_in_at), 0), check_in_method, checked_in_by, check_in_distance_m, "
    "COALESCE(us(reviewed_at), 0), reviewed_by, reject_reason";

void FillEnrolment(pqxx::transaction_base& tx, const pqxx::row& row, bool for_staff,
                   v1::Enrolment* out) {
  out->set_activity_id(row[0].as<std::string>());
  out->set_rider_id(row[1].as<std::string>());
  out->set_status(static_cast<v1::EnrolmentStatus>(row[2].as<int>()));
  SetTime(out->mutable_enrol_time(), row[3].as<int64_t>());
  if (row[4].as<int64_t>() != 0) SetTime(out->mutable_withdraw_time(), row[4].as<int64_t>());
  if (row[5].as<int64_t>() != 0) SetTime(out->mutable_check_in_time(), row[5].as<int64_t>());
  out->set_check_in_method(static_cast<v1::CheckInMethod>(row[6].as<int>()));
  out->set_checked_in_by(row[7].as<std::string>());
  out->set_check_in_distance_meters(row[8].as<int>());
  if (row[9].as<int64_t>() != 0) SetTime(out->mutable_review_time(), row[9].as<int64_t>());
  out->set_reviewed_by(row[10].as<std::string>());
  out->set_reject_reason(row[11].as<std::string>());
  if (out->status() == v1::ENROLMENT_STATUS_CONFIRMED) {
    if (std::optional<v1::Award> award =
            FindAward(tx, v1::AWARD_SOURCE_KIND_ACTIVITY_ATTENDANCE, out->activity_id(),
                      out->rider_id(), for_staff)) {
      *out->mutable_award() = *std::move(award);
    }
  }
}

std::optional<v1::Enrolment> LoadEnrolment(pqxx::transaction_base& tx,
                                           const std::string& activity_id, const std::string& rider,
                                           bool lock, bool for_staff) {
  pqxx::result r =
      pg::Exec(tx,
               absl::StrCat("SELECT ", kEnrolmentColumns,
                            " FROM enrolments WHERE activity_id = $1 AND rider_id = $2",
                            lock ? " FOR UPDATE" : ""),
               activity_id, rider);
  if (r.empty()) return std::nullopt;
  v1::Enrolment e;
  FillEnrolment(tx, r[0], for_staff, &e);
  return e;
}

absl::StatusOr<CheckInRead> LoadForCheckIn(pqxx::transaction_base& tx, const std::string& id,
                                           const std::string& rider,
                                           const pg::Throttle::Limit& code_limit, absl::Time now) {
  if (id.empty()) return absl::InvalidArgumentError("activity_id: is required");
  // The CTE with its lock is read first, then the lateral enrolment per activity row: the
  // activity's share lock is taken before the enrolment's, as in Enrol and the staff paths. The
  // throttle's columns read the bucket as of this statement's start, after its lock was taken.
  const std::string statement = absl::StrCat(
      "WITH act AS (", UncountedSelect(), " WHERE a.activity_id = $1 FOR SHARE OF a) SELECT ",
      pg::Throttle::RecentColumns(code_limit, 3),
      ", act.*, e.* FROM act LEFT JOIN LATERAL (SELECT ", kEnrolmentColumns,
      " FROM enrolments WHERE activity_id = $1 AND rider_id = $2 FOR UPDATE) e ON true");
  pqxx::result r = pg::Exec(tx, statement, id, rider, code_limit.bucket,
                            pg::Throttle::WindowStartUs(code_limit, now));
  if (r.empty()) return absl::NotFoundError(absl::StrCat("activity '", id, "' does not exist"));
  const pqxx::row& row = r[0];
  constexpr pqxx::row::size_type kFirst = 2;             // after the throttle's two columns
  constexpr pqxx::row::size_type kActivityColumns = 34;  // kActivitySelect's, ReadActivity's
  CheckInRead out{pg::Throttle::WaitFromColumns(code_limit, row, now),
                  ReadActivity(tx, row.slice(kFirst, kFirst + kActivityColumns), now),
                  std::nullopt};
  if (!row[kFirst + kActivityColumns].is_null()) {
    FillEnrolment(tx, row.slice(kFirst + kActivityColumns, row.size()), false,
                  &out.enrolment.emplace());
  } else {
    // The statement's snapshot predates any wait for the activity's lock, so an enrolment that
    // the lock's holder (Enrol, a staff walk-in) inserted is not in it: read again to be sure.
    out.enrolment = LoadEnrolment(tx, id, rider, true, false);
  }
  return out;
}

void InsertActivityRow(pqxx::transaction_base& tx, const v1::Activity& a,
                       const std::string& organiser_id, const common::v1::OrgPath& path,
                       const std::string& code_secret, const std::string& creator_id) {
  tx.exec_params(
      "INSERT INTO activities (activity_id, title, description, category, place_id, "
      "organiser_org_id, district_id, street_id, community_id, start_at, end_at, "
      "enrol_close_at, check_in_lead_minutes, capacity, points, audience, "
      "check_in_radius_meters, code_period_seconds, code_secret, created_by) VALUES ($1, "
      "$2, $3, $4, $5, $6, $7, $8, $9, from_us($10::bigint), from_us($11::bigint), "
      "from_us($12::bigint), $13, $14, $15::bigint, $16, $17, $18, $19, $20)",
      a.activity_id(), a.title(), a.description(), static_cast<int>(a.category()), a.place_id(),
      organiser_id, path.district_id(), path.street_id(), path.community_id(),
      Us(TimeOf(a.start_time())), Us(TimeOf(a.end_time())), Us(TimeOf(a.enrol_close_time())),
      a.check_in_lead_minutes(), a.capacity(), a.points(), static_cast<int>(a.audience()),
      a.check_in_radius_meters(), a.check_in_code_period_seconds(), pqxx::binarystring(code_secret),
      creator_id);
}

void UpdateActivityRow(pqxx::transaction_base& tx, const v1::Activity& a) {
  tx.exec_params(
      "UPDATE activities SET title = $2, description = $3, category = $4, place_id = $5, "
      "start_at = from_us($6::bigint), end_at = from_us($7::bigint), "
      "enrol_close_at = from_us($8::bigint), check_in_lead_minutes = $9, capacity = $10, "
      "points = $11::bigint, audience = $12, check_in_radius_meters = $13, "
      "code_period_seconds = $14, version = version + 1, updated_at = now() "
      "WHERE activity_id = $1",
      a.activity_id(), a.title(), a.description(), static_cast<int>(a.category()), a.place_id(),
      Us(TimeOf(a.start_time())), Us(TimeOf(a.end_time())), Us(TimeOf(a.enrol_close_time())),
      a.check_in_lead_minutes(), a.capacity(), a.points(), static_cast<int>(a.audience()),
      a.check_in_radius_meters(), a.check_in_code_period_seconds());
}

}  // namespace civicpoints::activity
