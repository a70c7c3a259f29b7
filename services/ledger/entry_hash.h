// The hash of a journal entry, computed in the ledger process exactly as the database's
// entry_hash() computes it (migrations/0006), so entries the ledger writes in sets carry hashes
// that VerifyJournal, which recomputes them in SQL, accepts.
#ifndef CIVICPOINTS_SERVICES_LEDGER_ENTRY_HASH_H_
#define CIVICPOINTS_SERVICES_LEDGER_ENTRY_HASH_H_

#include <string>

#include "civicpoints/ledger/v1/entry.pb.h"

namespace civicpoints::ledger {

// SHA-256 of `entry.prev_hash()` followed by the entry's fields, each as the text PostgreSQL
// prints for the column, prefixed with its length in characters and a colon. The org path is read
// from `entry.org_path()` (empty when unset); times are whole microseconds, as stored; the
// sequence is not hashed. Needs sodium_init() to have run.
std::string EntryHash(const v1::Entry& entry);

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_ENTRY_HASH_H_
