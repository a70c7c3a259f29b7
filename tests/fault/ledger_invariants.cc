// The ledger's books: each account's figures against its journal and its holds, each entry's
// deltas against its kind, and the hash chains through VerifyJournal.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/str_cat.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "tests/fault/invariant_checks.h"

namespace civicpoints::fault {
namespace {

namespace lv1 = ::civicpoints::ledger::v1;

// Each account beside the sums of its entries and of its HELD holds. Spent is what captures took
// (held → spent) and gross earned what awards gave, as post_entry (ledger migration 0002) keeps
// them.
constexpr char kAccountsSql[] = R"sql(
WITH journal AS (
  SELECT person_id,
         sum(available_delta)::bigint AS available, sum(held_delta)::bigint AS held,
         sum(earned_delta)::bigint AS earned,
         coalesce(sum(amount) FILTER (WHERE kind = ledger.entry_kind('CAPTURE')), 0)::bigint
           AS spent,
         coalesce(sum(amount) FILTER (WHERE kind = ledger.entry_kind('AWARD')), 0)::bigint
           AS gross_earned,
         count(*) AS entries, max(account_sequence) AS last_account_sequence
    FROM ledger.entries
   GROUP BY person_id
),
holding AS (
  SELECT person_id, sum(amount)::bigint AS held
    FROM ledger.holds
   WHERE state = ledger.hold_state('HELD')
   GROUP BY person_id
)
SELECT a.person_id, a.available, a.held, a.spent, a.earned, a.gross_earned, a.entry_count,
       coalesce(j.available, 0) AS journal_available, coalesce(j.held, 0) AS journal_held,
       coalesce(j.earned, 0) AS journal_earned, coalesce(j.spent, 0) AS journal_spent,
       coalesce(j.gross_earned, 0) AS journal_gross_earned,
       coalesce(j.entries, 0) AS journal_entries,
       coalesce(j.last_account_sequence, 0) AS last_account_sequence,
       coalesce(h.held, 0) AS held_by_holds
  FROM ledger.accounts a
  LEFT JOIN journal j USING (person_id)
  LEFT JOIN holding h USING (person_id)
 ORDER BY a.person_id
)sql";

// Entries whose (available, held, earned) deltas are not their kind's multiples of the amount
// (ledger/v1/entry.proto, EntryKind), and how many entries were looked at.
constexpr char kEntryDeltasSql[] = R"sql(
WITH rule (kind, available, held, earned) AS (VALUES
  (ledger.entry_kind('AWARD'), 1, 0, 1),
  (ledger.entry_kind('DEDUCT'), -1, 0, -1),
  (ledger.entry_kind('HOLD'), -1, 1, 0),
  (ledger.entry_kind('CAPTURE'), 0, -1, 0),
  (ledger.entry_kind('RELEASE'), 1, -1, 0),
  (ledger.entry_kind('REVERSAL'), -1, 0, -1))
SELECT e.sequence, e.person_id, coalesce(ledger.entry_kind_name(e.kind), e.kind::text) AS kind,
       e.amount, e.available_delta, e.held_delta, e.earned_delta,
       count(*) OVER () AS entries
  FROM ledger.entries e
  LEFT JOIN rule r ON r.kind = e.kind
 WHERE r.kind IS NULL
    OR (e.available_delta, e.held_delta, e.earned_delta)
       IS DISTINCT FROM (r.available * e.amount, r.held * e.amount, r.earned * e.amount)
)sql";

// One figure of an account against what should equal it.
void CheckFigure(const std::string& person, const char* what, int64_t stored, const char* source,
                 int64_t derived, Tally& tally) {
  if (!tally.Holds(stored == derived)) {
    tally.Violation("balances", absl::StrCat("account ", person, ": ", what, " is ", stored,
                                             ", but ", source, " gives ", derived));
  }
}

