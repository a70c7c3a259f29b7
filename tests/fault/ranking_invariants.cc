// Rankings: the ledger's Redis projection against the journal, summed here by SQL from
// ledger.entries on its own, not through the ledger's view or code.
//
// What the projection holds (services/ledger/ranking_projection.cc, ranking_keys.cc): per ranking
// "<scope>|<period>" (scope city, district:<id>, street:<id>, community:<id>; period all,
// month:YYYY-MM, week:YYYY-Www in UTC+8, season:<id>) a hash cp:rk:{<ranking>}:p of every rider
// with a change there, "<points>:<sequence>:<micros>" (the sum of the rider's earned deltas, and
// the journal sequence and creation time of the last entry that raised it, 0:0 if none did), and
// a sorted set cp:rk:{<ranking>}:z of the riders above 0 points, scored
// points × 2^30 + (2^30 − 1 − that sequence) so that equal points go to who reached them first.
// Excluded riders stay in both (reads skip them). cp:rk:wm is how far the journal is applied,
// cp:rk:excluded the exclusion list, cp:rk:seasons the seasons filled from the journal; the lease
// and the per-ranking watermarks (:w) are bookkeeping and not compared.
//
// Where an entry counts: an award at its own org path and occur time; a reversal at the reversed
// award's; a deduction at its own path, or its account's for one stored without a path. Each
// counts in every scope its path names (and the city) for all time, its month and its ISO week,
// and in each season whose range holds its moment and whose node lies on its path (down to a
// community), at the season's node and every node below it on the path.
#include <algorithm>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/redis/redis_client.h"
#include "common/status/status_macros.h"
#include "tests/fault/invariant_checks.h"

namespace civicpoints::fault {
namespace {

using redis::RedisClient;
using redis::RedisReply;

// Every (ranking, rider) with its points and last raise, from the journal.
constexpr char kRankingsSql[] = R"sql(
WITH changes AS (
  SELECT e.sequence, e.person_id, e.earned_delta AS delta,
         (extract(epoch FROM e.created_at) * 1000000)::bigint AS created_us,
         CASE WHEN e.kind = ledger.entry_kind('REVERSAL') THEN award.district_id
              WHEN e.kind = ledger.entry_kind('DEDUCT') AND e.community_id = ''
                THEN coalesce(account.district_id, '')
              ELSE e.district_id END AS district_id,
         CASE WHEN e.kind = ledger.entry_kind('REVERSAL') THEN award.street_id
              WHEN e.kind = ledger.entry_kind('DEDUCT') AND e.community_id = ''
                THEN coalesce(account.street_id, '')
              ELSE e.street_id END AS street_id,
         CASE WHEN e.kind = ledger.entry_kind('REVERSAL') THEN award.community_id
              WHEN e.kind = ledger.entry_kind('DEDUCT') AND e.community_id = ''
                THEN coalesce(account.community_id, '')
              ELSE e.community_id END AS community_id,
         CASE WHEN e.kind = ledger.entry_kind('REVERSAL') THEN award.occur_time
              ELSE e.occur_time END AS counts_at
    FROM ledger.entries e
    LEFT JOIN ledger.entries award
      ON e.kind = ledger.entry_kind('REVERSAL') AND award.sequence::text = e.reversed_entry_id
    LEFT JOIN ledger.accounts account ON account.person_id = e.person_id
   WHERE e.earned_delta <> 0
),
placed AS (
  -- Shanghai has kept UTC+8 without daylight saving since 1991, as ranking_keys.cc assumes.
  SELECT c.*, (c.counts_at AT TIME ZONE 'UTC') + interval '8 hours' AS local_time FROM changes c
),
counted AS (
  SELECT s.scope || '|' || p.period AS ranking, l.person_id, l.delta, l.sequence, l.created_us
    FROM placed l
   CROSS JOIN LATERAL (VALUES ('city'), ('district:' || nullif(l.district_id, '')),
                              ('street:' || nullif(l.street_id, '')),
                              ('community:' || nullif(l.community_id, ''))) AS s (scope)
   CROSS JOIN LATERAL (VALUES ('all'), ('month:' || to_char(l.local_time, 'YYYY-MM')),
                              ('week:' || to_char(l.local_time, 'IYYY-"W"IW'))) AS p (period)
   WHERE s.scope IS NOT NULL
  UNION ALL
  SELECT n.scope || '|season:' || z.season_id, l.person_id, l.delta, l.sequence, l.created_us
    FROM placed l
    JOIN ledger.seasons z
      ON l.counts_at >= z.start_time AND l.counts_at < z.end_time AND l.community_id <> ''
     AND (z.scope_level = ledger.org_level('CITY')
          OR (z.scope_level = ledger.org_level('DISTRICT') AND z.scope_org_id = l.district_id)
          OR (z.scope_level = ledger.org_level('STREET') AND z.scope_org_id = l.street_id)
          OR (z.scope_level = ledger.org_level('COMMUNITY')
              AND z.scope_org_id = l.community_id))
   CROSS JOIN LATERAL (VALUES (ledger.org_level('CITY'), 'city'),
                              (ledger.org_level('DISTRICT'), 'district:' || l.district_id),
                              (ledger.org_level('STREET'), 'street:' || l.street_id),
                              (ledger.org_level('COMMUNITY'), 'community:' || l.community_id))
                       AS n (level, scope)
   WHERE n.level >= z.scope_level
)
SELECT ranking, person_id, sum(delta)::bigint AS points,
       coalesce((max(ARRAY[sequence, created_us]) FILTER (WHERE delta > 0))[1], 0) AS reach_sequence,
       coalesce((max(ARRAY[sequence, created_us]) FILTER (WHERE delta > 0))[2], 0) AS reach_us
  FROM counted
 GROUP BY ranking, person_id
)sql";

constexpr int64_t kSlots = int64_t{1} << 30;  // as ranking_projection.cc scores

struct Total {
  int64_t points = 0;
  int64_t reach_sequence = 0;
  int64_t reach_us = 0;

