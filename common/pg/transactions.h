// Transactions as every service's method bodies use them: a read-write or read-only transaction
// on a pooled connection, and idempotent mutations whose first answer is stored with their key
// (docs/api-conventions.md, "Idempotency").
#ifndef CIVICPOINTS_COMMON_PG_TRANSACTIONS_H_
#define CIVICPOINTS_COMMON_PG_TRANSACTIONS_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/status/refusal.h"

namespace google::protobuf {
class Message;
}
namespace pqxx {
class transaction_base;
}

namespace civicpoints::pg {

class PgPool;

using TxBody = std::function<absl::Status(pqxx::transaction_base&)>;

// Runs `body` in a read-write transaction, committed when it returns OK. Database errors become
// statuses (pg_errors.h); `what` names the work in logs.
absl::Status InTx(PgPool& pool, absl::string_view what, const TxBody& body);
// Runs `fn` once the InTx transaction whose body is running on this thread has committed, and
// never if it rolls back: for wake-ups that must not precede the commit (the event relay's).
// Outside an InTx body it does nothing, so it suits only work a poll would also find.
void AfterCommit(std::function<void()> fn);

// As InTx on a read-only transaction (a replica when the pool has one).
absl::Status InReadTx(PgPool& pool, absl::string_view what, const TxBody& body);

// Commits `body`'s work once per (method, key) in the schema's `idempotency_keys` table: the
// first call's transaction stores `request_hash` and the filled `response` with the work; a
// repeat with the same hash gets the stored response; another hash under the key is answered
// `key_reused` (KeyReused below), and a malformed key INVALID_ARGUMENT
// (text::CheckIdempotencyKey). The key is looked up only after the body, so a repeat's body runs
// and is rolled back: a body must do nothing a rollback does not undo (calls that change other
// services, caches) — pg::AfterCommit is the place for what follows a commit. Two concurrent
// first calls: the later's key insert waits for the earlier's commit and then replays it.
absl::Status RunIdempotent(PgPool& pool, absl::string_view method, const std::string& key,
                           const std::string& request_hash, google::protobuf::Message* response,
                           const TxBody& body, const absl::Status& key_reused);

// What a RunIdempotent body returns to refuse while keeping what it wrote (a wrong guess counted
// toward a limit): the transaction commits, the key is not stored (a retry is judged again), and
// RunIdempotent answers `refusal`.
absl::Status CommitAndRefuse(absl::Status refusal);

// FAILED_PRECONDITION "idempotency_key: was already used with a different request", carrying the
// service's `reason` (its IDEMPOTENCY_KEY_REUSED).
template <typename ReasonEnum>
absl::Status KeyReused(ReasonEnum reason) {
  return Refuse(absl::StatusCode::kFailedPrecondition, reason,
                "idempotency_key: was already used with a different request");
}

}  // namespace civicpoints::pg

#endif  // CIVICPOINTS_COMMON_PG_TRANSACTIONS_H_
