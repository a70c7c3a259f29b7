#include "common/pg/transactions.h"

#include <google/protobuf/message.h>

#include <optional>
#include <pqxx/pqxx>
#include <string>
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

namespace {

// What is stored under a key.
struct StoredAnswer {
  std::string request_hash;
  std::string response;
};

std::optional<StoredAnswer> ReadKey(pqxx::transaction_base& tx, const std::string& method,
                                    const std::string& key) {
  pqxx::result found =
      Exec(tx, "SELECT request_hash, response FROM idempotency_keys WHERE method = $1 AND key = $2",
           method, key);
  if (found.empty()) return std::nullopt;
  return StoredAnswer{pqxx::binarystring(found[0][0]).str(), pqxx::binarystring(found[0][1]).str()};
}

// Rolls back a body that ran for a key already answered (the status itself is never returned).
constexpr char kAnsweredBefore[] = "civicpoints.dev/answered-before";
absl::Status AnsweredBefore() {
  absl::Status s = absl::AbortedError("the key was answered before");
  s.SetPayload(kAnsweredBefore, absl::Cord("1"));
  return s;
}

}  // namespace

absl::Status RunIdempotent(PgPool& pool, absl::string_view method, const std::string& key,
                           const std::string& request_hash, google::protobuf::Message* response,
                           const TxBody& body, const absl::Status& key_reused) {
  if (absl::Status s = text::CheckIdempotencyKey(key); !s.ok()) return s;
  const std::string m(method);
  // The body runs first and the key is written after it, so a fresh key (nearly every call)
  // costs no read. A key answered before shows as the insert's conflict, or as a refusal the
  // key explains (a repeat finds its own work done); either way the transaction rolls back and
  // the stored answer is given. A conflict with a concurrent first call waits for its commit.
  std::optional<StoredAnswer> stored;
  absl::Status committed_refusal;
  bool key_read = false;
  bool replay = false;
  absl::Status s = InTx(pool, m, [&](pqxx::transaction_base& tx) -> absl::Status {
    stored.reset();
    committed_refusal = absl::OkStatus();
    key_read = replay = false;
    absl::Status done = body(tx);
    if (done.ok()) {
      pqxx::result inserted =
          Exec(tx,
               "INSERT INTO idempotency_keys (method, key, request_hash, response) "
               "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1",
               m, key, pqxx::binarystring(request_hash),
               pqxx::binarystring(response->SerializeAsString()));
      if (!inserted.empty()) return absl::OkStatus();
      stored = ReadKey(tx, m, key);  // committed: the conflict waited for it
      key_read = replay = true;
      return AnsweredBefore();
    }
    try {
      stored = ReadKey(tx, m, key);
    } catch (const pqxx::sql_error&) {
      return done;  // the body left its transaction failed; the key is read afresh below
    }
    key_read = true;
    const bool counted = done.GetPayload(kCommitAndRefuse).has_value();
    if (stored.has_value()) {
      replay = true;
      // What a refusal counted (a wrong guess) is committed even under a key answered before,
      // or an old key would let guesses go uncounted; the answer is the key's either way.
      return counted ? absl::OkStatus() : AnsweredBefore();
    }
    if (!counted) return done;
    done.ErasePayload(kCommitAndRefuse);
    committed_refusal = std::move(done);
    return absl::OkStatus();  // commits what the body wrote, stores no key
  });
  // A counted refusal under an answered key whose commit failed: the count is not kept.
  if (replay && !s.ok() && !s.GetPayload(kAnsweredBefore).has_value()) return s;
  if (!replay) {
    if (s.ok()) return committed_refusal;
    if (key_read) return s;
    // The body failed with a database error (a repeat inserting what its first call did): the
    // key, read afresh, may explain it.
    absl::Status read = InTx(pool, m, [&](pqxx::transaction_base& tx) {
      stored = ReadKey(tx, m, key);
      return absl::OkStatus();
    });
    if (!read.ok() || !stored.has_value()) return s;
  }
  if (!stored.has_value()) {
    // The insert met the key, which expired (the 7-day sweep) before it could be read.
    return absl::AbortedError("idempotency_key: its record expired during this call; retry");
  }
  if (stored->request_hash != request_hash) return key_reused;
  response->Clear();
  if (!response->ParseFromString(stored->response)) {
    return absl::DataLossError("stored response does not parse");
  }
  return absl::OkStatus();
}

}  // namespace civicpoints::pg