  // As the projection's hash stores it.
  std::string SumEntry() const { return absl::StrCat(points, ":", reach_sequence, ":", reach_us); }
  int64_t Score() const {
    return points * kSlots + (kSlots - 1 - std::min(reach_sequence, kSlots - 1));
  }
};

using Members = std::map<std::string, Total>;  // by rider

std::map<std::string, Members> RankingsFromJournal(pqxx::transaction_base& tx) {
  std::map<std::string, Members> out;
  for (const pqxx::row& row : tx.exec(kRankingsSql)) {
    out[row["ranking"].as<std::string>()][row["person_id"].as<std::string>()] =
        Total{.points = row["points"].as<int64_t>(),
              .reach_sequence = row["reach_sequence"].as<int64_t>(),
              .reach_us = row["reach_us"].as<int64_t>()};
  }
  return out;
}

std::set<std::string> FirstColumn(pqxx::transaction_base& tx, const char* sql) {
  std::set<std::string> out;
  for (const pqxx::row& row : tx.exec(sql)) out.insert(row[0].as<std::string>());
  return out;
}

// One ranking as Redis holds it.
struct StoredRanking {
  std::map<std::string, std::string> sums;  // rider → "<points>:<sequence>:<micros>"
  std::map<std::string, std::string> scores;
};

std::string SortedKey(const std::string& ranking) {
  return absl::StrCat("cp:rk:{", ranking, "}:z");
}
std::string SumsKey(const std::string& ranking) { return absl::StrCat("cp:rk:{", ranking, "}:p"); }

// The rankings named by Redis's keys cp:rk:{<ranking>}:<suffix>.
absl::StatusOr<std::set<std::string>> RankingsInRedis(RedisClient& redis) {
  std::set<std::string> out;
  std::string cursor = "0";
  do {
    ASSIGN_OR_RETURN(RedisReply page,
                     redis.Command({"SCAN", cursor, "MATCH", "cp:rk:{*", "COUNT", "1000"}));
    if (page.elements.size() != 2) return absl::InternalError("malformed SCAN reply");
    cursor = page.elements[0].str;
    for (const RedisReply& key : page.elements[1].elements) {
      const size_t close = key.str.rfind("}:");
      if (close != std::string::npos && close > 6) out.insert(key.str.substr(7, close - 7));
    }
  } while (cursor != "0");
  return out;
}

std::map<std::string, std::string> Pairs(const RedisReply& reply) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    out[reply.elements[i].str] = reply.elements[i + 1].str;
  }
  return out;
}

