// Ledger's seasons (named ranking periods) and ranking snapshots frozen from PostgreSQL.
#include <sodium.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "common/base/time_units.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_support.h"
#include "services/ledger/pg_ledger_store.h"
#include "services/ledger/ranking_keys.h"
#include "services/ledger/ranking_names.h"

namespace civicpoints::ledger {

namespace gp = ::google::protobuf;
using support::CheckId;
using support::Invalid;
using support::kDefaultPageSize;
using support::kMaxPageSize;
using support::kMaxTopN;
using support::RequestHash;
using support::ToProto;

namespace {

// A snapshot's id from its request, its caller and its key: two callers' snapshots under one key
// are two snapshots (keys belong to their caller), so their ids must differ too.
std::string SnapshotId(const gp::Message& request, const std::string& caller,
                       const std::string& key) {
  const std::string owner = absl::StrCat(caller.size(), ":", caller, key);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(owner.data()), owner.size());
  return absl::StrCat(
      "snap-", absl::BytesToHexString(RequestHash(request)).substr(0, 12), "-",
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 6)));
}

}  // namespace

absl::StatusOr<v1::Season> Ledger::CreateSeason(const v1::CreateSeasonRequest& req,
                                                const std::string& actor) {
  RETURN_IF_ERROR(text::CheckIdempotencyKey(req.idempotency_key()));
  RETURN_IF_ERROR(
      text::CheckText(req.display_name(), "display_name", {.max = 64, .required = true}));
  const common::v1::OrgLevel level = req.scope().level();
  if (level < common::v1::ORG_LEVEL_CITY || level > common::v1::ORG_LEVEL_COMMUNITY) {
    return Invalid("scope.level: is required (city, district, street or community)");
  }
  if (level != common::v1::ORG_LEVEL_CITY)
    RETURN_IF_ERROR(CheckId(req.scope().org_id(), "scope.org_id"));
  if (!req.has_start_time() || !req.has_end_time()) {
    return Invalid("start_time, end_time: are required");
  }
  const absl::Time start = times::TimeOf(req.start_time()), end = times::TimeOf(req.end_time());
  if (end <= start) return Invalid("end_time: must be after start_time");
  if (end - start > absl::Hours(24 * 366))
    return Invalid("end_time: is more than 366 days after start_time");
  if (start < absl::Now() - absl::Hours(24 * 366)) {
    return Invalid("start_time: is more than 366 days ago");
  }
  v1::CreateSeasonResponse response;
  RETURN_IF_ERROR(Mutate(actor, "CreateSeason", req.idempotency_key(), req, "season", &response,
                         [&](pqxx::dbtransaction& tx, gp::Message* out, int64_t*) {
                           v1::Season season;
                           season.set_display_name(req.display_name());
                           *season.mutable_scope() = req.scope();
                           if (level == common::v1::ORG_LEVEL_CITY)
                             season.mutable_scope()->clear_org_id();
                           *season.mutable_start_time() = req.start_time();
                           *season.mutable_end_time() = req.end_time();
                           season.set_creator_id(actor);
                           ASSIGN_OR_RETURN(
                               *static_cast<v1::CreateSeasonResponse*>(out)->mutable_season(),
                               store_->InsertSeason(tx, season, kMaxOpenSeasons));
                           return absl::OkStatus();
                         }));
  // The projector fills the season's rankings from the journal; do it now, so they are there
  // when this answers (or, with Redis down, once it is back).
  projector_->SeasonsChanged();
  if (absl::StatusOr<ProjectionRun> filled = projector_->CatchUp(); !filled.ok()) {
    log::Warn("season rankings left to the projector",
              {{"season", response.season().season_id()},
               {"error", std::string(filled.status().message())}});
  }
  return response.season();
}

absl::StatusOr<v1::Season> Ledger::GetSeason(const std::string& season_id) {
  RETURN_IF_ERROR(CheckId(season_id, "season_id"));
  ASSIGN_OR_RETURN(std::optional<v1::Season> season, store_->GetSeason(season_id));
  if (!season.has_value())
    return absl::NotFoundError(absl::StrCat("season ", season_id, " does not exist"));
  return *season;
}

