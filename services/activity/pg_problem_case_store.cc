#include "services/activity/pg_problem_case_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/base/ids.h"
#include "common/base/time_units.h"
#include "common/pg/sql_values.h"
#include "services/activity/attachments.h"

namespace civicpoints::activity {

namespace {

using times::FromUs;
using times::SetTime;
using times::Us;

const char kCaseColumns[] =
    "case_id, kind, status, community_id, street_id, district_id, latitude, longitude, address, "
    "description, first_record_id, reporter_id, report_count, department_id, notice_number, "
    "COALESCE(us(deadline), 0), assigned_by, COALESCE(us(assigned_at), 0), outcome, close_note, "
    "after_photo, closed_by, COALESCE(us(closed_at), 0), us(created_at), us(updated_at)";

PgProblemCaseStore::Row ReadRow(const pqxx::row& row, absl::Time now) {
  PgProblemCaseStore::Row out;
  v1::ProblemCase& c = out.proto;
  c.set_case_id(row[0].as<std::string>());
  c.set_kind(static_cast<v1::ServiceRecordKind>(row[1].as<int>()));
  c.set_status(static_cast<v1::ProblemCaseStatus>(row[2].as<int>()));
  c.set_community_id(row[3].as<std::string>());
  c.mutable_org_path()->set_community_id(row[3].as<std::string>());
  c.mutable_org_path()->set_street_id(row[4].as<std::string>());
  c.mutable_org_path()->set_district_id(row[5].as<std::string>());
  c.mutable_location()->set_latitude(row[6].as<double>());
  c.mutable_location()->set_longitude(row[7].as<double>());
  c.set_address(row[8].as<std::string>());
  c.set_description(row[9].as<std::string>());
  c.set_first_record_id(row[10].as<std::string>());
  c.set_reporter_id(row[11].as<std::string>());
  c.set_report_count(row[12].as<int>());
  c.set_department_id(row[13].as<std::string>());
  c.set_notice_number(row[14].as<std::string>());
  const int64_t deadline = row[15].as<int64_t>();
  if (deadline != 0) SetTime(c.mutable_deadline(), deadline);
  c.set_assigned_by(row[16].as<std::string>());
  if (row[17].as<int64_t>() != 0) SetTime(c.mutable_assign_time(), row[17].as<int64_t>());
  c.set_outcome(static_cast<v1::ProblemCaseOutcome>(row[18].as<int>()));
  c.set_close_note(row[19].as<std::string>());
  const std::string photo = pqxx::binarystring(row[20]).str();
  if (!photo.empty()) c.mutable_after_photo()->ParseFromString(photo);
  c.set_closed_by(row[21].as<std::string>());
  if (row[22].as<int64_t>() != 0) SetTime(c.mutable_close_time(), row[22].as<int64_t>());
  SetTime(c.mutable_create_time(), row[23].as<int64_t>());
  SetTime(c.mutable_update_time(), row[24].as<int64_t>());
  const absl::Time due = deadline != 0 ? FromUs(deadline) : absl::InfinitePast();
  c.set_overdue(IsOverdue(c.status(), due, now));
  out.state = CaseState{.status = c.status(),
                        .department_id = c.department_id(),
                        .notice_number = c.notice_number(),
                        .deadline = due,
                        .outcome = c.outcome(),
                        .close_note = c.close_note(),
                        .after_photo_ref = c.after_photo().ref()};
  return out;
}

void AddStep(pqxx::transaction_base& tx, const std::string& case_id, v1::ProblemCaseStepKind kind,
             const std::string& note, const std::string& attachments, const std::string& actor_id,
             const std::string& subject_id) {
  tx.exec_params(
      "INSERT INTO problem_case_steps (case_id, seq, kind, note, attachments, actor_id, "
      "subject_id) SELECT $1, COALESCE(max(seq), 0) + 1, $2, $3, $4, $5, $6 "
      "FROM problem_case_steps WHERE case_id = $1",
      case_id, static_cast<int>(kind), note, pqxx::binarystring(attachments), actor_id, subject_id);
}

}  // namespace

absl::StatusOr<PgProblemCaseStore::Row> PgProblemCaseStore::Load(pqxx::transaction_base& tx,
                                                                 const std::string& id, bool lock,
                                                                 absl::Time now) const {
  if (id.empty()) return absl::InvalidArgumentError("case_id: is required");
  pqxx::result r =
      tx.exec_params(absl::StrCat("SELECT ", kCaseColumns, " FROM problem_cases WHERE case_id = $1",
                                  lock ? " FOR UPDATE" : ""),
                     id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("problem case '", id, "' does not exist"));
  return ReadRow(r[0], now);
}

void PgProblemCaseStore::FillSteps(pqxx::transaction_base& tx, v1::ProblemCase* out) const {
  pqxx::result r = tx.exec_params(
      "SELECT kind, note, attachments, actor_id, subject_id, us(created_at) "
      "FROM problem_case_steps WHERE case_id = $1 ORDER BY seq",
      out->case_id());
  for (const auto& row : r) {
    v1::ProblemCaseStep* step = out->add_steps();
    step->set_kind(static_cast<v1::ProblemCaseStepKind>(row[0].as<int>()));
    step->set_note(row[1].as<std::string>());
    *step->mutable_attachments() = AttachmentsFromBytes(pqxx::binarystring(row[2]).str());
    step->set_actor_id(row[3].as<std::string>());
    step->set_subject_id(row[4].as<std::string>());
    SetTime(step->mutable_create_time(), row[5].as<int64_t>());
  }
}

bool PgProblemCaseStore::Reported(pqxx::transaction_base& tx, const std::string& case_id,
                                  const std::string& rider_id) const {
  return !tx.exec_params(
                "SELECT 1 FROM service_records WHERE problem_case_id = $1 AND "
                "rider_id = $2 LIMIT 1",
                case_id, rider_id)
              .empty();
}

void PgProblemCaseStore::LockKind(pqxx::transaction_base& tx, v1::ServiceRecordKind kind) const {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('problem-case-kind'), $1)",
                 static_cast<int>(kind));
}

