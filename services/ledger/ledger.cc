// Ledger: construction, the idempotent-mutation plumbing (Mutate) every area's mutations run
// through, read-your-writes for rankings (SettleRankings) and the background loop. The areas live
// beside it: ledger_postings.cc, ledger_holds.cc, ledger_statements.cc, ledger_rankings.cc and
// ledger_seasons.cc.
#include "services/ledger/ledger.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"
#include "civicpoints/ledger/v1/errors.pb.h"
#include "common/log/log.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"
#include "services/ledger/award_set.h"
#include "services/ledger/group_committer.h"
#include "services/ledger/ledger_support.h"
#include "services/ledger/pg_ledger_store.h"

namespace civicpoints::ledger {

namespace gp = ::google::protobuf;
using support::RequestHash;

Ledger::Ledger(PgLedgerStore* store, GroupCommitter* committer, RankingProjection* projection,
               RankingProjector* projector, absl::Duration top_ranking_cache_ttl)
    : store_(store),
      committer_(committer),
      projection_(projection),
      projector_(projector),
      award_runner_(std::make_unique<AwardSetRunner>(store)),
      top_cache_(top_ranking_cache_ttl) {
  [[maybe_unused]] const int sodium = sodium_init();  // idempotent; needed for SHA-256
  // After the projection changed: a read that began before it is not kept.
  projector_->OnChange([this] { top_cache_.Invalidate(); });
  projector_->Start();
}

Ledger::~Ledger() {
  // The projector calls back into this ledger (its answer cache): it stops first.
  projector_->Stop();
  stop_.Notify();
  if (background_.joinable()) background_.join();
}

namespace {

// Methods only the suite's own services may call (their access option says internal): a key stored
// for them before keys were scoped by caller (migrations/0007) was stored by that same service, so
// it still replays to it and a retry spanning the upgrade is not applied twice. Other methods'
// old keys may have been taken by anyone and are left behind.
bool ReadsUnscopedKeys(const std::string& method) {
  return method == "Award" || method == "BulkAward" || method == "Hold" || method == "Capture" ||
         method == "Release" || method == "ReleaseTimeout";
}

}  // namespace

absl::Status Ledger::Mutate(const std::string& caller, const std::string& method,
                            const std::string& key, const gp::Message& request,
                            const std::string& order_key, gp::Message* response, const Body& body,
                            AwardItem* awards) {
  // An empty caller would share the rows left from before keys had callers.
  if (caller.empty()) {
    return absl::UnauthenticatedError("the caller's token names no subject to own the key");
  }
  const IdempotencyScope scope{caller, method, key, ReadsUnscopedKeys(method)};
  const std::string hash = RequestHash(request);
  int64_t ranked = 0;
  bool reran = false;  // a failure whose cause could not be told was run once more
  if (awards != nullptr) {
    awards->runner = award_runner_.get();
    awards->caller = caller;
    awards->method = method;
    awards->key = key;
    awards->legacy_keys = scope.legacy;
    awards->request_hash = hash;
    awards->response = response;
    awards->ranked = &ranked;
  }
  absl::Status s = committer_->Run(
      order_key,
      [&](pqxx::dbtransaction& tx) -> absl::Status {
        response->Clear();
        ranked = 0;
        ASSIGN_OR_RETURN(std::optional<IdempotentResult> found, FindKey(tx, scope));
        if (found.has_value()) {
          if (found->request_hash != hash) {
            return Refuse(absl::StatusCode::kFailedPrecondition,
                          v1::LEDGER_ERROR_REASON_IDEMPOTENCY_KEY_REUSED,
                          absl::StrCat("idempotency key '", key,
                                       "' was already used with a different ", method, " request"));
          }
          if (!response->ParseFromString(found->response)) {
            return absl::InternalError("stored result of an idempotent call does not parse");
          }
          return absl::OkStatus();
        }
        absl::Status done = body(tx, response, &ranked);
        // A statement the database failed ends the unit with that failure; only a refusal may be
        // the shadow of a concurrent first call.
        if (!done.ok() && done.code() != absl::StatusCode::kAborted &&
            !PgLedgerStore::IsDatabaseFailure(done) &&
            KeyTakenMeanwhile(tx, scope).value_or(!reran)) {
          reran = true;
          // A first call with this key (a client's retry racing it, in another batch) committed
          // while this one waited for the account lock, and its change is why this one failed (the
          // hold already exists, the points are already held or captured): roll this one back and
          // run it again, when it replays that call's answer.
          return absl::AbortedError("a concurrent request with the same key went first");
        }
        RETURN_IF_ERROR(done);
        return store_->SaveIdempotent(tx, caller, method, key, hash, response->SerializeAsString());
      },
      awards);
  if (!s.ok()) return s;
  if (on_commit_) on_commit_();
  if (ranked > 0) {
    // The projector carries it to Redis; this call does not wait (reads do, see SettleRankings).
    int64_t seen = committed_through_.load();
    while (ranked > seen && !committed_through_.compare_exchange_weak(seen, ranked)) {
    }
    projector_->Nudge();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<IdempotentResult>> Ledger::FindKey(pqxx::dbtransaction& tx,
                                                                const IdempotencyScope& scope) {
  return store_->FindIdempotent(tx, scope.caller, scope.method, scope.key, scope.legacy);
}

std::optional<bool> Ledger::KeyTakenMeanwhile(pqxx::dbtransaction& tx,
                                              const IdempotencyScope& scope) {
  absl::StatusOr<std::optional<IdempotentResult>> found = FindKey(tx, scope);
  // The failure was a database error that left the unit's savepoint unusable: cannot tell.
  if (!found.ok()) return std::nullopt;
  return found->has_value();
}

void Ledger::SettleRankings() {
  // Just started, over a Redis that may have lost the projection: the first catch-up rebuilds it
  // (milliseconds for a small journal), and a read waits for it rather than answer empty.
  if (!projector_->WaitForFirstCatchUp(absl::Seconds(5))) {
    log::Debug("ranking read before the projection's first catch-up");
  }
  const int64_t committed = committed_through_.load();
  if (committed <= projector_->applied()) return;
  // Usually one projector pass (a millisecond or two); bounded, and not at all while Redis is down.
  if (!projector_->WaitFor(committed, absl::Milliseconds(250))) {
    log::Debug("ranking read ahead of the projector", {{"sequence", committed}});
  }
}

void Ledger::StartBackground(absl::Duration interval) {
  background_ = std::thread([this, interval] { BackgroundLoop(interval); });
}

void Ledger::BackgroundLoop(absl::Duration interval) {
  do {
    if (exclusions_dirty_.exchange(false)) {
      absl::StatusOr<std::vector<std::string>> excluded = store_->AllExcluded();
      absl::Status s = excluded.ok() ? projection_->ReplaceExcluded(*excluded) : excluded.status();
      if (!s.ok()) exclusions_dirty_ = true;
      top_cache_.Invalidate();
    }
    if (absl::StatusOr<int> released = ReleaseDueHolds(); released.ok() && *released > 0) {
      log::Info("holds released on timeout", {{"count", *released}});
    }
  } while (!stop_.WaitForNotificationWithTimeout(interval));
}

}  // namespace civicpoints::ledger