absl::StatusOr<v1::ListSeasonsResponse> Ledger::ListSeasons(const v1::ListSeasonsRequest& req) {
  if (req.page_size() < 0) return Invalid("page_size: must not be negative");
  const int limit =
      req.page_size() == 0 ? kDefaultPageSize : std::min(req.page_size(), kMaxPageSize);
  int level = 0;
  if (req.has_scope()) {
    level = req.scope().level();
    if (level < common::v1::ORG_LEVEL_CITY || level > common::v1::ORG_LEVEL_COMMUNITY) {
      return Invalid("scope.level: must be city, district, street or community");
    }
    if (level != common::v1::ORG_LEVEL_CITY)
      RETURN_IF_ERROR(CheckId(req.scope().org_id(), "scope.org_id"));
  }
  for (int st : req.states()) {
    if (st == v1::SEASON_STATE_UNSPECIFIED || !v1::SeasonState_IsValid(st)) {
      return Invalid("states: holds an unknown state");
    }
  }
  int64_t after = 0;
  if (!req.page_token().empty()) {
    std::string decoded;
    if (!absl::WebSafeBase64Unescape(req.page_token(), &decoded) ||
        !absl::SimpleAtoi(decoded, &after) || after <= 0) {
      return Invalid("page_token: is not valid for this request");
    }
  }
  // Ancestors of a node are not known to the ledger; a node's seasons and the city's are listed.
  v1::ListSeasonsResponse resp;
  while (resp.seasons_size() < limit) {
    ASSIGN_OR_RETURN(auto rows,
                     store_->ListSeasons(level, req.scope().org_id(), "", "", after, limit));
    for (auto& [seq, season] : rows) {
      after = seq;
      const bool wanted =
          req.states().empty() ||
          std::find(req.states().begin(), req.states().end(), season.state()) != req.states().end();
      if (wanted && resp.seasons_size() < limit) *resp.add_seasons() = std::move(season);
    }
    if (static_cast<int>(rows.size()) < limit) {
      after = 0;
      break;
    }
  }
  if (after > 0) resp.set_next_page_token(absl::WebSafeBase64Escape(absl::StrCat(after)));
  return resp;
}

absl::StatusOr<v1::RankingSnapshot> Ledger::SnapshotRanking(const v1::SnapshotRankingRequest& req,
                                                            const std::string& actor) {
  RETURN_IF_ERROR(text::CheckIdempotencyKey(req.idempotency_key()));
  ASSIGN_OR_RETURN(std::string key, RankingKeyFor(req.scope(), req.period(), absl::Now()));
  if (req.top_n() < 1 || req.top_n() > kMaxTopN) return Invalid("top_n: must be 1-1000");
  v1::SnapshotRankingResponse response;
  RETURN_IF_ERROR(Mutate(actor, "SnapshotRanking", req.idempotency_key(), req, "snapshot",
                         &response, [&](pqxx::dbtransaction& tx, gp::Message* out, int64_t*) {
                           v1::RankingSnapshot* snap =
                               static_cast<v1::SnapshotRankingResponse*>(out)->mutable_snapshot();
                           snap->set_snapshot_id(SnapshotId(req, actor, req.idempotency_key()));
                           *snap->mutable_scope() = req.scope();
                           *snap->mutable_period() = req.period();
                           // The resolved key, so "this month" stays the month the snapshot was
                           // taken in.
                           const std::string period_part = key.substr(key.find('|') + 1);
                           const size_t colon = period_part.find(':');
                           if (colon != std::string::npos)
                             snap->mutable_period()->set_key(period_part.substr(colon + 1));
                           snap->set_top_n(req.top_n());
                           snap->set_include_ties(req.include_ties());
                           int64_t as_of = 0;
                           ASSIGN_OR_RETURN(std::vector<v1::RankingEntry> top,
                                            store_->ReadRanking(tx, key, req.top_n(),
                                                                req.include_ties(), &as_of));
                           for (v1::RankingEntry& e : top) *snap->add_entries() = std::move(e);
                           snap->set_as_of_sequence(as_of);
                           *snap->mutable_create_time() = ToProto(absl::Now());
                           snap->set_creator_id(actor);
                           return store_->SaveSnapshot(tx, *snap);
                         }));
  // Names as the riders choose them now, not as stored: a rider who hides their name later is
  // hidden in earlier snapshots too.
  if (names_ != nullptr) names_->Fill(*response.mutable_snapshot()->mutable_entries());
  return response.snapshot();
}

absl::StatusOr<v1::RankingSnapshot> Ledger::GetRankingSnapshot(const std::string& snapshot_id) {
  RETURN_IF_ERROR(CheckId(snapshot_id, "snapshot_id"));
  ASSIGN_OR_RETURN(std::optional<v1::RankingSnapshot> snap, store_->GetSnapshot(snapshot_id));
  if (!snap.has_value()) {
    return absl::NotFoundError(absl::StrCat("snapshot ", snapshot_id, " does not exist"));
  }
  if (names_ != nullptr) names_->Fill(*snap->mutable_entries());
  return *snap;
}

}  // namespace civicpoints::ledger