std::vector<LinkCandidate> PgProblemCaseStore::Candidates(pqxx::transaction_base& tx,
                                                          v1::ServiceRecordKind kind,
                                                          absl::Time seen) const {
  const int64_t window = absl::ToInt64Microseconds(kCaseLinkWindow);
  pqxx::result r = tx.exec_params(
      "SELECT case_id, latitude, longitude, us(first_seen_at) FROM problem_cases "
      "WHERE kind = $1 AND closed_at IS NULL AND first_seen_at BETWEEN from_us($2) AND "
      "from_us($3) FOR UPDATE",
      static_cast<int>(kind), Us(seen) - window, Us(seen) + window);
  std::vector<LinkCandidate> out;
  for (const auto& row : r) {
    out.push_back({.case_id = row[0].as<std::string>(),
                   .latitude = row[1].as<double>(),
                   .longitude = row[2].as<double>(),
                   .first_seen = FromUs(row[3].as<int64_t>())});
  }
  return out;
}

std::string PgProblemCaseStore::Open(pqxx::transaction_base& tx, const v1::ServiceRecord& record,
                                     absl::Time seen, const std::string& actor_id) const {
  const std::string id = NewId("pc");
  tx.exec_params(
      "INSERT INTO problem_cases (case_id, kind, status, community_id, street_id, district_id, "
      "latitude, longitude, address, description, first_record_id, reporter_id, first_seen_at) "
      "VALUES ($12, $1, problem_case_status('OPEN'), $2, $3, $4, $5, $6, $7, $8, $9, $10, "
      "from_us($11))",
      static_cast<int>(record.kind()), record.org_path().community_id(),
      record.org_path().street_id(), record.org_path().district_id(), record.location().latitude(),
      record.location().longitude(), record.address(), record.description(),
      record.service_record_id(), record.rider_id(), Us(seen), id);
  tx.exec_params("UPDATE service_records SET problem_case_id = $1 WHERE service_record_id = $2", id,
                 record.service_record_id());
  AddStep(tx, id, v1::PROBLEM_CASE_STEP_KIND_OPENED, "", "", actor_id, record.service_record_id());
  return id;
}

