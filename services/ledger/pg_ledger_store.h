// PgLedgerStore: the only place the ledger's SQL runs. Mutating calls take the batch transaction
// the GroupCommitter hands out; reads take a connection from the pool. Values cross as the v1
// proto messages, which are the ledger's domain types. Thread-safe (stateless besides the pool).
//
// Errors: every method returns absl::Status or absl::StatusOr<T>, those inside a caller's batch
// transaction too; no exception leaves the store. "Not there" is an empty std::optional, not an
// error. A statement the database fails inside a batch transaction comes back with the code
// pg::StatusFromException gives it (pg_errors.h) and IsDatabaseFailure() true: the transaction is
// then unusable until the GroupCommitter rolls back to the unit's savepoint. Where a method says
// so, a unique violation (another transaction committed the same row first) is ABORTED instead, so
// the GroupCommitter runs the unit again and it sees that row. Reads map the database's errors as
// PgPool::WithReadConnection does (pg_pool.h).
//
// Files, by area, all members of this class: pg_ledger_store.cc (idempotency keys, how rows are
// read, the error convention; pg_ledger_rows.h), pg_postings.cc, pg_holds.cc, pg_statements.cc,
// pg_rankings.cc and pg_seasons.cc (seasons and snapshots).
#ifndef CIVICPOINTS_SERVICES_LEDGER_PG_LEDGER_STORE_H_
#define CIVICPOINTS_SERVICES_LEDGER_PG_LEDGER_STORE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/ledger/v1/account.pb.h"
#include "civicpoints/ledger/v1/entry.pb.h"
#include "civicpoints/ledger/v1/hold.pb.h"
#include "civicpoints/ledger/v1/ranking.pb.h"
#include "civicpoints/ledger/v1/season.pb.h"