absl::StatusOr<std::map<std::string, StoredRanking>> ReadRankings(
    RedisClient& redis, const std::set<std::string>& rankings) {
  std::map<std::string, StoredRanking> out;
  std::vector<std::string> batch;
  auto flush = [&]() -> absl::Status {
    std::vector<std::vector<std::string>> commands;
    for (const std::string& r : batch) {
      commands.push_back({"HGETALL", SumsKey(r)});
      commands.push_back({"ZRANGE", SortedKey(r), "0", "-1", "WITHSCORES"});
    }
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies, redis.Pipeline(commands));
    for (size_t i = 0; i < batch.size(); ++i) {
      for (const RedisReply* r : {&replies[2 * i], &replies[2 * i + 1]}) {
        if (r->type == RedisReply::Type::kError) {
          return absl::InternalError(absl::StrCat("ranking ", batch[i], ": ", r->str));
        }
      }
      out[batch[i]] =
          StoredRanking{.sums = Pairs(replies[2 * i]), .scores = Pairs(replies[2 * i + 1])};
    }
    batch.clear();
    return absl::OkStatus();
  };
  for (const std::string& r : rankings) {
    batch.push_back(r);
    if (batch.size() >= 50) RETURN_IF_ERROR(flush());
  }
  if (!batch.empty()) RETURN_IF_ERROR(flush());
  return out;
}

// A Redis score as the integer the projection wrote (exact below 2^53).
bool ScoreIs(const std::string& stored, int64_t expected) {
  double score = 0;
  return absl::SimpleAtod(stored, &score) && score == static_cast<double>(expected);
}

// One rider the journal ranks: the hash's entry, and the sorted set's score while above 0.
void CompareMember(const std::string& ranking, const std::string& person, const Total& want,
                   const StoredRanking& stored, Tally& tally) {
  const auto sum = stored.sums.find(person);
  const std::string found_sum = sum == stored.sums.end() ? "nothing" : "'" + sum->second + "'";
  if (!tally.Holds(sum != stored.sums.end() && sum->second == want.SumEntry())) {
    tally.Violation("rankings", absl::StrCat("ranking ", ranking, ", rider ", person, ": Redis's ",
                                             SumsKey(ranking), " holds ", found_sum,
                                             ", the journal gives '", want.SumEntry(), "'"));
  }
  const auto score = stored.scores.find(person);
  if (want.points <= 0) {
    if (!tally.Holds(score == stored.scores.end())) {
      tally.Violation("rankings",
                      absl::StrCat("ranking ", ranking, ", rider ", person, " has ", want.points,
                                   " points in the journal but is ranked in Redis (score ",
                                   score->second, ")"));
    }
    return;
  }
  if (!tally.Holds(score != stored.scores.end() && ScoreIs(score->second, want.Score()))) {
    tally.Violation("rankings",
                    absl::StrCat("ranking ", ranking, ", rider ", person, ": Redis's score is ",
                                 score == stored.scores.end() ? "missing" : score->second,
                                 ", the journal gives ", want.Score(), " (", want.points,
                                 " points reached at entry ", want.reach_sequence, ")"));
  }
}

// Riders Redis holds in a ranking that the journal does not rank there.
void CheckNoExtraMembers(const std::string& ranking, const Members& want,
                         const StoredRanking& stored, Tally& tally) {
  for (const auto* held : {&stored.sums, &stored.scores}) {
    for (const auto& [person, value] : *held) {
      if (!tally.Holds(want.count(person) > 0)) {
        tally.Violation(
            "rankings",
            absl::StrCat("ranking ", ranking, ": Redis holds rider ", person, " ('", value, "' in ",
                         held == &stored.sums ? SumsKey(ranking) : SortedKey(ranking),
                         "), who has no points there in the journal"));
      }
    }
  }
}

