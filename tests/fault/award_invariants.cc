// Awards: what activity confirmed against what the ledger's journal credited.
//
// A source (a verified record, a confirmed attendance, a confirmed shift) gets its outbox row in
// activity.awards in the confirming transaction (services/activity/awards.cc): with the points
// its rule gave after the rider's daily caps, or CAPPED at 0 points, or no row at all when its
// rule priced it at nothing. The relay then delivers each row with points to the ledger, which
// keeps one AWARD entry per (source kind, source id, rider). Activity's AwardSourceKind and the
// ledger's SourceKind spell those three kinds alike, so the two sides are joined by name.
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/fault/invariant_checks.h"

namespace civicpoints::fault {
namespace {

// One row per (kind, source, rider) found on any side: the source if verified or confirmed, its
// outbox row, and its award entries in the journal (with how many were since reversed).
constexpr char kAwardSidesSql[] = R"sql(
WITH sources AS (
  SELECT 'SERVICE_RECORD' AS kind, service_record_id AS source_id, rider_id,
         0::bigint AS activity_points
    FROM activity.service_records
   WHERE status = activity.service_record_status('VERIFIED')
  UNION ALL
  SELECT 'ACTIVITY_ATTENDANCE', e.activity_id, e.rider_id, a.points
    FROM activity.enrolments e JOIN activity.activities a USING (activity_id)
   WHERE e.status = activity.enrolment_status('CONFIRMED')
  UNION ALL
  SELECT 'POST_SHIFT', shift_id, rider_id, 0
    FROM activity.duty_shifts
   WHERE status = activity.duty_shift_status('CONFIRMED')
),
outbox AS (
  SELECT activity.award_source_kind_name(source_kind) AS kind, source_id, rider_id, points,
         activity.award_status_name(status) AS outbox_status
    FROM activity.awards
),
journal AS (
  SELECT ledger.source_kind_name(e.source_kind) AS kind, e.source_id, e.person_id AS rider_id,
         count(*) AS award_entries, count(r.sequence) AS reversed,
         min(e.amount) AS amount
    FROM ledger.entries e
    LEFT JOIN ledger.entries r
      ON r.kind = ledger.entry_kind('REVERSAL') AND r.reversed_entry_id = e.sequence::text
   WHERE e.kind = ledger.entry_kind('AWARD')
     AND e.source_kind IN (ledger.source_kind('SERVICE_RECORD'),
                           ledger.source_kind('ACTIVITY_ATTENDANCE'),
                           ledger.source_kind('POST_SHIFT'))
   GROUP BY 1, 2, 3
)
SELECT kind, source_id, rider_id,
       s.source_id IS NOT NULL AS has_source, coalesce(s.activity_points, 0) AS activity_points,
       o.source_id IS NOT NULL AS has_outbox, coalesce(o.points, 0) AS outbox_points,
       coalesce(o.outbox_status, '') AS outbox_status,
       coalesce(j.award_entries, 0) AS award_entries, coalesce(j.reversed, 0) AS reversed,
       coalesce(j.amount, 0) AS amount
  FROM sources s
  FULL JOIN outbox o USING (kind, source_id, rider_id)
  FULL JOIN journal j USING (kind, source_id, rider_id)
 ORDER BY kind, source_id, rider_id
)sql";

struct AwardSides {
  std::string kind, source_id, rider_id;
  bool has_source = false;
  int64_t activity_points = 0;  // an attendance's activity's own price (0: its rules price it)
  bool has_outbox = false;
  int64_t outbox_points = 0;
  std::string outbox_status;
  int64_t award_entries = 0, reversed = 0;
  int64_t amount = 0;  // of the (first) award entry
};

AwardSides ReadSides(const pqxx::row& row) {
  return AwardSides{.kind = row["kind"].as<std::string>(),
                    .source_id = row["source_id"].as<std::string>(),
                    .rider_id = row["rider_id"].as<std::string>(),
                    .has_source = row["has_source"].as<bool>(),
                    .activity_points = row["activity_points"].as<int64_t>(),
                    .has_outbox = row["has_outbox"].as<bool>(),
                    .outbox_points = row["outbox_points"].as<int64_t>(),
                    .outbox_status = row["outbox_status"].as<std::string>(),
                    .award_entries = row["award_entries"].as<int64_t>(),
                    .reversed = row["reversed"].as<int64_t>(),
                    .amount = row["amount"].as<int64_t>()};
}

// "service record sr_1 of rider p_2", "attendance of rider p_2 at activity a_3", ...
std::string Describe(const AwardSides& s) {
  if (s.kind == "SERVICE_RECORD") {
    return absl::StrCat("service record ", s.source_id, " of rider ", s.rider_id);
  }
  if (s.kind == "ACTIVITY_ATTENDANCE") {
    return absl::StrCat("attendance of rider ", s.rider_id, " at activity ", s.source_id);
  }
  return absl::StrCat("duty shift ", s.source_id, " of rider ", s.rider_id);
}

std::string OutboxText(const AwardSides& s) {
  if (!s.has_outbox) return "no outbox row";
  return absl::StrCat("outbox row ", s.outbox_status, " with ", s.outbox_points, " points");
}

// An outbox row or an award entry must belong to a source that is verified or confirmed.
void CheckHasSource(const AwardSides& s, Tally& tally) {
  if (tally.Holds(s.has_source)) return;
  if (s.has_outbox) {
    tally.Violation("awards", absl::StrCat(Describe(s), " is not verified/confirmed, yet has an ",
                                           OutboxText(s)));
  }
  if (s.award_entries > 0) {
    tally.Violation("awards", absl::StrCat(Describe(s),
                                           " does not exist or is not "
                                           "verified/confirmed, yet the journal has ",
                                           s.award_entries, " award entries for it"));
  }
}

// A confirmed attendance at an activity that names its own price always earns an outbox row (at
// least CAPPED); a record or shift priced by rules may rightly have none (a rule of 0 points).
void CheckOutboxRowExists(const AwardSides& s, Tally& tally) {
  if (!s.has_source) return;
  const bool needs_row = s.kind == "ACTIVITY_ATTENDANCE" && s.activity_points > 0;
  if (!tally.Holds(s.has_outbox || !needs_row)) {
    tally.Violation("awards", absl::StrCat(Describe(s),
                                           " has no outbox award although its "
                                           "activity gives ",
                                           s.activity_points, " points"));
  }
}

// Exactly one award entry for an outbox row with points, none otherwise; of the row's points.
void CheckJournalHasTheAward(const AwardSides& s, Tally& tally) {
  if (!s.has_source) return;
  const int64_t expected = s.has_outbox && s.outbox_points > 0 ? 1 : 0;
  if (!tally.Holds(s.award_entries == expected)) {
    tally.Violation(
        "awards",
        absl::StrCat(Describe(s), ": ", s.award_entries, " award entries in the journal (",
                     s.reversed, " reversed), expected ", expected, " (", OutboxText(s), ")"));
    return;
  }
  if (expected == 1 && !tally.Holds(s.amount == s.outbox_points)) {
    tally.Violation("awards", absl::StrCat(Describe(s), ": the award entry is of ", s.amount,
                                           " points, the outbox row of ", s.outbox_points));
  }
}

// The caller settled before checking: the relay has delivered every row with points.
void CheckOutboxDrained(const AwardSides& s, Tally& tally) {
  if (!s.has_outbox) return;
  if (!tally.Holds(s.outbox_status == "AWARDED" || s.outbox_status == "CAPPED")) {
    tally.Violation("awards", absl::StrCat(Describe(s), ": ", OutboxText(s),
                                           " after settling (the relay did not deliver it)"));
  }
}

}  // namespace

void CheckAwards(pqxx::transaction_base& tx, Tally& tally) {
  for (const pqxx::row& row : tx.exec(kAwardSidesSql)) {
    const AwardSides s = ReadSides(row);
    CheckHasSource(s, tally);
    CheckOutboxRowExists(s, tally);
    CheckJournalHasTheAward(s, tally);
    CheckOutboxDrained(s, tally);
  }
}

}  // namespace civicpoints::fault
