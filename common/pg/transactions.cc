#include "common/pg/transactions.h"

#include <google/protobuf/message.h>

#include <pqxx/pqxx>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "common/base/text.h"
#include "common/pg/pg_pool.h"
#include "common/pg/prepared.h"

namespace civicpoints::pg {
namespace {

// What AfterCommit asked for in the InTx body running on this thread (null outside one). A body
// may run InTx on another pool; each level keeps its own list.
thread_local std::vector<std::function<void()>>* after_commit = nullptr;

// Marks a body's refusal that its transaction commits with (CommitAndRefuse).
constexpr char kCommitAndRefuse[] = "civicpoints.dev/commit-and-refuse";

}  // namespace

absl::Status InTx(PgPool& pool, absl::string_view what, const TxBody& body) {
  std::vector<std::function<void()>> committed;
  std::vector<std::function<void()>>* outer = std::exchange(after_commit, &committed);
  absl::Status s = pool.WithConnection(what, [&](pqxx::connection_base& c) {
    committed.clear();  // a retried attempt starts over
    pqxx::work tx(c);
    absl::Status done = body(tx);
    if (done.ok()) tx.commit();
    return done;
  });
  after_commit = outer;
  if (s.ok()) {
    for (const std::function<void()>& fn : committed) fn();
  }
  return s;
}

void AfterCommit(std::function<void()> fn) {
  if (after_commit != nullptr) after_commit->push_back(std::move(fn));
}

absl::Status InReadTx(PgPool& pool, absl::string_view what, const TxBody& body) {
  return pool.WithReadConnection(what, [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    return body(tx);
  });
}

absl::Status CommitAndRefuse(absl::Status refusal) {
  refusal.SetPayload(kCommitAndRefuse, absl::Cord("1"));
  return refusal;
}

absl::Status RunIdempotent(PgPool& pool, absl::string_view method, const std::string& key,
                           const std::string& request_hash, google::protobuf::Message* response,
                           const TxBody& body, const absl::Status& key_reused) {
  if (absl::Status s = text::CheckIdempotencyKey(key); !s.ok()) return s;
  const std::string m(method);
  for (int attempt = 0;; ++attempt) {
    absl::Status committed_refusal;
    absl::Status s = InTx(pool, m, [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result found = Exec(
          tx, "SELECT request_hash, response FROM idempotency_keys WHERE method = $1 AND key = $2",
          m, key);
      if (!found.empty()) {
        if (pqxx::binarystring(found[0][0]).str() != request_hash) return key_reused;
        if (!response->ParseFromString(pqxx::binarystring(found[0][1]).str())) {
          return absl::DataLossError("stored response does not parse");
        }
        return absl::OkStatus();
      }
      if (absl::Status done = body(tx); !done.ok()) {
        if (!done.GetPayload(kCommitAndRefuse).has_value()) return done;
        done.ErasePayload(kCommitAndRefuse);
        committed_refusal = std::move(done);
        return absl::OkStatus();  // commits what the body wrote, stores no key
      }
      Exec(tx,
           "INSERT INTO idempotency_keys (method, key, request_hash, response) "
           "VALUES ($1, $2, $3, $4)",
           m, key, pqxx::binarystring(request_hash),
           pqxx::binarystring(response->SerializeAsString()));
      return absl::OkStatus();
    });
    if (s.ok() && !committed_refusal.ok()) return committed_refusal;
    if (s.code() != absl::StatusCode::kAlreadyExists || attempt > 0) return s;
    // ALREADY_EXISTS may also be the method's own answer (a duplicate); the retry returns it again.
    response->Clear();
  }
}

}  // namespace civicpoints::pg
