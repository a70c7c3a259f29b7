// Ledger: the rules of the points journal. Validates requests, runs each mutation as one
// idempotent unit in a group-committed transaction (group_committer.h); after a commit that moved
// earned points it nudges the ranking projector, and ranking reads wait (briefly) until the
// projection holds what this process committed before them. No gRPC
// here; values are the v1 proto messages.
//
// Every mutation takes an idempotency key, which belongs to its caller (`actor`, the token's
// subject): the same caller, key and request return the first result; the same caller and key with
// a different request is FAILED_PRECONDITION; another caller's key is no concern of this caller's.
// Thread-safe.
//
// One file per area, all members of this class: ledger.cc (construction, Mutate and its
// idempotency keys, the after-commit ranking sync, the background loop), ledger_postings.cc
// (Award, BulkAward, Deduct, Reverse), ledger_holds.cc (Hold, Capture, Release, timed-out holds),
// ledger_statements.cc (balances, entries, VerifyJournal, period totals, org statistics, PlaceOf),
// ledger_rankings.cc (reads from the projection in Redis, exclusions, rebuild) and
// ledger_seasons.cc (seasons and snapshots); checks they share are in ledger_support.h. The rules
// hold no SQL and no database types: the store (pg_ledger_store.h) answers in statuses, and the
// batch transaction passes through them only as the opaque pqxx::dbtransaction& the GroupCommitter
// hands out.
#ifndef CIVICPOINTS_SERVICES_LEDGER_LEDGER_H_
#define CIVICPOINTS_SERVICES_LEDGER_LEDGER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "civicpoints/ledger/v1/ledger_service.pb.h"
#include "services/ledger/ranking_projection.h"
#include "services/ledger/ranking_projector.h"
#include "services/ledger/top_ranking_cache.h"

namespace pqxx {
class dbtransaction;
}

namespace civicpoints::ledger {

class AwardSetRunner;
class GroupCommitter;
class PgLedgerStore;
class RankingNames;
struct AwardItem;
struct IdempotentResult;

inline constexpr int64_t kMaxAmount = 1000000;
inline constexpr int kMaxBulkItems = 1000;
// Seasons of one scope that have not ended: each is a set of rankings every award in its range
// and under its node counts in, so their number is bounded.
inline constexpr int kMaxOpenSeasons = 50;

class Ledger {
 public:
  // All must outlive the ledger; the ledger starts the projector. Top-N ranking answers are kept
  // up to `top_ranking_cache_ttl` (top_ranking_cache.h; zero reads Redis every time).
  Ledger(PgLedgerStore* store, GroupCommitter* committer, RankingProjection* projection,
         RankingProjector* projector, absl::Duration top_ranking_cache_ttl = absl::ZeroDuration());
  ~Ledger();  // stops the background work

  // Starts the hold-timeout sweeper, which also puts the exclusion list back in Redis after a
  // failed write, every `interval`.
  void StartBackground(absl::Duration interval = absl::Seconds(2));
  // Called after every mutation committed (the event relay's wake-up); set before serving.
  void OnCommit(std::function<void()> listener) { on_commit_ = std::move(listener); }
  // Where ranking reads take riders' names from (ranking_names.h); set before serving. Unset:
  // entries carry no names.
  void UseRankingNames(const RankingNames* names) { names_ = names; }

  // Mutations. `actor` is the caller's principal, recorded on the entry. Errors as documented on
  // the RPCs in protos/civicpoints/ledger/v1/ledger_service.proto.
  absl::StatusOr<v1::AwardResponse> Award(const v1::AwardRequest& request,
                                          const std::string& actor);
  absl::StatusOr<v1::BulkAwardResponse> BulkAward(const v1::BulkAwardRequest& request,
                                                  const std::string& actor);
  absl::StatusOr<v1::DeductResponse> Deduct(const v1::DeductRequest& request,
                                            const std::string& actor);
  absl::StatusOr<v1::ReverseResponse> Reverse(const v1::ReverseRequest& request,
                                              const std::string& actor);
  absl::StatusOr<v1::HoldResponse> Hold(const v1::HoldRequest& request, const std::string& actor);
  absl::StatusOr<v1::CaptureResponse> Capture(const v1::CaptureRequest& request,
                                              const std::string& actor);
  absl::StatusOr<v1::ReleaseResponse> Release(const v1::ReleaseRequest& request,
                                              const std::string& actor);

  // Reads.
  absl::StatusOr<v1::Account> GetBalance(const std::string& person_id);
  absl::StatusOr<v1::Entry> GetEntry(const std::string& entry_id);
  absl::StatusOr<v1::Hold> GetHold(const std::string& order_id);
  absl::StatusOr<v1::ListEntriesResponse> ListEntries(const v1::ListEntriesRequest& request);
  // Checks one bounded chunk of the journal (max_entries, default 100,000, from start_sequence);
  // `cancelled` (optional) is asked as it goes. Errors: INVALID_ARGUMENT for a negative start or a
  // chunk over 1,000,000; CANCELLED when `cancelled` says so.
  absl::StatusOr<v1::VerifyJournalResponse> VerifyJournal(
      const v1::VerifyJournalRequest& request, const std::function<bool()>& cancelled = nullptr);

  // A rider's statement summed per day, ISO week or month (from PostgreSQL).
  absl::StatusOr<v1::GetPeriodTotalsResponse> GetPeriodTotals(
      const v1::GetPeriodTotalsRequest& request);

  // Dashboard figures of an org node per Shanghai day and per direct child (from PostgreSQL).
  absl::StatusOr<v1::GetOrgStatisticsResponse> GetOrgStatistics(
      const v1::GetOrgStatisticsRequest& request);

