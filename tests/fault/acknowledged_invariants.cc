// What the load driver was answered OK for, looked up in the stores: nothing acknowledged may be
// lost, whatever crashed after the answer.
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/fault/invariant_checks.h"

namespace civicpoints::fault {
namespace {

// Each acknowledged record: its status, its outbox row and its award entries in the journal.
constexpr char kVerifiedRecordsSql[] = R"sql(
SELECT ack.id,
       coalesce(activity.service_record_status_name(r.status), 'missing') AS status,
       coalesce(activity.award_status_name(a.status), 'none') AS outbox_status,
       (SELECT count(*) FROM ledger.entries e
         WHERE e.kind = ledger.entry_kind('AWARD')
           AND e.source_kind = ledger.source_kind('SERVICE_RECORD')
           AND e.source_id = ack.id AND e.person_id = r.rider_id) AS award_entries
  FROM unnest($1::text[]) AS ack (id)
  LEFT JOIN activity.service_records r ON r.service_record_id = ack.id
  LEFT JOIN activity.awards a
    ON a.source_kind = activity.award_source_kind('SERVICE_RECORD') AND a.source_id = ack.id
   AND a.rider_id = r.rider_id
)sql";

// The same for each acknowledged (activity, rider) confirmation.
constexpr char kConfirmedAttendanceSql[] = R"sql(
SELECT ack.activity_id, ack.rider_id,
       coalesce(activity.enrolment_status_name(en.status), 'missing') AS status,
       coalesce(activity.award_status_name(a.status), 'none') AS outbox_status,
       (SELECT count(*) FROM ledger.entries e
         WHERE e.kind = ledger.entry_kind('AWARD')
           AND e.source_kind = ledger.source_kind('ACTIVITY_ATTENDANCE')
           AND e.source_id = ack.activity_id AND e.person_id = ack.rider_id) AS award_entries
  FROM unnest($1::text[], $2::text[]) AS ack (activity_id, rider_id)
  LEFT JOIN activity.enrolments en USING (activity_id, rider_id)
  LEFT JOIN activity.awards a
    ON a.source_kind = activity.award_source_kind('ACTIVITY_ATTENDANCE')
   AND a.source_id = ack.activity_id AND a.rider_id = ack.rider_id
)sql";

constexpr char kRedemptionsSql[] = R"sql(
SELECT ack.id, ack.acknowledged,
       coalesce(rewards.redemption_state_name(r.state), 'missing') AS state
  FROM unnest($1::text[], $2::text[]) AS ack (id, acknowledged)
  LEFT JOIN rewards.redemptions r ON r.redemption_id = ack.id
)sql";

// A source acknowledged as verified or confirmed has its award: an entry in the journal, or an
// outbox row the rider's daily cap left at 0 points. (A source its rules price at nothing has
// no outbox row and fails here: a load driver acknowledges sources that earn points.)
bool HasItsAward(const pqxx::row& row) {
  return row["award_entries"].as<int64_t>() >= 1 ||
         row["outbox_status"].as<std::string>() == "CAPPED";
}

std::string AwardText(const pqxx::row& row) {
  return absl::StrCat("outbox row ", row["outbox_status"].as<std::string>(), ", ",
                      row["award_entries"].as<int64_t>(), " award entries");
}

void CheckVerifiedRecords(pqxx::transaction_base& tx, const std::vector<std::string>& ids,
                          Tally& tally) {
  if (ids.empty()) return;
  for (const pqxx::row& row : tx.exec_params(kVerifiedRecordsSql, SqlTextArray(ids))) {
    const std::string status = row["status"].as<std::string>();
    if (!tally.Holds(status == "VERIFIED" && HasItsAward(row))) {
      tally.Violation("acknowledged",
                      absl::StrCat("service record ", row["id"].as<std::string>(),
                                   " was verified (OK), now ", status, ", ", AwardText(row)));
    }
  }
}

void CheckConfirmedAttendance(pqxx::transaction_base& tx,
                              const std::vector<std::pair<std::string, std::string>>& pairs,
                              Tally& tally) {
  if (pairs.empty()) return;
  std::vector<std::string> activities, riders;
  for (const auto& [activity, rider] : pairs) {
    activities.push_back(activity);
    riders.push_back(rider);
  }
  for (const pqxx::row& row :
       tx.exec_params(kConfirmedAttendanceSql, SqlTextArray(activities), SqlTextArray(riders))) {
    const std::string status = row["status"].as<std::string>();
    if (!tally.Holds(status == "CONFIRMED" && HasItsAward(row))) {
      tally.Violation("acknowledged",
                      absl::StrCat("attendance of rider ", row["rider_id"].as<std::string>(),
                                   " at activity ", row["activity_id"].as<std::string>(),
                                   " was confirmed (OK), now ", status, ", ", AwardText(row)));
    }
  }
}

// The states an order acknowledged in `acknowledged` may have reached since.
std::set<std::string> StatesAtOrPast(const std::string& acknowledged) {
  // An order accepted while the ledger could not hold yet: it must exist; any state will do.
  if (acknowledged == "PENDING") {
    return {"PENDING", "READY", "FULFILLED", "CANCELLED", "EXPIRED", "FAILED"};
  }
  if (acknowledged == "READY") return {"READY", "FULFILLED", "CANCELLED", "EXPIRED"};
  return {acknowledged};  // FULFILLED and CANCELLED are final
}

void CheckRedemptions(pqxx::transaction_base& tx,
                      const std::map<std::string, std::string>& acknowledged, Tally& tally) {
  if (acknowledged.empty()) return;
  std::vector<std::string> ids, states;
  for (const auto& [id, state] : acknowledged) {
    ids.push_back(id);
    states.push_back(state);
  }
  for (const pqxx::row& row :
       tx.exec_params(kRedemptionsSql, SqlTextArray(ids), SqlTextArray(states))) {
    const std::string acked = row["acknowledged"].as<std::string>();
    const std::string state = row["state"].as<std::string>();
    if (!tally.Holds(StatesAtOrPast(acked).count(state) > 0)) {
      tally.Violation("acknowledged", absl::StrCat("redemption ", row["id"].as<std::string>(),
                                                   " was ", acked, " (OK), now ", state));
    }
  }
}

}  // namespace

std::string SqlTextArray(const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  quoted.reserve(values.size());
  for (const std::string& v : values) {
    std::string q = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    quoted.push_back(q + "\"");
  }
  return absl::StrCat("{", absl::StrJoin(quoted, ","), "}");
}

void CheckAcknowledged(pqxx::transaction_base& tx, const Acknowledged& acked, Tally& tally) {
  CheckVerifiedRecords(tx, acked.verified_records, tally);
  CheckConfirmedAttendance(tx, acked.confirmed_attendance, tally);
  CheckRedemptions(tx, acked.redemptions, tally);
}

}  // namespace civicpoints::fault
