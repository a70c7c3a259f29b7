// PgLedgerStore: the only place the ledger's SQL runs. Mutating calls take the batch transaction
// the GroupCommitter hands out; reads take a connection from the pool. Values cross as the v1
// proto messages, which are the ledger's domain types. Thread-safe (stateless besides the pool).
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
#include "services/ledger/rankings.h"

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

  // --- inside a batch transaction ---

  // Appends an entry. Errors: NOT_FOUND when the account does not exist and the posting may not
  // open it; FAILED_PRECONDITION when a balance would go negative; RESOURCE_EXHAUSTED when the
  // account would pass its bound.
  absl::StatusOr<v1::Entry> Post(pqxx::dbtransaction& tx, const Posting& posting);

  // Posts an award with award_entry() (migrations/0005): the entry, the account after it, the id
  // of an earlier unreversed award of the same source and rider ("" if none; the caller then
  // refuses and rolls back), and the ranking rows for Redis. Errors as Post.
  struct AwardResult {
    v1::Entry entry;
    v1::Account account;
    std::string duplicate_of;
    std::vector<RankingScore> scores;
  };
  absl::StatusOr<AwardResult> PostAward(pqxx::dbtransaction& tx, const Posting& award,
                                        const std::vector<std::string>& ranking_keys);

  // The result `caller` stored under (method, key); with `legacy`, also one stored before keys
  // were scoped by caller (migrations/0007), preferring the caller's own.
  std::optional<IdempotentResult> FindIdempotent(pqxx::dbtransaction& tx, const std::string& caller,
                                                 const std::string& method, const std::string& key,
                                                 bool legacy);
  void SaveIdempotent(pqxx::dbtransaction& tx, const std::string& caller, const std::string& method,
                      const std::string& key, const std::string& request_hash,
                      const std::string& response);

  // Adds `delta` (floored at zero) to the rider's score in each ranking, and in every season
  // ranking whose season holds `occur_time` and `path`; returns the new rows.
  std::vector<RankingScore> AddRankingScores(pqxx::dbtransaction& tx, const std::string& person_id,
                                             const std::vector<std::string>& ranking_keys,
                                             int64_t delta, absl::Time reached_at,
                                             absl::Time occur_time,
                                             const common::v1::OrgPath& path);

  // Seasons.
  // Inserts a season and counts the journal's earlier postings in it (awards less corrections
  // whose occur_time and path fall in the season); returns the season and its new rows.
  v1::Season InsertSeason(pqxx::dbtransaction& tx, const v1::Season& season,
                          std::vector<RankingScore>* scores);
  absl::StatusOr<std::optional<v1::Season>> GetSeason(const std::string& season_id);
  // Seasons whose scope is `level`/`org_id` or an ancestor of it (all when level is 0), after
  // `after_seq`, oldest first.
  absl::StatusOr<std::vector<std::pair<int64_t, v1::Season>>> ListSeasons(
      int level, const std::string& org_id, const std::string& district_id,
      const std::string& street_id, int64_t after_seq, int limit);

  // Snapshots: the top of a ranking from PostgreSQL, read in the caller's transaction.
  std::vector<v1::RankingEntry> ReadRanking(pqxx::dbtransaction& tx, const std::string& ranking_key,
                                            int limit, bool include_ties, int64_t* as_of_sequence);
  void SaveSnapshot(pqxx::dbtransaction& tx, const v1::RankingSnapshot& snapshot);
  absl::StatusOr<std::optional<v1::RankingSnapshot>> GetSnapshot(const std::string& snapshot_id);

  // Exclusions. Exclude and Restore record an audit event and return the rider's ranking rows
  // with bumped versions (scores 0 while excluded) for Redis.
  std::optional<v1::RankingExclusion> FindExclusion(pqxx::dbtransaction& tx,
                                                    const std::string& person_id);
  v1::RankingExclusion Exclude(pqxx::dbtransaction& tx, const std::string& person_id,
                               const std::string& reason, const std::string& actor,
                               std::vector<RankingScore>* scores);
  absl::Time Restore(pqxx::dbtransaction& tx, const std::string& person_id,
                     const std::string& reason, const std::string& actor,
                     std::vector<RankingScore>* scores);
  // Current exclusions of riders whose account's org path has `org_id` in `column` ("" for all),
  // ordered by person id, after `after_person`.
  absl::StatusOr<std::vector<v1::RankingExclusion>> ListExclusions(const std::string& column,
                                                                   const std::string& org_id,
                                                                   const std::string& after_person,
                                                                   int limit);
  absl::StatusOr<std::vector<std::string>> AllExcluded();

  std::optional<v1::Entry> LoadEntry(pqxx::dbtransaction& tx, const std::string& entry_id);
  // The reversal of an award, if it has one.
  std::optional<v1::Entry> FindReversal(pqxx::dbtransaction& tx, const std::string& entry_id);
  // The hold of an order, locked for update.
  std::optional<v1::Hold> LockHold(pqxx::dbtransaction& tx, const std::string& order_id);
  void InsertHold(pqxx::dbtransaction& tx, const v1::Hold& hold, const v1::Entry& entry,
                  const common::v1::OrgPath& path);
  void SettleHold(pqxx::dbtransaction& tx, const std::string& order_id, v1::HoldState state,
                  const v1::Entry& entry, bool expired);
  std::optional<v1::Account> LoadAccountTx(pqxx::dbtransaction& tx, const std::string& person_id);

  // --- reads ---

  absl::StatusOr<v1::Account> GetAccount(const std::string& person_id);
  absl::StatusOr<std::optional<v1::Entry>> GetEntry(const std::string& entry_id);
  absl::StatusOr<std::optional<v1::Hold>> GetHold(const std::string& order_id);
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
  // Orders whose holds are past their timeout and still HELD.
  absl::StatusOr<std::vector<std::string>> DueHolds(int limit);
  // Walks every ranking score in key order, `chunk` rows at a time.
  absl::Status ForEachRankingScore(
      size_t chunk, const std::function<absl::Status(std::vector<RankingScore>&)>& fn);

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
  };
  struct OrgFigures {
    std::vector<DayFigures> days;  // only days with postings
    NodeFigures total;
    std::vector<NodeFigures> children;  // by points issued, descending
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
