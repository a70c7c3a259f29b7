#include "services/activity/pg_service_record_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/base/time_units.h"
#include "services/activity/attachments.h"
#include "services/activity/awards.h"

namespace civicpoints::activity {

namespace {

using times::FromUs;
using times::SetTime;
using times::Us;

const char kRecordColumns[] =
    "service_record_id, rider_id, kind, description, latitude, longitude, address, community_id, "
    "street_id, district_id, us(occur_at), attachments, source_system, external_ref, status, "
    "reviewed_by, review_note, COALESCE(us(reviewed_at), 0), appeal_reason, appeal_attachments, "
    "COALESCE(us(appealed_at), 0), decision, decision_reason, decided_by, "
    "COALESCE(us(decided_at), 0), us(created_at), us(updated_at), COALESCE(problem_case_id, '')";

PgServiceRecordStore::Row ReadRow(pqxx::transaction_base& tx, const pqxx::row& row,
                                  bool for_staff) {
  PgServiceRecordStore::Row out;
  v1::ServiceRecord& r = out.proto;
  r.set_service_record_id(row[0].as<std::string>());
  r.set_rider_id(row[1].as<std::string>());
  r.set_kind(static_cast<v1::ServiceRecordKind>(row[2].as<int>()));
  r.set_description(row[3].as<std::string>());
  r.mutable_location()->set_latitude(row[4].as<double>());
  r.mutable_location()->set_longitude(row[5].as<double>());
  r.set_address(row[6].as<std::string>());
  r.set_community_id(row[7].as<std::string>());
  r.mutable_org_path()->set_community_id(row[7].as<std::string>());
  r.mutable_org_path()->set_street_id(row[8].as<std::string>());
  r.mutable_org_path()->set_district_id(row[9].as<std::string>());
  SetTime(r.mutable_occur_time(), row[10].as<int64_t>());
  out.occur = FromUs(row[10].as<int64_t>());
  *r.mutable_attachments() = AttachmentsFromBytes(pqxx::binarystring(row[11]).str());
  r.set_source_system(row[12].as<std::string>());
  r.set_external_ref(row[13].as<std::string>());
  r.set_status(static_cast<v1::ServiceRecordStatus>(row[14].as<int>()));
  r.set_reviewed_by(row[15].as<std::string>());
  r.set_review_note(row[16].as<std::string>());
  if (row[17].as<int64_t>() != 0) SetTime(r.mutable_review_time(), row[17].as<int64_t>());
  out.reviewed_at = FromUs(row[17].as<int64_t>());
  if (row[20].as<int64_t>() != 0) {
    v1::Appeal* appeal = r.mutable_appeal();
    appeal->set_reason(row[18].as<std::string>());
    *appeal->mutable_attachments() = AttachmentsFromBytes(pqxx::binarystring(row[19]).str());
    SetTime(appeal->mutable_appeal_time(), row[20].as<int64_t>());
    appeal->set_decision(static_cast<v1::AppealDecision>(row[21].as<int>()));
    appeal->set_decision_reason(row[22].as<std::string>());
    appeal->set_decided_by(row[23].as<std::string>());
    if (row[24].as<int64_t>() != 0) SetTime(appeal->mutable_decide_time(), row[24].as<int64_t>());
  }
  SetTime(r.mutable_create_time(), row[25].as<int64_t>());
  SetTime(r.mutable_update_time(), row[26].as<int64_t>());
  r.set_problem_case_id(row[27].as<std::string>());
  if (r.status() == v1::SERVICE_RECORD_STATUS_VERIFIED) {
    if (std::optional<v1::Award> award =
            FindAward(tx, v1::AWARD_SOURCE_KIND_SERVICE_RECORD, r.service_record_id(), r.rider_id(),
                      for_staff)) {
      *r.mutable_award() = *std::move(award);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<PgServiceRecordStore::Row> PgServiceRecordStore::Load(pqxx::transaction_base& tx,
                                                                     const std::string& id,
                                                                     bool lock,
                                                                     bool for_staff) const {
  if (id.empty()) return absl::InvalidArgumentError("service_record_id: is required");
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kRecordColumns, " FROM service_records WHERE service_record_id = $1",
                   lock ? " FOR UPDATE" : ""),
      id);
  if (r.empty()) {
    return absl::NotFoundError(absl::StrCat("service record '", id, "' does not exist"));
  }
  return ReadRow(tx, r[0], for_staff);
}

std::optional<PgServiceRecordStore::Place> PgServiceRecordStore::PlaceOf(
    pqxx::transaction_base& tx, const std::string& id) const {
  pqxx::result r = tx.exec_params(
      "SELECT rider_id, district_id, street_id, community_id FROM service_records "
      "WHERE service_record_id = $1",
      id);
  if (r.empty()) return std::nullopt;
  Place place{.rider_id = r[0][0].as<std::string>()};
  place.where.set_district_id(r[0][1].as<std::string>());
  place.where.set_street_id(r[0][2].as<std::string>());
  place.where.set_community_id(r[0][3].as<std::string>());
  return place;
}

std::vector<PgServiceRecordStore::Row> PgServiceRecordStore::List(pqxx::transaction_base& tx,
                                                                  const Filter& f,
                                                                  bool for_staff) const {
  auto array = [](const std::vector<int>& v) {
    std::string out = "{";
    for (size_t i = 0; i < v.size(); ++i) absl::StrAppend(&out, i ? "," : "", v[i]);
    return out + "}";
  };
  pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT ", kRecordColumns, " FROM service_records WHERE ", f.org_column,
                   " = $1 AND ($2 = '' OR rider_id = $2) AND (cardinality($3::smallint[]) = 0 "
                   "OR kind = ANY($3::smallint[])) AND (cardinality($4::smallint[]) = 0 OR "
                   "status = ANY($4::smallint[])) AND created_at >= from_us($5::bigint) AND "
                   "created_at < from_us($6::bigint) AND ($7::bigint = 0 OR "
                   "(us(created_at), service_record_id) < ($7::bigint, $8)) "
                   "ORDER BY created_at DESC, service_record_id DESC LIMIT $9"),
      f.org_id, f.rider_id, array(f.kinds), array(f.statuses), f.from_us, f.to_us, f.after_us,
      f.after_id, f.limit);
  std::vector<Row> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(ReadRow(tx, row, for_staff));
  return out;
}

void PgServiceRecordStore::LockRiderSubmissions(pqxx::transaction_base& tx,
                                                const std::string& rider_id) const {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", rider_id);
}

int PgServiceRecordStore::SubmittedOn(pqxx::transaction_base& tx, const std::string& rider_id,
                                      const std::string& day) const {
  return tx
      .exec_params1(
          "SELECT count(*) FROM service_records WHERE rider_id = $1 AND submit_day = $2::date",
          rider_id, day)[0]
      .as<int>();
}

bool PgServiceRecordStore::ExternalRefTaken(pqxx::transaction_base& tx,
                                            const std::string& source_system,
                                            const std::string& external_ref) const {
  return !tx.exec_params(
                "SELECT 1 FROM service_records WHERE source_system = $1 AND external_ref = $2",
                source_system, external_ref)
              .empty();
}

void PgServiceRecordStore::Insert(pqxx::transaction_base& tx, const v1::ServiceRecord& r,
                                  absl::Time occur, const std::string& day) const {
  tx.exec_params(
      "INSERT INTO service_records (service_record_id, rider_id, kind, description, "
      "latitude, longitude, address, community_id, street_id, district_id, occur_at, "
      "attachments, source_system, external_ref, status, submit_day) VALUES ($1, $2, $3, "
      "$4, $5::double precision, $6::double precision, $7, $8, $9, $10, "
      "from_us($11::bigint), $12, $13, $14, service_record_status('SUBMITTED'), $15::date)",
      r.service_record_id(), r.rider_id(), static_cast<int>(r.kind()), r.description(),
      r.location().latitude(), r.location().longitude(), r.address(), r.org_path().community_id(),
      r.org_path().street_id(), r.org_path().district_id(), Us(occur),
      pqxx::binarystring(AttachmentBytes(r.attachments())), r.source_system(), r.external_ref(),
      day);
}

void PgServiceRecordStore::MarkReviewed(pqxx::transaction_base& tx, const std::string& id,
                                        v1::ServiceRecordStatus status,
                                        const std::string& reviewer_id,
                                        const std::string& note) const {
  tx.exec_params(
      "UPDATE service_records SET status = $2::smallint, reviewed_by = $3, review_note = $4, "
      "reviewed_at = now(), updated_at = now() WHERE service_record_id = $1",
      id, static_cast<int>(status), reviewer_id, note);
}

void PgServiceRecordStore::MarkAppealed(
    pqxx::transaction_base& tx, const std::string& id, const std::string& reason,
    const google::protobuf::RepeatedPtrField<v1::Attachment>& attachments) const {
  tx.exec_params(
      "UPDATE service_records SET status = service_record_status('APPEALED'), appeal_reason = "
      "$2, appeal_attachments = $3, appealed_at = now(), updated_at = now() "
      "WHERE service_record_id = $1",
      id, reason, pqxx::binarystring(AttachmentBytes(attachments)));
}

void PgServiceRecordStore::MarkDecided(pqxx::transaction_base& tx, const std::string& id,
                                       v1::ServiceRecordStatus status, v1::AppealDecision decision,
                                       const std::string& reason,
                                       const std::string& decider_id) const {
  tx.exec_params(
      "UPDATE service_records SET status = $2::smallint, decision = $3::smallint, "
      "decision_reason = $4, decided_by = $5, decided_at = now(), updated_at = now() "
      "WHERE service_record_id = $1",
      id, static_cast<int>(status), static_cast<int>(decision), reason, decider_id);
}

}  // namespace civicpoints::activity