  // Where the org node `scope` names lies, for checking a caller's grants against it: `path` runs
  // down to the node (empty for the city; a district is its own path). A street's district and a
  // community's street and district are taken from an account whose latest award lies under the
  // node (node ids never move); when there is none, `placed` is false and `path` holds only the
  // node's own id. Errors: INVALID_ARGUMENT for a malformed scope; UNAVAILABLE.
  struct OrgPlace {
    common::v1::OrgPath path;
    bool placed = true;
  };
  absl::StatusOr<OrgPlace> PlaceOf(const common::v1::OrgScope& scope);

  // Rankings, read from Redis only.
  absl::StatusOr<v1::GetTopRankingResponse> GetTopRanking(const v1::GetTopRankingRequest& request);
  absl::StatusOr<v1::GetRankResponse> GetRank(const v1::GetRankRequest& request);
  absl::StatusOr<v1::GetRankingNeighboursResponse> GetRankingNeighbours(
      const v1::GetRankingNeighboursRequest& request);

  // Exclusions from rankings, by staff, audited. Keyed by the rider: repeating is harmless.
  absl::StatusOr<v1::ExcludeFromRankingsResponse> ExcludeFromRankings(
      const v1::ExcludeFromRankingsRequest& request, const std::string& actor);
  absl::StatusOr<v1::RestoreToRankingsResponse> RestoreToRankings(
      const v1::RestoreToRankingsRequest& request, const std::string& actor);
  absl::StatusOr<v1::ListRankingExclusionsResponse> ListRankingExclusions(
      const v1::ListRankingExclusionsRequest& request);

  // Seasons: named ranking periods with a time range and an owning org node.
  absl::StatusOr<v1::Season> CreateSeason(const v1::CreateSeasonRequest& request,
                                          const std::string& actor);
  absl::StatusOr<v1::Season> GetSeason(const std::string& season_id);
  absl::StatusOr<v1::ListSeasonsResponse> ListSeasons(const v1::ListSeasonsRequest& request);

  // A ranking frozen from PostgreSQL (for exchange-window eligibility), kept for good.
  absl::StatusOr<v1::RankingSnapshot> SnapshotRanking(const v1::SnapshotRankingRequest& request,
                                                      const std::string& actor);
  absl::StatusOr<v1::RankingSnapshot> GetRankingSnapshot(const std::string& snapshot_id);

  // Deletes the projection in Redis and applies the whole journal again; with a scope or a period
  // (or both), only the rankings they name. Errors: INVALID_ARGUMENT for a scope or period that is
  // invalid as for GetTopRanking; NOT_FOUND for a season that does not exist.
  absl::StatusOr<v1::RebuildRankingsResponse> RebuildRankings(
      const v1::RebuildRankingsRequest& request = {});

  // Releases holds past their timeout; returns how many were released.
  absl::StatusOr<int> ReleaseDueHolds();

 private:
  // A mutation's work in the batch transaction; it sets `ranked` to the journal sequence of the
  // last entry it wrote that moves earned points (rankings), and leaves it 0 otherwise.
  using Body =
      std::function<absl::Status(pqxx::dbtransaction&, google::protobuf::Message*, int64_t*)>;
  // Where a mutation's idempotency key lives: keys belong to the caller that chose them.
  struct IdempotencyScope {
    const std::string& caller;  // the token's subject (the `actor` of a mutation)
    const std::string& method;
    const std::string& key;
    bool legacy;  // also read keys stored before keys were scoped by caller
  };
  // Runs `body` once per (caller, method, idempotency key) (see the class comment) and nudges the
  // projector when it changed rankings. With `awards` (its postings set), the call runs in a set
  // with the batch's other awards (award_set.h), and `body` only if that set fails.
  absl::Status Mutate(const std::string& caller, const std::string& method, const std::string& key,
                      const google::protobuf::Message& request, const std::string& order_key,
                      google::protobuf::Message* response, const Body& body,
                      AwardItem* awards = nullptr);
  absl::StatusOr<std::optional<IdempotentResult>> FindKey(pqxx::dbtransaction& tx,
                                                          const IdempotencyScope& scope);
  absl::StatusOr<v1::ReleaseResponse> ReleaseHold(const std::string& method,
                                                  const v1::ReleaseRequest& request,
                                                  const std::string& actor, bool by_timeout);
  std::string LockOrderForHold(const std::string& order_id);
  // Whether another call stored a result under the scope's key since this unit began; nullopt when
  // the unit's failed statement left no way to ask (the unit is then run once more, and the
  // re-run replays that result or fails the same way again).
  std::optional<bool> KeyTakenMeanwhile(pqxx::dbtransaction& tx, const IdempotencyScope& scope);
  // Before a ranking read: waits (at most 250 ms, not at all while Redis is down) until the
  // projection holds everything this process committed, so a caller reads its own writes; an
  // award itself never waits for Redis. Right after start it first waits (at most 5 s) for the
  // projector's first catch-up, which rebuilds a projection Redis lost.
  void SettleRankings();
  // A ranking's place as an entry, with the rider's name.
  v1::RankingEntry ToEntry(const RankingPlace& place) const;
  void BackgroundLoop(absl::Duration interval);

  PgLedgerStore* const store_;
  GroupCommitter* const committer_;
  RankingProjection* const projection_;
  RankingProjector* const projector_;
  const RankingNames* names_ = nullptr;
  std::function<void()> on_commit_;
  std::unique_ptr<AwardSetRunner> award_runner_;
  TopRankingCache top_cache_;
  std::atomic<bool> exclusions_dirty_{false};  // Redis's exclusion list missed a change
  std::atomic<int64_t> committed_through_{0};  // the last entry this process wrote that ranks
  absl::Notification stop_;
  std::thread background_;
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_LEDGER_H_
