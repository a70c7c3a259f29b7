// Awards in sets: the Award and BulkAward calls of one group-commit batch are checked, computed
// and written together in a fixed handful of statements, whatever their number
// (docs/design/ledger-projection.md, "What an award writes"):
//
//   1. the journal's lock taken (PgLedgerStore::LockJournalAndAccounts says why first), then
//      their accounts locked in person order, and opened where new;
//   2. under those locks, one read of the results already stored under their idempotency keys,
//      of earlier unreversed awards of their sources and of the database's clock, which also
//      draws a journal sequence for each award;
//   3. here, in the process: replays and refusals, then each accepted award's entry (balances,
//      account sequence, previous hash and hash, as post_entry() would write them) and its
//      account after it;
//   4. one statement writing the accounts, the entries and the idempotency records; then the
//      commit.
//
// Refusals are decided before anything is written, so a set needs no savepoint per call. A call
// that cannot go beside another of its set (the same key, or an award of the same source to the
// same rider) is run again in the next batch, where it sees the first one committed.
#ifndef CIVICPOINTS_SERVICES_LEDGER_AWARD_SET_H_
#define CIVICPOINTS_SERVICES_LEDGER_AWARD_SET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "services/ledger/group_committer.h"
#include "services/ledger/pg_ledger_store.h"

namespace google::protobuf {
class Message;
}

namespace civicpoints::ledger {

// One Award or BulkAward call, as data for the AwardSetRunner.
struct AwardItem : SetItem {
  std::string caller, method, key;  // the idempotency key and its owner
  bool legacy_keys = false;         // also replay a key stored before keys had callers
  std::string request_hash;
  // The awards, in person order (one for an Award). The call is refused whole if one is refused.
  std::vector<Posting> postings;
  bool bulk = false;  // BulkAward: its response lists every entry and account
  std::string bulk_award_id;
  // Written when the item runs (and reset first), as the item's unit writes them: the response (an
  // AwardResponse, or a BulkAwardResponse) and the sequence of the last entry written (0 if none).
  google::protobuf::Message* response = nullptr;
  int64_t* ranked = nullptr;
};

class AwardSetRunner : public SetRunner {
 public:
  explicit AwardSetRunner(PgLedgerStore* store) : store_(store) {}

  // `items` are AwardItems.
  absl::Status RunSet(pqxx::dbtransaction& tx, const std::vector<SetItem*>& items) override;

 private:
  PgLedgerStore* const store_;
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_AWARD_SET_H_
