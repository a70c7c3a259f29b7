// PgServiceRecordStore: the SQL of service records — submitting, reading and listing them, and
// the review, appeal and decision that move their status. Every method runs inside the caller's
// transaction, so the rules (review_rules.h, the checks in service_record_methods.cc) decide
// between a read and a write of one transaction; statuses go to SQL as parameters named from the
// proto's enum. Stateless and thread-safe; a database error is thrown as pqxx's exception, which
// the transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_PG_SERVICE_RECORD_STORE_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_PG_SERVICE_RECORD_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/service_record.pb.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::activity {

class PgServiceRecordStore {
 public:
  // A record as read, with the times the rules need as absl::Time. A verified record carries its
  // award (as a staff member or the rider sees it, per `for_staff`).
  struct Row {
    v1::ServiceRecord proto;
    absl::Time reviewed_at, occur;
  };
  // Errors: INVALID_ARGUMENT when `id` is empty; NOT_FOUND naming it. FOR UPDATE when `lock`.
  absl::StatusOr<Row> Load(pqxx::transaction_base& tx, const std::string& id, bool lock,
                           bool for_staff) const;
  // The rider of the record and the path of the community it was done in; nullopt when missing.
  struct Place {
    std::string rider_id;
    common::v1::OrgPath where;
  };
  std::optional<Place> PlaceOf(pqxx::transaction_base& tx, const std::string& id) const;

  // Listing, newest first: the records under `org_column` ("district_id", "street_id",
  // "community_id"; "''" with an empty org_id for the whole city) = org_id, filtered as the
  // request asks, created in [from_us, to_us), after the page key (0: from the start).
  struct Filter {
    std::string org_column, org_id, rider_id;  // rider_id "" for everyone
    std::vector<int> kinds, statuses;          // empty: any
    int64_t from_us = 0, to_us = 0;
    int64_t after_us = 0;
    std::string after_id;
    int limit = 0;
  };
  std::vector<Row> List(pqxx::transaction_base& tx, const Filter& filter, bool for_staff) const;

  // Submitting. Serializes the rider's submissions until the transaction ends, so the daily limit
  // cannot be raced past; how many they submitted on `day` (Shanghai, YYYY-MM-DD); whether the city
  // system `source_system` already submitted `external_ref`.
  void LockRiderSubmissions(pqxx::transaction_base& tx, const std::string& rider_id) const;
  int SubmittedOn(pqxx::transaction_base& tx, const std::string& rider_id,
                  const std::string& day) const;
  bool ExternalRefTaken(pqxx::transaction_base& tx, const std::string& source_system,
                        const std::string& external_ref) const;
  // Inserts `record` (its id, rider, kind, description, location, address, org path, attachments,
  // source system and external ref) as submitted on `day`, done at `occur`.
  void Insert(pqxx::transaction_base& tx, const v1::ServiceRecord& record, absl::Time occur,
              const std::string& day) const;

  // Moves the record to `status` (verified or rejected) by `reviewer_id` with `note`.
  void MarkReviewed(pqxx::transaction_base& tx, const std::string& id,
                    v1::ServiceRecordStatus status, const std::string& reviewer_id,
                    const std::string& note) const;
  // Records the rider's one appeal, with its evidence.
  void MarkAppealed(pqxx::transaction_base& tx, const std::string& id, const std::string& reason,
                    const google::protobuf::RepeatedPtrField<v1::Attachment>& attachments) const;
  // Records the appeal's decision and the status it leaves the record in.
  void MarkDecided(pqxx::transaction_base& tx, const std::string& id,
                   v1::ServiceRecordStatus status, v1::AppealDecision decision,
                   const std::string& reason, const std::string& decider_id) const;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_PG_SERVICE_RECORD_STORE_H_
