#include "services/activity/awards.h"

#include <optional>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "services/activity/award_rules.h"
#include "services/activity/support.h"

namespace civicpoints::activity {

const char kAwardColumns[] =
    "idempotency_key, source_kind, source_id, rider_id, points, points_before_cap, status, "
    "district_id, street_id, community_id, rule_org_id, rule_version, verified_by, "
    "us(created_at), COALESCE(us(awarded_at), 0), ledger_entry_id, attempts, last_error";

void FillAward(const pqxx::row& row, bool for_staff, v1::Award* out) {
  out->set_idempotency_key(row[0].as<std::string>());
  out->set_source_kind(static_cast<v1::AwardSourceKind>(row[1].as<int>()));
  out->set_source_id(row[2].as<std::string>());
  out->set_rider_id(row[3].as<std::string>());
  out->set_points(row[4].as<int64_t>());
  out->set_points_before_cap(row[5].as<int64_t>());
  out->set_status(static_cast<v1::AwardStatus>(row[6].as<int>()));
  out->mutable_rider_org_path()->set_district_id(row[7].as<std::string>());
  out->mutable_rider_org_path()->set_street_id(row[8].as<std::string>());
  out->mutable_rider_org_path()->set_community_id(row[9].as<std::string>());
  out->set_rule_org_id(row[10].as<std::string>());
  out->set_rule_version(row[11].as<int64_t>());
  out->set_verified_by(row[12].as<std::string>());
  SetTime(out->mutable_create_time(), row[13].as<int64_t>());
  if (row[14].as<int64_t>() != 0) SetTime(out->mutable_awarded_time(), row[14].as<int64_t>());
  out->set_ledger_entry_id(row[15].as<std::string>());
  if (for_staff) {
    out->set_attempts(row[16].as<int>());
    out->set_last_error(row[17].as<std::string>());
  }
}

std::string AwardKey(v1::AwardSourceKind kind, const std::string& source_id,
                     const std::string& rider_id) {
  switch (kind) {
    case v1::AWARD_SOURCE_KIND_ACTIVITY_ATTENDANCE:
      return absl::StrCat("activity/", source_id, "/rider/", rider_id);
    case v1::AWARD_SOURCE_KIND_POST_SHIFT:
      return absl::StrCat("post-shift/", source_id);
    case v1::AWARD_SOURCE_KIND_PROBLEM_CASE:
      return absl::StrCat("problem-case/", source_id);
    default:
      return absl::StrCat("service-record/", source_id);
  }
}

std::optional<v1::Award> FindAward(pqxx::transaction_base& tx, v1::AwardSourceKind kind,
                                   const std::string& source_id, const std::string& rider_id,
                                   bool for_staff) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kAwardColumns,
                   " FROM awards WHERE source_kind = $1 AND source_id = $2 AND rider_id = $3"),
      static_cast<int>(kind), source_id, rider_id);
  if (r.empty()) return std::nullopt;
  v1::Award award;
  FillAward(r[0], for_staff, &award);
  return award;
}

absl::StatusOr<v1::Award> CreateAward(pqxx::transaction_base& tx, const AwardSource& source,
                                      const ResolvedRules& caps, absl::Time now) {
  if (std::optional<v1::Award> existing =
          FindAward(tx, source.kind, source.source_id, source.rider_id, true)) {
    return *existing;
  }
  // A source worth nothing earns no award (CAPPED would tell the rider a cap took their points).
  if (source.rule.value <= 0) return v1::Award();
  const std::string day = ShanghaiDay(source.occur);
  // One row per rider and day, locked: two confirmations for one rider at once see each other's
  // points, so together they never exceed the cap.
  tx.exec_params(
      "INSERT INTO rider_days (rider_id, day) VALUES ($1, $2::date) ON CONFLICT DO NOTHING",
      source.rider_id, day);
  pqxx::row earned_row = tx.exec_params1(
      "SELECT points, service_records, post_shifts FROM rider_days "
      "WHERE rider_id = $1 AND day = $2::date FOR UPDATE",
      source.rider_id, day);
  const DayEarned earned{.points = earned_row[0].as<int64_t>(),
                         .service_records = earned_row[1].as<int64_t>(),
                         .post_shifts = earned_row[2].as<int64_t>()};
  const DailyCaps limits{.points = caps.DailyCapPoints().value,
                         .service_records = caps.DailyCapServiceRecords().value,
                         .post_shifts = caps.DailyCapPostShifts().value};
  const CappedAward capped = ApplyDailyCaps(source.kind, source.rule.value, earned, limits);
  tx.exec_params(
      "UPDATE rider_days SET points = $3::bigint, service_records = $4::int, "
      "post_shifts = $5::int WHERE rider_id = $1 AND day = $2::date",
      source.rider_id, day, capped.day_after.points, capped.day_after.service_records,
      capped.day_after.post_shifts);
  pqxx::result r = tx.exec_params(
      absl::StrCat(
          "INSERT INTO awards (idempotency_key, source_kind, source_id, rider_id, points, "
          "points_before_cap, status, district_id, street_id, community_id, rule_org_id, "
          "rule_version, verified_by, occur_at, reason, created_at, next_attempt_at) "
          "VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, $7, $8, $9, $10, $11, $12::bigint, $13, "
          "from_us($14::bigint), $15, from_us($16::bigint), from_us($16::bigint)) RETURNING ",
          kAwardColumns),
      AwardKey(source.kind, source.source_id, source.rider_id), static_cast<int>(source.kind),
      source.source_id, source.rider_id, capped.points, capped.points_before_cap,
      static_cast<int>(capped.status), source.rider_path.district_id(),
      source.rider_path.street_id(), source.rider_path.community_id(), source.rule.org_id,
      source.rule.version, source.verified_by, Us(source.occur), source.reason, Us(now));
  v1::Award award;
  FillAward(r[0], true, &award);
  return award;
}

}  // namespace civicpoints::activity
