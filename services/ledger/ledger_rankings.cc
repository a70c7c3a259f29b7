// Ledger's rankings: the top, a rider's rank and neighbours (read from the projection in Redis),
// exclusions from rankings, and the rebuild of the projection from the journal.
#include <algorithm>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "services/ledger/group_committer.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_support.h"
#include "services/ledger/pg_ledger_store.h"
#include "services/ledger/ranking_keys.h"
#include "services/ledger/ranking_names.h"

namespace civicpoints::ledger {

using support::CheckId;
using support::CheckReason;
using support::ColumnsFor;
using support::Invalid;
using support::kDefaultPageSize;
using support::kMaxPageSize;
using support::kMaxTopN;
using support::NodeColumns;
using support::ToProto;

v1::RankingEntry Ledger::ToEntry(const RankingPlace& r) const {
  v1::RankingEntry e;
  e.set_rank(r.rank);
  e.set_person_id(r.person_id);
  e.set_score(r.points);
  *e.mutable_reach_time() = ToProto(r.reach_time);
  if (names_ != nullptr) names_->Fill(e);
  return e;
}

absl::StatusOr<v1::GetTopRankingResponse> Ledger::GetTopRanking(
    const v1::GetTopRankingRequest& req) {
  SettleRankings();
  ASSIGN_OR_RETURN(std::string key, RankingKeyFor(req.scope(), req.period(), absl::Now()));
  if (req.top_n() < 0 || req.top_n() > kMaxTopN) return Invalid("top_n: must be 1-1000");
  const int64_t n = req.top_n() == 0 ? 10 : req.top_n();
  auto read_top = [&]() -> absl::StatusOr<TopRead> {
    TopRead read;
    ASSIGN_OR_RETURN(read.riders, projection_->Range(key, 0, n, &read.total));
    std::vector<RankingPlace>& top = read.riders;
    if (req.include_ties() && static_cast<int64_t>(top.size()) == n) {
      // Riders tied with the n-th place are inside the cut (up to 1,000 more), read a page at a
      // time below it.
      const int64_t cut = top.back().points;
      for (int64_t start = n; start < n + kMaxTopN; start += 100) {
        ASSIGN_OR_RETURN(std::vector<RankingPlace> more, projection_->Range(key, start, 100));
        bool done = more.size() < 100;
        for (const RankingPlace& r : more) {
          if (r.points != cut) {
            done = true;
            break;
          }
          top.push_back(r);
        }
        if (done) break;
      }
    }
    return read;
  };
  ASSIGN_OR_RETURN(
      std::shared_ptr<const TopRead> read,
      top_cache_.Get(absl::StrCat(key, "|top:", n, req.include_ties() ? "+ties" : ""), read_top));
  v1::GetTopRankingResponse resp;
  *resp.mutable_period() = req.period();
  for (const RankingPlace& r : read->riders) *resp.add_entries() = ToEntry(r);
  resp.set_total_ranked(read->total);
  return resp;
}

absl::StatusOr<v1::GetRankResponse> Ledger::GetRank(const v1::GetRankRequest& req) {
  SettleRankings();
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  ASSIGN_OR_RETURN(std::string key, RankingKeyFor(req.scope(), req.period(), absl::Now()));
  ASSIGN_OR_RETURN(std::optional<RankingPlace> me, projection_->PlaceOf(key, req.person_id()));
  v1::GetRankResponse resp;
  ASSIGN_OR_RETURN(std::vector<std::string> excluded, projection_->Excluded());
  resp.set_excluded(std::find(excluded.begin(), excluded.end(), req.person_id()) != excluded.end());
  if (me.has_value()) {
    *resp.mutable_entry() = ToEntry(*me);
  } else {
    resp.mutable_entry()->set_person_id(req.person_id());  // rank 0: not ranked yet
  }
  ASSIGN_OR_RETURN(int64_t count, projection_->Count(key));
  resp.set_total_ranked(count);
  *resp.mutable_period() = req.period();
  return resp;
}

absl::StatusOr<v1::GetRankingNeighboursResponse> Ledger::GetRankingNeighbours(
    const v1::GetRankingNeighboursRequest& req) {
  SettleRankings();
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  ASSIGN_OR_RETURN(std::string key, RankingKeyFor(req.scope(), req.period(), absl::Now()));
  if (req.above() < 0 || req.above() > 50 || req.below() < 0 || req.below() > 50) {
    return Invalid("above, below: must be 0-50");
  }
  const int above = req.above() == 0 && req.below() == 0 ? 1 : req.above();
  const int below = req.above() == 0 && req.below() == 0 ? 1 : req.below();
  ASSIGN_OR_RETURN(std::vector<RankingPlace> around,
                   projection_->Around(key, req.person_id(), above, below));
  v1::GetRankingNeighboursResponse resp;
  bool seen_self = false;
  for (const RankingPlace& r : around) {
    if (r.person_id == req.person_id()) {
      *resp.mutable_self() = ToEntry(r);
      seen_self = true;
    } else {
      *(seen_self ? resp.add_below() : resp.add_above()) = ToEntry(r);
    }
  }
  if (!seen_self) resp.mutable_self()->set_person_id(req.person_id());
  ASSIGN_OR_RETURN(int64_t count, projection_->Count(key));
  resp.set_total_ranked(count);
  *resp.mutable_period() = req.period();
  return resp;
}

absl::StatusOr<v1::ExcludeFromRankingsResponse> Ledger::ExcludeFromRankings(
    const v1::ExcludeFromRankingsRequest& req, const std::string& actor) {
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  RETURN_IF_ERROR(CheckReason(req.reason(), true));
  v1::ExcludeFromRankingsResponse resp;
  RETURN_IF_ERROR(committer_->Run(req.person_id(), [&](pqxx::dbtransaction& tx) {
    ASSIGN_OR_RETURN(std::optional<v1::RankingExclusion> existing,
                     store_->FindExclusion(tx, req.person_id()));
    if (existing.has_value()) {
      *resp.mutable_exclusion() = *existing;  // already excluded: the earlier exclusion stands
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(*resp.mutable_exclusion(),
                     store_->Exclude(tx, req.person_id(), req.reason(), actor));
    return absl::OkStatus();
  }));
  // Reads skip excluded riders: one set write, put right by the background loop if it fails.
  if (!projection_->SetExcluded(req.person_id(), true).ok()) exclusions_dirty_ = true;
  top_cache_.Invalidate();
  return resp;
}

absl::StatusOr<v1::RestoreToRankingsResponse> Ledger::RestoreToRankings(
    const v1::RestoreToRankingsRequest& req, const std::string& actor) {
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  RETURN_IF_ERROR(CheckReason(req.reason(), true));
  v1::RestoreToRankingsResponse resp;
  RETURN_IF_ERROR(committer_->Run(req.person_id(), [&](pqxx::dbtransaction& tx) {
    resp.Clear();
    ASSIGN_OR_RETURN(std::optional<v1::RankingExclusion> existing,
                     store_->FindExclusion(tx, req.person_id()));
    if (!existing.has_value()) return absl::OkStatus();  // nothing to restore
    resp.set_was_excluded(true);
    *resp.mutable_ended_exclusion() = *existing;
    ASSIGN_OR_RETURN(absl::Time restored,
                     store_->Restore(tx, req.person_id(), req.reason(), actor));
    *resp.mutable_restore_time() = ToProto(restored);
    return absl::OkStatus();
  }));
  if (!projection_->SetExcluded(req.person_id(), false).ok()) exclusions_dirty_ = true;
  top_cache_.Invalidate();
  return resp;
}

absl::StatusOr<v1::ListRankingExclusionsResponse> Ledger::ListRankingExclusions(
    const v1::ListRankingExclusionsRequest& req) {
  ASSIGN_OR_RETURN(const NodeColumns node, ColumnsFor(req.scope()));
  if (req.page_size() < 0) return Invalid("page_size: must not be negative");
  const int limit =
      req.page_size() == 0 ? kDefaultPageSize : std::min(req.page_size(), kMaxPageSize);
  std::string after;
  if (!req.page_token().empty() && !absl::WebSafeBase64Unescape(req.page_token(), &after)) {
    return Invalid("page_token: is not valid for this request");
  }
  ASSIGN_OR_RETURN(std::vector<v1::RankingExclusion> rows,
                   store_->ListExclusions(node.column, req.scope().org_id(), after, limit));
  v1::ListRankingExclusionsResponse resp;
  for (v1::RankingExclusion& x : rows) *resp.add_exclusions() = std::move(x);
  if (static_cast<int>(rows.size()) == limit) {
    resp.set_next_page_token(
        absl::WebSafeBase64Escape(resp.exclusions(resp.exclusions_size() - 1).person_id()));
  }
  return resp;
}

absl::StatusOr<v1::RebuildRankingsResponse> Ledger::RebuildRankings(
    const v1::RebuildRankingsRequest& req) {
  const absl::Time start = absl::Now();
  // The parts of the keys to rebuild: "<scope>" and "<period>" of "<scope>|<period>".
  std::string scope_part, period_part;
  if (req.has_scope()) {
    common::v1::RankingPeriod all_time;
    all_time.set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
    ASSIGN_OR_RETURN(std::string key, RankingKeyFor(req.scope(), all_time, start));
    scope_part = key.substr(0, key.find('|'));
  }
  if (req.has_period()) {
    common::v1::OrgScope city;
    city.set_level(common::v1::ORG_LEVEL_CITY);
    ASSIGN_OR_RETURN(std::string key, RankingKeyFor(city, req.period(), start));
    period_part = key.substr(key.find('|') + 1);
    if (req.period().kind() == common::v1::RANKING_PERIOD_KIND_SEASON) {
      ASSIGN_OR_RETURN(std::optional<v1::Season> season, store_->GetSeason(req.period().key()));
      if (!season.has_value()) {
        return absl::NotFoundError(absl::StrCat("season ", req.period().key(), " does not exist"));
      }
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::string> excluded, store_->AllExcluded());
  RETURN_IF_ERROR(projection_->ReplaceExcluded(excluded));
  std::pair<int64_t, ProjectionRun> rebuilt;
  if (scope_part.empty() && period_part.empty()) {
    ASSIGN_OR_RETURN(rebuilt, projector_->Rebuild());
  } else {
    ASSIGN_OR_RETURN(rebuilt, projector_->RebuildMatching([&](const std::string& key) {
      return (scope_part.empty() || absl::StartsWith(key, scope_part + "|")) &&
             (period_part.empty() || absl::EndsWith(key, "|" + period_part));
    }));
  }
  v1::RebuildRankingsResponse resp;
  resp.set_rankings_rebuilt(rebuilt.first);
  resp.set_members_written(rebuilt.second.changes);
  resp.set_as_of_sequence(rebuilt.second.watermark);
  const absl::Duration elapsed = absl::Now() - start;
  resp.mutable_elapsed()->set_seconds(absl::ToInt64Seconds(elapsed));
  resp.mutable_elapsed()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(elapsed % absl::Seconds(1))));
  return resp;
}

}  // namespace civicpoints::ledger
