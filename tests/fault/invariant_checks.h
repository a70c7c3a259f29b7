// The checks CheckInvariants (invariants.h) runs, one function per family of invariants, each
// reading one consistent snapshot of the suite's database (a read-only repeatable-read
// transaction over every schema) and recording what it compared in a Tally. SQL names every table
// by its schema and every enum value by name (the schemas' enum functions, common/pg/sql_enums.h).
// Internal to cp_fault_invariants; not thread-safe (a Tally belongs to one run).
#ifndef CIVICPOINTS_TESTS_FAULT_INVARIANT_CHECKS_H_
#define CIVICPOINTS_TESTS_FAULT_INVARIANT_CHECKS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tests/fault/invariants.h"

namespace pqxx {
class transaction_base;
}
namespace civicpoints::redis {
class RedisClient;
}

namespace civicpoints::fault {

// Counts comparisons into a report and words its violations as "[invariant] detail".
//
//   if (!tally.Holds(a == b)) tally.Violation("stock", absl::StrCat("station ", id, ": ..."));
class Tally {
 public:
  explicit Tally(InvariantReport* report) : report_(report) {}

  // Counts one comparison; returns `condition`.
  bool Holds(bool condition) {
    ++report_->checks;
    return condition;
  }
  // Counts comparisons SQL made, reporting only those that failed.
  void Count(int64_t comparisons) { report_->checks += static_cast<int>(comparisons); }
  void Violation(absl::string_view invariant, absl::string_view detail) {
    report_->violations.push_back(absl::StrCat("[", invariant, "] ", detail));
  }

 private:
  InvariantReport* report_;
};

// Every VERIFIED service record, CONFIRMED attendance and CONFIRMED duty shift whose outbox award
// (activity.awards) carries points has exactly one AWARD entry in ledger.entries for its source
// and rider, of those points; a source its rule priced at nothing has none; no outbox row is left
// undelivered; no award entry of those source kinds lacks its source.
void CheckAwards(pqxx::transaction_base& tx, Tally& tally);

// Each ledger.accounts row against its entries (available, held, earned, spent, gross earned,
// entry count) and its HELD holds, available + held + spent = earned, and every entry's deltas
// as its kind defines them.
void CheckAccounts(pqxx::transaction_base& tx, Tally& tally);

// VerifyJournal through the gateway, chunk by chunk, as `stores.admin_token`: the hash chains
// must be intact.
void CheckJournalChains(const SuiteStores& stores, Tally& tally);

// Per station and gift: put in (ADD and CORRECTION movements) = available + reserved + fulfilled,
// reserved = the READY orders' items, both figures the sums of their movements, none negative;
// each order's stock movements as its state implies.
void CheckStock(pqxx::transaction_base& tx, Tally& tally);

// rewards.redemptions against ledger.holds (keyed by the redemption id): every order settled (no
// intent left, no PENDING order older than a minute), each hold in the state its order's state
// implies and of the order's points, no hold without its order.
void CheckOrdersAndHolds(pqxx::transaction_base& tx, Tally& tally);

// Every ranking in Redis (cp:rk:{<ranking>}:z and :p) equals the ranking summed from
// ledger.entries by SQL, both ways; the projection's watermark covers the journal; its exclusion
// list and filled seasons match ledger.ranking_exclusions and ledger.seasons.
void CheckRankings(pqxx::transaction_base& tx, redis::RedisClient& redis, Tally& tally);

// What the load driver was told OK for is there: each verified record and confirmed attendance
// still verified / confirmed with its award, each redemption at or past its acknowledged state.
void CheckAcknowledged(pqxx::transaction_base& tx, const Acknowledged& acked, Tally& tally);

// Every event activity and rewards recorded in their outboxes is published and in the feed, and the
// feed holds one ledger event per award, deduction and reversal of the journal
// (event_invariants.cc).
void CheckEvents(pqxx::transaction_base& tx, Tally& tally);

// A PostgreSQL text[] literal of `values`, for passing a list as one parameter ($1::text[]).
std::string SqlTextArray(const std::vector<std::string>& values);

}  // namespace civicpoints::fault

#endif  // CIVICPOINTS_TESTS_FAULT_INVARIANT_CHECKS_H_