void CompareRanking(const std::string& ranking, const Members& want, const StoredRanking& stored,
                    Tally& tally) {
  // A ranking Redis lacks altogether is one finding, not one per rider.
  if (stored.sums.empty() && stored.scores.empty() && !want.empty()) {
    tally.Holds(false);
    tally.Violation("rankings", absl::StrCat("ranking ", ranking, " is missing from Redis (",
                                             want.size(), " riders in the journal)"));
    return;
  }
  for (const auto& [person, total] : want) CompareMember(ranking, person, total, stored, tally);
  CheckNoExtraMembers(ranking, want, stored, tally);
}

// The global watermark covers the journal's last change to earned points.
void CheckWatermark(RedisClient& redis, int64_t last_change, Tally& tally) {
  absl::StatusOr<RedisReply> wm = redis.Command({"GET", "cp:rk:wm"});
  int64_t watermark = -1;
  const bool read = wm.ok() && !wm->is_nil() && absl::SimpleAtoi(wm->str, &watermark);
  if (!tally.Holds(read ? watermark >= last_change : last_change == 0)) {
    tally.Violation("rankings", absl::StrCat("the projection's watermark cp:rk:wm is ",
                                             read ? absl::StrCat(watermark) : "unset",
                                             ", behind the journal's last change to points, "
                                             "entry ",
                                             last_change));
  }
}

// A Redis set against the PostgreSQL rows it mirrors: equal (`subset` false) or covering them.
void CompareSet(RedisClient& redis, const std::string& key, const std::set<std::string>& want,
                bool subset, Tally& tally) {
  absl::StatusOr<RedisReply> members = redis.Command({"SMEMBERS", key});
  if (!tally.Holds(members.ok())) {
    tally.Violation("rankings", absl::StrCat("SMEMBERS ", key, ": ", members.status().ToString()));
    return;
  }
  std::set<std::string> have;
  for (const RedisReply& m : members->elements) have.insert(m.str);
  const bool fits =
      subset ? std::includes(have.begin(), have.end(), want.begin(), want.end()) : have == want;
  if (!tally.Holds(fits)) {
    tally.Violation("rankings", absl::StrCat(key, " holds {", absl::StrJoin(have, ", "),
                                             "}, PostgreSQL {", absl::StrJoin(want, ", "), "}"));
  }
}

}  // namespace

void CheckRankings(pqxx::transaction_base& tx, RedisClient& redis, Tally& tally) {
  const std::map<std::string, Members> journal = RankingsFromJournal(tx);
  const int64_t last_change =
      tx.exec1("SELECT coalesce(max(sequence), 0) FROM ledger.entries WHERE earned_delta <> 0")[0]
          .as<int64_t>();
  const std::set<std::string> excluded =
      FirstColumn(tx, "SELECT person_id FROM ledger.ranking_exclusions");
  const std::set<std::string> seasons = FirstColumn(tx, "SELECT season_id FROM ledger.seasons");

  absl::StatusOr<std::set<std::string>> rankings = RankingsInRedis(redis);
  absl::StatusOr<std::map<std::string, StoredRanking>> stored;
  if (rankings.ok()) {
    for (const auto& [ranking, members] : journal) rankings->insert(ranking);
    stored = ReadRankings(redis, *rankings);
  }
  const absl::Status read = rankings.ok() ? stored.status() : rankings.status();
  if (!tally.Holds(read.ok())) {
    tally.Violation("rankings", absl::StrCat("could not read Redis's rankings: ", read.ToString()));
    return;
  }
  static const Members kNone;
  for (const auto& [ranking, held] : *stored) {
    const auto want = journal.find(ranking);
    CompareRanking(ranking, want == journal.end() ? kNone : want->second, held, tally);
  }
  CheckWatermark(redis, last_change, tally);
  CompareSet(redis, "cp:rk:excluded", excluded, /*subset=*/false, tally);
  // Seasons are never deleted, and the projector fills each it sees: all must be listed.
  CompareSet(redis, "cp:rk:seasons", seasons, /*subset=*/true, tally);
}

}  // namespace civicpoints::fault
