// The books checked from outside after a run with faults: what must hold in the suite's stores
// whatever crashed, and that nothing a caller was told OK for was lost. Read-only: SQL on the
// suite's PostgreSQL (a schema per service), Redis's rankings, and the ledger's VerifyJournal
// through the gateway.
//
//   InvariantReport report = CheckInvariants(stores, acknowledged);
//   for (const std::string& v : report.violations) std::cerr << v << "\n";
#ifndef CIVICPOINTS_TESTS_FAULT_INVARIANTS_H_
#define CIVICPOINTS_TESTS_FAULT_INVARIANTS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace civicpoints::fault {

// Where the suite keeps its state, and a way in for the API checks.
struct SuiteStores {
  std::string pg_url;        // the one database; a schema per service (events' too)
  std::string redis_addr;    // "127.0.0.1:port"
  std::string gateway_addr;  // gRPC face, for VerifyJournal
  std::string admin_token;   // a district admin's access token at the city root
};

// What the load driver was answered OK for.
struct Acknowledged {
  // Service records whose VerifyServiceRecord answered OK.
  std::vector<std::string> verified_records;
  // (activity_id, rider_id) confirmed by a ConfirmAttendance that answered OK.
  std::vector<std::pair<std::string, std::string>> confirmed_attendance;
  // redemption_id → the last state an OK answer showed: "READY" or "PENDING" (CreateRedemption),
  // "FULFILLED" (FulfilRedemption), "CANCELLED" (CancelRedemption).
  std::map<std::string, std::string> redemptions;
};

struct InvariantReport {
  int checks = 0;                       // individual comparisons made
  std::vector<std::string> violations;  // each names its invariant and the row or key
};

// Checks, each violation named:
//  - every VERIFIED service record, confirmed attendance and confirmed duty shift has exactly one
//    award entry in the ledger's journal (and no award entry lacks its source);
//  - for every account, available + held + spent = earned and each equals the sum of its entries;
//    VerifyJournal reports the hash chains intact;
//  - per station and gift, the stock put in equals what is available + reserved by READY orders
//    + fulfilled, and no stock figure is negative;
//  - no ledger hold is HELD for an order that has ended (fulfilled, cancelled, expired, failed),
//    and every order is in a final state or one recovery finishes (no PENDING older than a
//    minute, no intent left);
//  - every ranking in Redis equals the same ranking computed by SQL from the journal;
//  - everything in `acked` is reflected: each verified record has its award, each confirmed
//    attendance its award, each acknowledged redemption a state at or past the one acknowledged.
//  - every event activity and rewards recorded is in the event feed, and the feed announces each
//    award, deduction and reversal of the journal once.
InvariantReport CheckInvariants(const SuiteStores& stores, const Acknowledged& acked);

}  // namespace civicpoints::fault

#endif  // CIVICPOINTS_TESTS_FAULT_INVARIANTS_H_