void PgProblemCaseStore::Link(pqxx::transaction_base& tx, const std::string& case_id,
                              const std::string& record_id, const std::string& actor_id) const {
  tx.exec_params("UPDATE service_records SET problem_case_id = $1 WHERE service_record_id = $2",
                 case_id, record_id);
  tx.exec_params(
      "UPDATE problem_cases SET report_count = report_count + 1, updated_at = now() "
      "WHERE case_id = $1",
      case_id);
  AddStep(tx, case_id, v1::PROBLEM_CASE_STEP_KIND_REPORT_LINKED, "", "", actor_id, record_id);
}

void PgProblemCaseStore::Assign(pqxx::transaction_base& tx, const std::string& case_id,
                                const std::string& department_id, const std::string& notice_number,
                                absl::Time deadline, const std::string& note,
                                const std::string& actor_id) const {
  tx.exec_params(
      "UPDATE problem_cases SET status = problem_case_status('ASSIGNED'), department_id = $2, "
      "notice_number = $3, deadline = from_us($4), assigned_by = $5, assigned_at = now(), "
      "updated_at = now() WHERE case_id = $1",
      case_id, department_id, notice_number, Us(deadline), actor_id);
  AddStep(tx, case_id, v1::PROBLEM_CASE_STEP_KIND_ASSIGNED, note, "", actor_id, department_id);
}

void PgProblemCaseStore::AddProgress(
    pqxx::transaction_base& tx, const std::string& case_id, const std::string& note,
    const google::protobuf::RepeatedPtrField<v1::Attachment>& attachments,
    const std::string& actor_id) const {
  tx.exec_params("UPDATE problem_cases SET updated_at = now() WHERE case_id = $1", case_id);
  AddStep(tx, case_id, v1::PROBLEM_CASE_STEP_KIND_PROGRESS, note, AttachmentBytes(attachments),
          actor_id, "");
}

void PgProblemCaseStore::Close(pqxx::transaction_base& tx, const std::string& case_id,
                               v1::ProblemCaseOutcome outcome, const std::string& note,
                               const v1::Attachment& after_photo,
                               const std::string& actor_id) const {
  const std::string photo = after_photo.ref().empty() ? "" : after_photo.SerializeAsString();
  tx.exec_params(
      "UPDATE problem_cases SET status = problem_case_status('CLOSED'), outcome = $2, "
      "close_note = $3, after_photo = $4, closed_by = $5, closed_at = now(), updated_at = now() "
      "WHERE case_id = $1",
      case_id, static_cast<int>(outcome), note, pqxx::binarystring(photo), actor_id);
  google::protobuf::RepeatedPtrField<v1::Attachment> photos;
  if (!after_photo.ref().empty()) *photos.Add() = after_photo;
  AddStep(tx, case_id, v1::PROBLEM_CASE_STEP_KIND_CLOSED, note, AttachmentBytes(photos), actor_id,
          "");
}

std::vector<PgProblemCaseStore::Row> PgProblemCaseStore::List(pqxx::transaction_base& tx,
                                                              const Filter& f,
                                                              absl::Time now) const {
  // Every parameter is referenced, so PostgreSQL can type each; the unused filters are no-ops.
  pqxx::result r = tx.exec_params(
      absl::StrCat(
          "SELECT ", kCaseColumns, " FROM problem_cases WHERE ", f.org_column,
          " = $1 AND ($2 = '' OR department_id = $2) AND ($3 = '' OR case_id IN (SELECT "
          "problem_case_id FROM service_records WHERE rider_id = $3 AND problem_case_id IS NOT "
          "NULL)) AND (cardinality($4::smallint[]) = 0 OR status = ANY($4::smallint[])) AND "
          "(NOT $5::boolean OR (status = problem_case_status('ASSIGNED') AND deadline < "
          "from_us($6))) AND ($7::bigint = 0 OR (us(created_at), case_id) < ($7::bigint, $8)) "
          "ORDER BY created_at DESC, case_id DESC LIMIT $9"),
      f.org_id, f.department_id, f.reporter_id, pg::IntArray(f.statuses), f.overdue_only, Us(now),
      f.after_us, f.after_id, f.limit);
  std::vector<Row> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadRow(row, now));
  return out;
}

}  // namespace civicpoints::activity