void CheckAccountRow(const pqxx::row& row, Tally& tally) {
  const std::string person = row["person_id"].as<std::string>();
  const int64_t available = row["available"].as<int64_t>();
  const int64_t held = row["held"].as<int64_t>();
  const int64_t spent = row["spent"].as<int64_t>();
  const int64_t earned = row["earned"].as<int64_t>();
  if (!tally.Holds(available + held + spent == earned)) {
    tally.Violation("balances",
                    absl::StrCat("account ", person, ": available ", available, " + held ", held,
                                 " + spent ", spent, " != earned ", earned));
  }
  if (!tally.Holds(available >= 0 && held >= 0 && spent >= 0 && earned >= 0)) {
    tally.Violation("balances", absl::StrCat("account ", person, " has a negative figure"));
  }
  const char* kEntries = "the sum of its entries";
  CheckFigure(person, "available", available, kEntries, row["journal_available"].as<int64_t>(),
              tally);
  CheckFigure(person, "held", held, kEntries, row["journal_held"].as<int64_t>(), tally);
  CheckFigure(person, "earned", earned, kEntries, row["journal_earned"].as<int64_t>(), tally);
  CheckFigure(person, "spent", spent, "the sum of its captures", row["journal_spent"].as<int64_t>(),
              tally);
  CheckFigure(person, "gross_earned", row["gross_earned"].as<int64_t>(), "the sum of its awards",
              row["journal_gross_earned"].as<int64_t>(), tally);
  CheckFigure(person, "entry_count", row["entry_count"].as<int64_t>(), "its entries",
              row["journal_entries"].as<int64_t>(), tally);
  // A chain without gaps: the last account_sequence is the number of entries.
  CheckFigure(person, "entry_count", row["entry_count"].as<int64_t>(), "its last account_sequence",
              row["last_account_sequence"].as<int64_t>(), tally);
  CheckFigure(person, "held", held, "the sum of its HELD holds", row["held_by_holds"].as<int64_t>(),
              tally);
}

void CheckEntryDeltas(pqxx::transaction_base& tx, Tally& tally) {
  const pqxx::result wrong = tx.exec(kEntryDeltasSql);
  if (wrong.empty()) {
    tally.Count(tx.exec1("SELECT count(*) FROM ledger.entries")[0].as<int64_t>());
    return;
  }
  tally.Count(wrong[0]["entries"].as<int64_t>());
  for (const pqxx::row& row : wrong) {
    tally.Violation("balances",
                    absl::StrCat("entry ", row["sequence"].as<std::string>(), " of ",
                                 row["person_id"].as<std::string>(), ": a ",
                                 row["kind"].as<std::string>(), " of ", row["amount"].as<int64_t>(),
                                 " moves available ", row["available_delta"].as<int64_t>(),
                                 ", held ", row["held_delta"].as<int64_t>(), ", earned ",
                                 row["earned_delta"].as<int64_t>()));
  }
}

}  // namespace

void CheckAccounts(pqxx::transaction_base& tx, Tally& tally) {
  for (const pqxx::row& row : tx.exec(kAccountsSql)) CheckAccountRow(row, tally);
  CheckEntryDeltas(tx, tally);
}

void CheckJournalChains(const SuiteStores& stores, Tally& tally) {
  auto stub = lv1::LedgerService::NewStub(
      grpc::CreateChannel(stores.gateway_addr, grpc::InsecureChannelCredentials()));
  lv1::VerifyJournalRequest req;
  req.set_max_entries(1000000);
  // Chunk by chunk (next_start_sequence) until the end of the journal or the first break.
  while (true) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + stores.admin_token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
    lv1::VerifyJournalResponse resp;
    const grpc::Status s = stub->VerifyJournal(&ctx, req, &resp);
    if (!tally.Holds(s.ok())) {
      tally.Violation("journal", absl::StrCat("VerifyJournal from sequence ", req.start_sequence(),
                                              " failed: ", s.error_code(), " ", s.error_message()));
      return;
    }
    if (!tally.Holds(resp.intact())) {
      const lv1::JournalBreak& b = resp.first_break();
      tally.Violation("journal",
                      absl::StrCat("VerifyJournal: chain of ", b.person_id(), " broken at entry ",
                                   b.entry_id(), " (", lv1::JournalBreakKind_Name(b.kind()), "): ",
                                   b.detail(), "; expected ", b.expected(), ", found ", b.found()));
      return;
    }
    if (resp.next_start_sequence() == 0) return;
    req.set_start_sequence(resp.next_start_sequence());
  }
}

}  // namespace civicpoints::fault