namespace pqxx {
class dbtransaction;
}
namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::ledger {

// One posting to an account, as post_entry() in migrations/0002 takes it.
struct Posting {
  std::string person_id;
  bool open_account = false;  // create the account on first posting (awards only)
  v1::EntryKind kind = v1::ENTRY_KIND_UNSPECIFIED;
  int64_t amount = 0;
  int64_t available_delta = 0;
  int64_t held_delta = 0;
  int64_t earned_delta = 0;
  v1::SourceKind source_kind = v1::SOURCE_KIND_UNSPECIFIED;
  std::string source_id;
  std::string points_rule_id;
  std::string verified_by;
  common::v1::OrgPath org_path;
  std::string reason;
  std::string actor_id;
  std::string order_id;
  std::string reversed_entry_id;
  std::string bulk_award_id;
  std::optional<absl::Time> occur_time;  // unset: now
};

// A stored result of an idempotent call.
struct IdempotentResult {
  std::string request_hash;
  std::string response;  // serialized response message
};

class PgLedgerStore {
 public:
  explicit PgLedgerStore(pg::PgPool* pool) : pool_(pool) {}

  // Whether `status`, returned by a method inside a batch transaction, is the database failing a
  // statement (see the header comment) rather than a refusal of the ledger's own.
  static bool IsDatabaseFailure(const absl::Status& status);

  // --- idempotency keys (pg_ledger_store.cc), inside a batch transaction ---

  // The result `caller` stored under (method, key); with `legacy`, also one stored before keys
  // were scoped by caller (migrations/0007), preferring the caller's own.
  absl::StatusOr<std::optional<IdempotentResult>> FindIdempotent(pqxx::dbtransaction& tx,
                                                                 const std::string& caller,
                                                                 const std::string& method,
                                                                 const std::string& key,
                                                                 bool legacy);
  // Errors: ABORTED when another transaction stored the same key first.
  absl::Status SaveIdempotent(pqxx::dbtransaction& tx, const std::string& caller,
                              const std::string& method, const std::string& key,
                              const std::string& request_hash, const std::string& response);

  // --- postings (pg_postings.cc), inside a batch transaction ---

  // Appends an entry. Errors: NOT_FOUND when the account does not exist and the posting may not
  // open it; FAILED_PRECONDITION when a balance would go negative; RESOURCE_EXHAUSTED when the
  // account would pass its bound (these three with IsDatabaseFailure false); ABORTED when another
  // transaction committed the same unique row first (a second reversal of one award).
  absl::StatusOr<v1::Entry> Post(pqxx::dbtransaction& tx, const Posting& posting);

  // Posts an award with award_entry() (migrations/0009): the entry, the account after it and the
  // id of an earlier unreversed award of the same source and rider ("" if none; the caller then
  // refuses and rolls back). Errors as Post, less ABORTED.
  struct AwardResult {
    v1::Entry entry;
    v1::Account account;
    std::string duplicate_of;
  };
  absl::StatusOr<AwardResult> PostAward(pqxx::dbtransaction& tx, const Posting& award);

  absl::StatusOr<std::optional<v1::Entry>> LoadEntry(pqxx::dbtransaction& tx,
                                                     const std::string& entry_id);
  // The reversal of an award, if it has one.
  absl::StatusOr<std::optional<v1::Entry>> FindReversal(pqxx::dbtransaction& tx,
                                                        const std::string& entry_id);
  absl::StatusOr<std::optional<v1::Account>> LoadAccountTx(pqxx::dbtransaction& tx,
                                                           const std::string& person_id);

  // --- awards in sets (pg_award_set.cc), inside a batch transaction ---

  // Takes the journal's lock (held to the commit, so the journal's order is its commit order; see
  // migrations/0009), then locks the accounts of `person_ids` (distinct) in person order, then
  // opens and locks those that did not exist yet. The journal's lock comes first, as in
  // post_entry(): a set that locked accounts and then waited for the journal could wait in a
  // circle with a batch that holds the journal and waits for one of those accounts. Also asks for
  // generic plans for the rest of the transaction: the set's statements take arrays, and
  // PostgreSQL otherwise plans them anew each time, which cost more than running them.
  absl::StatusOr<std::vector<v1::Account>> LockJournalAndAccounts(
      pqxx::dbtransaction& tx, const std::vector<std::string>& person_ids);

  // What a set of awards must know before it writes, read under its locks: the results already
  // stored under its idempotency keys, the earlier unreversed awards of its sources, and the
  // database's clock (the entries' create time); and `draw` journal sequences for its entries
  // (those left unused are gaps, as a rolled-back transaction leaves).
  struct KeyLookup {
    std::string caller, method, key;
    bool legacy = false;  // as FindIdempotent's
  };
  struct SourceLookup {
    v1::SourceKind kind = v1::SOURCE_KIND_UNSPECIFIED;
    std::string source_id, person_id;
  };
  struct AwardChecks {
    std::map<size_t, IdempotentResult> stored;  // by index into the keys
    std::map<size_t, int64_t> awarded;          // by index into the sources: the award's sequence
    int64_t now_micros = 0;
    std::vector<int64_t> sequences;  // ascending
  };
  absl::StatusOr<AwardChecks> CheckAwards(pqxx::dbtransaction& tx,
                                          const std::vector<KeyLookup>& keys,
                                          const std::vector<SourceLookup>& sources, int draw);

  // In one statement: writes each account's balances, entry count, head hash, update time and
  // (when set) org path; inserts the entries as they are (sequences and hashes included) and the
  // idempotency records of the calls that wrote them. Errors: ABORTED when another transaction
  // stored one of the keys first.
  struct IdempotentRecord {
    std::string caller, method, key, request_hash, response;
  };
  absl::Status AppendEntries(pqxx::dbtransaction& tx, const std::vector<v1::Entry>& entries,
                             const std::vector<v1::Account>& accounts,
                             const std::vector<IdempotentRecord>& records);

  // --- holds (pg_holds.cc) ---

  // The hold of an order, locked for update.
  absl::StatusOr<std::optional<v1::Hold>> LockHold(pqxx::dbtransaction& tx,
                                                   const std::string& order_id);
  // Errors: ABORTED when another transaction inserted the order's hold first.
  absl::Status InsertHold(pqxx::dbtransaction& tx, const v1::Hold& hold, const v1::Entry& entry,
                          const common::v1::OrgPath& path);
  absl::Status SettleHold(pqxx::dbtransaction& tx, const std::string& order_id, v1::HoldState state,
                          const v1::Entry& entry, bool expired);
  absl::StatusOr<std::optional<v1::Hold>> GetHold(const std::string& order_id);
  // Orders whose holds are past their timeout and still HELD.
  absl::StatusOr<std::vector<std::string>> DueHolds(int limit);

  // --- rankings (pg_rankings.cc) ---

  // Exclusions (rankings skip excluded riders when read). Exclude and Restore record an audit
  // event.
  absl::StatusOr<std::optional<v1::RankingExclusion>> FindExclusion(pqxx::dbtransaction& tx,
                                                                    const std::string& person_id);
  // Errors: ABORTED when another transaction excluded the rider first.
  absl::StatusOr<v1::RankingExclusion> Exclude(pqxx::dbtransaction& tx,
                                               const std::string& person_id,
                                               const std::string& reason, const std::string& actor);
  // Returns when the rider was restored.
  absl::StatusOr<absl::Time> Restore(pqxx::dbtransaction& tx, const std::string& person_id,
                                     const std::string& reason, const std::string& actor);
  // Current exclusions of riders whose account's org path has `org_id` in `column` ("" for all),
  // ordered by person id, after `after_person`.
  absl::StatusOr<std::vector<v1::RankingExclusion>> ListExclusions(const std::string& column,
                                                                   const std::string& org_id,
                                                                   const std::string& after_person,
                                                                   int limit);
  absl::StatusOr<std::vector<std::string>> AllExcluded();

  // --- seasons and snapshots (pg_seasons.cc) ---

  // Inserts a season (the ranking projector fills its rankings from the journal). Errors:
  // RESOURCE_EXHAUSTED (IsDatabaseFailure false) when its scope already has `max_open` seasons that
  // have not ended.
  absl::StatusOr<v1::Season> InsertSeason(pqxx::dbtransaction& tx, const v1::Season& season,
                                          int max_open);
  absl::StatusOr<std::optional<v1::Season>> GetSeason(const std::string& season_id);
  // Seasons whose scope is `level`/`org_id` or an ancestor of it (all when level is 0), after
  // `after_seq`, oldest first.
  absl::StatusOr<std::vector<std::pair<int64_t, v1::Season>>> ListSeasons(
      int level, const std::string& org_id, const std::string& district_id,
      const std::string& street_id, int64_t after_seq, int limit);

  // Snapshots: the top of a ranking computed from the journal (the view ranking_changes) in the
  // caller's transaction, ordered as the projection orders it (points, then whoever reached them
  // first in journal order), excluded riders left out; `as_of_sequence` gets the journal's head.
  // Errors: INVALID_ARGUMENT for a key that is not a ranking's.
  absl::StatusOr<std::vector<v1::RankingEntry>> ReadRanking(pqxx::dbtransaction& tx,
                                                            const std::string& ranking_key,
                                                            int limit, bool include_ties,
                                                            int64_t* as_of_sequence);
  // Errors: ABORTED when another transaction saved the same snapshot id first.
  absl::Status SaveSnapshot(pqxx::dbtransaction& tx, const v1::RankingSnapshot& snapshot);
  absl::StatusOr<std::optional<v1::RankingSnapshot>> GetSnapshot(const std::string& snapshot_id);

  // --- statements (pg_statements.cc), reads ---

  absl::StatusOr<v1::Account> GetAccount(const std::string& person_id);
  absl::StatusOr<std::optional<v1::Entry>> GetEntry(const std::string& entry_id);
  // The path down to a street or community (its own id included), as some account's latest award
  // recorded it; nullopt when no account's latest award lies under the node.
  absl::StatusOr<std::optional<common::v1::OrgPath>> FindOrgPath(common::v1::OrgLevel level,
                                                                 const std::string& org_id);
  // Entries of an account, newest first, strictly before (created micros, sequence) `after`.
  struct EntryFilter {
    std::string person_id;
    std::optional<absl::Time> start, end;
    std::vector<int> kinds;
    std::vector<int> source_kinds;
    int64_t before_sequence = 0;  // 0: from the newest
    int limit = 20;
  };
  absl::StatusOr<std::vector<v1::Entry>> ListEntries(const EntryFilter& filter);

  // Dashboard figures of one org node over [start, end): per Shanghai day and per direct child.
  // `column` is the entries column naming the node ("" for the city) and `child_column` the one
  // naming its children ("" for a community).
  struct DayFigures {
    std::string day;  // "YYYY-MM-DD"
    int64_t issued = 0, corrected = 0, redeemed = 0;
  };
  struct NodeFigures {
    std::string org_id;
    int64_t issued = 0, corrected = 0, redeemed = 0, award_count = 0, riders_awarded = 0;
    int64_t outstanding = 0;  // available + held now, by each account's latest award's node
  };
  struct OrgFigures {
    std::vector<DayFigures> days;  // only days with postings
    NodeFigures total;
    // By points issued, descending; then children with only outstanding points, by id.
    std::vector<NodeFigures> children;
  };
  absl::StatusOr<OrgFigures> OrgStatistics(const std::string& column, const std::string& org_id,
                                           const std::string& child_column, absl::Time start,
                                           absl::Time end);

  // A rider's postings in [start, end) summed per bucket, the bucket named by `pg_format` (a
  // to_char pattern applied in Shanghai time). Awards and corrections count by occur_time, the rest
  // by commit time.
  struct PeriodSums {
    int64_t awarded = 0, deducted = 0, reversed = 0, spent = 0, award_count = 0;
  };
  absl::StatusOr<std::map<std::string, PeriodSums>> SumPeriods(const std::string& person_id,
                                                               const std::string& pg_format,
                                                               absl::Time start, absl::Time end);

  // One bounded chunk of the journal check: recomputes the hash of at most `max_entries`
  // entries from ledger-wide sequence `start_sequence` on (of one account, or all), checks each
  // against its account's previous entry, and each account whose last entry is in the chunk
  // against the sum of its journal. `cancelled` is asked between rows: the caller gave up.
  // Errors: CANCELLED; the database's.
  struct JournalCheck {
    std::optional<v1::JournalBreak> first_break;
    int64_t entries_checked = 0;
    int64_t accounts_checked = 0;
    int64_t last_checked_sequence = 0;
    bool reached_end = false;
  };
  absl::StatusOr<JournalCheck> VerifyJournal(const std::string& person_id, int64_t start_sequence,
                                             int max_entries,
                                             const std::function<bool()>& cancelled);

 private:
  pg::PgPool* const pool_;
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_PG_LEDGER_STORE_H_
