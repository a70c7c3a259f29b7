// PgProblemCaseStore: the SQL of problem cases — opening one from a verified report or linking the
// report to an open one, assigning, recording progress, closing, reading and listing (the
// statistics count cases in activity_stats_methods.cc). Every method runs inside the caller's
// transaction; the rules are problem_case_rules.h's. Stateless and thread-safe; a database error is
// thrown as pqxx's exception, which the transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_PG_PROBLEM_CASE_STORE_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_PG_PROBLEM_CASE_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/problem_case.pb.h"
#include "services/activity/problem_case_rules.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::activity {

class PgProblemCaseStore {
 public:
  // A case as read: the proto (without its bonus and history, which the handler adds as the
  // caller may see them) and its state for the rules.
  struct Row {
    v1::ProblemCase proto;
    CaseState state;
  };
  // Errors: INVALID_ARGUMENT when `id` is empty; NOT_FOUND naming it. FOR UPDATE when `lock`.
  // `now` decides `overdue`.
  absl::StatusOr<Row> Load(pqxx::transaction_base& tx, const std::string& id, bool lock,
                           absl::Time now) const;
  // The case's history, oldest first.
  void FillSteps(pqxx::transaction_base& tx, v1::ProblemCase* out) const;
  // Whether `rider_id` made a report linked to the case.
  bool Reported(pqxx::transaction_base& tx, const std::string& case_id,
                const std::string& rider_id) const;

  // Linking. Serializes the openings of cases of `kind` until the transaction ends, so two
  // reports of one problem verified at once make one case; then the cases of `kind` not closed
  // whose problem was seen within the link window of `seen`, locked (a case closed while this
  // waited for its lock is read again and left out, so a report never joins a closed case).
  void LockKind(pqxx::transaction_base& tx, v1::ServiceRecordKind kind) const;
  std::vector<LinkCandidate> Candidates(pqxx::transaction_base& tx, v1::ServiceRecordKind kind,
                                        absl::Time seen) const;
  // Opens a case from the verified `record` (seen at `seen`) as `actor_id`; returns its id.
  std::string Open(pqxx::transaction_base& tx, const v1::ServiceRecord& record, absl::Time seen,
                   const std::string& actor_id) const;
  // Links the verified `record` to case `case_id` as `actor_id`.
  void Link(pqxx::transaction_base& tx, const std::string& case_id, const std::string& record_id,
            const std::string& actor_id) const;

  // Changes, each with its history step.
  void Assign(pqxx::transaction_base& tx, const std::string& case_id,
              const std::string& department_id, const std::string& notice_number,
              absl::Time deadline, const std::string& note, const std::string& actor_id) const;
  void AddProgress(pqxx::transaction_base& tx, const std::string& case_id, const std::string& note,
                   const google::protobuf::RepeatedPtrField<v1::Attachment>& attachments,
                   const std::string& actor_id) const;
  void Close(pqxx::transaction_base& tx, const std::string& case_id, v1::ProblemCaseOutcome outcome,
             const std::string& note, const v1::Attachment& after_photo,
             const std::string& actor_id) const;

  // Listing, newest first: under `org_column` = org_id ("''" and "" for the whole city), or of a
  // department, or of the cases a rider reported; by status; overdue only; after the page key.
  struct Filter {
    std::string org_column = "''", org_id, department_id, reporter_id;
    std::vector<int> statuses;
    bool overdue_only = false;
    int64_t after_us = 0;
    std::string after_id;
    int limit = 0;
  };
  std::vector<Row> List(pqxx::transaction_base& tx, const Filter& filter, absl::Time now) const;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_PG_PROBLEM_CASE_STORE_H_
