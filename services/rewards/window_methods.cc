// Exchange windows: CreateExchangeWindow, GetExchangeWindow, ListExchangeWindows,
// UpdateExchangeWindow, OpenExchangeWindow, CloseExchangeWindow, and the opening that freezes the
// ranking cut (also run by the background pass at start_time). The rules are window_rules.h's; the
// SQL is PgWindowStore's and records.h's (reading a window).
#include <pqxx/pqxx>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/text.h"
#include "common/log/log.h"
#include "services/rewards/access.h"
#include "services/rewards/pg_window_store.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_service.h"
#include "services/rewards/window_rules.h"

namespace civicpoints::rewards {

using common::v1::ORG_LEVEL_CITY;
using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

namespace {

absl::Status CheckPeriod(const common::v1::RankingPeriod& p) {
  const std::string& k = p.key();
  auto digits = [&](size_t from, size_t n) {
    for (size_t i = from; i < from + n; ++i) {
      if (i >= k.size() || k[i] < '0' || k[i] > '9') return false;
    }
    return true;
  };
  switch (p.kind()) {
    case common::v1::RANKING_PERIOD_KIND_ALL_TIME:
      if (!k.empty()) break;
      return absl::OkStatus();
    case common::v1::RANKING_PERIOD_KIND_MONTH:
      if (!k.empty() && !(k.size() == 7 && digits(0, 4) && k[4] == '-' && digits(5, 2))) break;
      return absl::OkStatus();
    case common::v1::RANKING_PERIOD_KIND_ISO_WEEK:
      if (!k.empty() &&
          !(k.size() == 8 && digits(0, 4) && k[4] == '-' && k[5] == 'W' && digits(6, 2))) {
        break;
      }
      return absl::OkStatus();
    case common::v1::RANKING_PERIOD_KIND_SEASON:
      if (k.empty() || k.size() > 64) break;
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("eligibility.ranking.period.kind: is required");
  }
  return absl::InvalidArgumentError(absl::StrCat("eligibility.ranking.period.key: '", k,
                                                 "' is not a valid key for its period kind"));
}

// The field rules of a window (not its references to other things).
absl::Status CheckWindowFields(const v1::ExchangeWindow& w) {
  RETURN_IF_ERROR(text::CheckText(w.title(), "title", {.max = 80, .required = true}));
  RETURN_IF_ERROR(
      text::CheckText(w.description(), "description", {.max = 2000, .lines = text::Lines::kMany}));
  if (w.station_ids_size() < 1 || w.station_ids_size() > 20) {
    return absl::InvalidArgumentError("station_ids: must hold 1–20 stations");
  }
  std::set<std::string> seen;
  for (const std::string& s : w.station_ids()) {
    RETURN_IF_ERROR(CheckId(s, "station_ids"));
    if (!seen.insert(s).second) {
      return absl::InvalidArgumentError(absl::StrCat("station_ids: ", s, " is listed twice"));
    }
  }
  if (!w.has_start_time()) return absl::InvalidArgumentError("start_time: is required");
  if (!w.has_end_time()) return absl::InvalidArgumentError("end_time: is required");
  const absl::Time start = TimeOf(w.start_time()), end = TimeOf(w.end_time());
  if (end <= start) return absl::InvalidArgumentError("end_time: must be after start_time");
  if (end - start > absl::Hours(24 * 31)) {
    return absl::InvalidArgumentError("end_time: must be at most 31 days after start_time");
  }
  if (w.gifts_size() < 1 || w.gifts_size() > 100) {
    return absl::InvalidArgumentError("gifts: must hold 1–100 gifts");
  }
  seen.clear();
  for (const v1::WindowGift& g : w.gifts()) {
    RETURN_IF_ERROR(CheckId(g.gift_id(), "gifts.gift_id"));
    if (!seen.insert(g.gift_id()).second) {
      return absl::InvalidArgumentError(absl::StrCat("gifts: ", g.gift_id(), " is listed twice"));
    }
    if (g.max_per_rider() < 0 || g.max_per_rider() > 100) {
      return absl::InvalidArgumentError("gifts.max_per_rider: must be 0–100");
    }
  }
  const v1::EligibilityRule& e = w.eligibility();
  if (e.min_balance() < 0 || e.min_balance() > 10000000) {
    return absl::InvalidArgumentError("eligibility.min_balance: must be 0–10,000,000");
  }
  if (e.has_ranking()) {
    const auto& scope = e.ranking().scope();
    if (scope.level() == common::v1::ORG_LEVEL_UNSPECIFIED ||
        !common::v1::OrgLevel_IsValid(scope.level())) {
      return absl::InvalidArgumentError("eligibility.ranking.scope.level: is required");
    }
    if (scope.level() != ORG_LEVEL_CITY) {
      RETURN_IF_ERROR(CheckId(scope.org_id(), "eligibility.ranking.scope.org_id"));
    }
    RETURN_IF_ERROR(CheckPeriod(e.ranking().period()));
    if (e.ranking().top_n() < 1 || e.ranking().top_n() > 1000) {
      return absl::InvalidArgumentError("eligibility.ranking.top_n: must be 1–1,000");
    }
  }
  if (w.max_items_per_rider() < 0 || w.max_items_per_rider() > 100) {
    return absl::InvalidArgumentError("max_items_per_rider: must be 0–100");
  }
  if (w.has_pickup_ttl()) {
    const int64_t s = w.pickup_ttl().seconds();
    if (s < 600 || s > 7 * 24 * 3600) {
      return absl::InvalidArgumentError("pickup_ttl: must be 10 minutes to 7 days");
    }
  }
  return absl::OkStatus();
}

bool PathHas(const common::v1::OrgPath& path, const std::string& id) {
  return !id.empty() &&
         (path.district_id() == id || path.street_id() == id || path.community_id() == id);
}

}  // namespace

// The window's checks against the rewards database: stations are rider stations inside the
// owner's subtree, gifts exist and are active (their names and costs copied into `with_names`).
absl::Status CheckWindowStationsAndGifts(
    pqxx::transaction_base& tx, const v1::ExchangeWindow& w,
    const std::function<absl::StatusOr<StationInfo>(const std::string&)>& station_of,
    v1::ExchangeWindow* with_names) {
  for (const std::string& id : w.station_ids()) {
    ASSIGN_OR_RETURN(StationInfo st, station_of(id));
    if (!PathHas(st.org_path, w.owner_org_id())) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_STATION_OUTSIDE_OWNER,
                    absl::StrCat("station_ids: station ", id, " is not inside the owner org ",
                                 w.owner_org_id()),
                    {{"station_id", id}});
    }
  }
  // `with_names` may be `w` itself: read the gifts before rewriting them.
  const google::protobuf::RepeatedPtrField<v1::WindowGift> gifts = w.gifts();
  with_names->clear_gifts();
  for (const v1::WindowGift& g : gifts) {
    const std::optional<PgWindowStore::GiftFacts> gift = PgWindowStore().Gift(tx, g.gift_id());
    if (!gift) {
      return absl::NotFoundError(absl::StrCat("gifts: gift ", g.gift_id(), " does not exist"));
    }
    if (!gift->active) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_GIFT_INACTIVE,
                    absl::StrCat("gifts: gift ", g.gift_id(), " is inactive"));
    }
    v1::WindowGift* out = with_names->add_gifts();
    *out = g;
    out->set_gift_name(gift->name);
    out->set_points_cost(gift->points_cost);
  }
  return absl::OkStatus();
}

// The window's checks against the other services: the ranking names a real scope and period
// (the ledger), and the scope's name for the rule text (identity); empty without a ranking.
absl::StatusOr<std::string> RankingScopeName(Directory* directory, LedgerClient* ledger,
                                             const v1::ExchangeWindow& w) {
  if (!w.eligibility().has_ranking()) return std::string();
  const auto& ranking = w.eligibility().ranking();
  absl::StatusOr<ledger::v1::GetTopRankingResponse> top =
      ledger->GetTop(ranking.scope(), ranking.period(), 1);
  if (!top.ok()) {
    if (top.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(
          absl::StrCat("eligibility.ranking.period: ", top.status().message()));
    }
    if (top.status().code() == absl::StatusCode::kInvalidArgument ||
        top.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::Status(top.status().code(),
                          absl::StrCat("eligibility.ranking: ", top.status().message()));
    }
    return top.status();
  }
  if (ranking.scope().level() == ORG_LEVEL_CITY) return std::string("全市");
  absl::StatusOr<OrgInfo> org = directory->GetOrg(ranking.scope().org_id());
  if (!org.ok()) {
    if (org.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat(
          "eligibility.ranking.scope.org_id: ", ranking.scope().org_id(), " is not an org node"));
    }
    return org.status();
  }
  return org->name;
}

// Both, the other services first; the name of the ranking's scope.
absl::StatusOr<std::string> CheckWindowRefs(
    Directory* directory, LedgerClient* ledger, pqxx::transaction_base& tx,
    const v1::ExchangeWindow& w,
    const std::function<absl::StatusOr<StationInfo>(const std::string&)>& station_of,
    v1::ExchangeWindow* with_names) {
  ASSIGN_OR_RETURN(std::string scope_name, RankingScopeName(directory, ledger, w));
  RETURN_IF_ERROR(CheckWindowStationsAndGifts(tx, w, station_of, with_names));
  return scope_name;
}

grpc::Status RewardsServiceImpl::CreateExchangeWindow(grpc::ServerContext* ctx,
                                                      const v1::CreateExchangeWindowRequest* req,
                                                      v1::CreateExchangeWindowResponse* resp) {
  return Handle(ctx, "CreateExchangeWindow", [&](const Caller& caller) -> absl::Status {
    const v1::ExchangeWindow& w = req->window();
    RETURN_IF_ERROR(CheckId(w.owner_org_id(), "window.owner_org_id"));
    RETURN_IF_ERROR(CheckWindowFields(w));
    RETURN_IF_ERROR(text::CheckIdempotencyKey(req->idempotency_key()));
    absl::StatusOr<OrgInfo> owner = directory_->GetOrg(w.owner_org_id());
    if (!owner.ok()) {
      if (owner.status().code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(
            absl::StrCat("owner_org_id: ", w.owner_org_id(), " is not an org node"));
      }
      return owner.status();
    }
    if (owner->level != ORG_LEVEL_COMMUNITY && owner->level != ORG_LEVEL_STREET &&
        owner->level != ORG_LEVEL_DISTRICT) {
      return absl::InvalidArgumentError("owner_org_id: must be a community, street or district");
    }
    RETURN_IF_ERROR(CheckCovers(caller.who(), owner->path, "owner_org_id"));
    if (TimeOf(w.end_time()) <= caller.now) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_WINDOW_ALREADY_ENDED,
                    "end_time: is already past");
    }
    std::map<std::string, StationInfo> stations;
    for (const std::string& id : w.station_ids()) {
      ASSIGN_OR_RETURN(stations[id], Station(id));
    }
    // Asked before the transaction, so that no open transaction waits on the ledger or identity
    // (a repeat's body runs too, pg::RunIdempotent, and would wait again).
    ASSIGN_OR_RETURN(const std::string scope_name, RankingScopeName(directory_, ledger_, w));
    return Idempotent(caller.who(), "CreateExchangeWindow", req->idempotency_key(), *req, resp,
                      [&](pqxx::transaction_base& tx) -> absl::Status {
                        v1::ExchangeWindow out = w;
                        out.set_window_id(NewId("w_"));
                        RETURN_IF_ERROR(CheckWindowStationsAndGifts(
                            tx, w, [&](const std::string& id) { return stations.at(id); }, &out));
                        out.set_rule_text(ComposeRuleText(out, scope_name));
                        windows_.Insert(tx, out, owner->path, caller.who().subject);
                        ASSIGN_OR_RETURN(WindowRecord rec, LoadWindow(tx, out.window_id(), false));
                        *resp->mutable_window() = rec.window;
                        return absl::OkStatus();
                      });
  });
}

grpc::Status RewardsServiceImpl::GetExchangeWindow(grpc::ServerContext* ctx,
                                                   const v1::GetExchangeWindowRequest* req,
                                                   v1::GetExchangeWindowResponse* resp) {
  return Handle(ctx, "GetExchangeWindow", [&](const Caller&) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->window_id(), "window_id"));
    return InReadTx("GetExchangeWindow", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(WindowRecord rec, LoadWindow(tx, req->window_id(), false));
      *resp->mutable_window() = rec.window;
      return absl::OkStatus();
    });
  });
}

grpc::Status RewardsServiceImpl::ListExchangeWindows(grpc::ServerContext* ctx,
                                                     const v1::ListExchangeWindowsRequest* req,
                                                     v1::ListExchangeWindowsResponse* resp) {
  return Handle(ctx, "ListExchangeWindows", [&](const Caller&) -> absl::Status {
    std::vector<int> states;
    for (int s : req->states()) {
      if (s == v1::EXCHANGE_WINDOW_STATE_UNSPECIFIED || !v1::ExchangeWindowState_IsValid(s)) {
        return absl::InvalidArgumentError("states: holds an unspecified or unknown state");
      }
      states.push_back(s);
    }
    const auto& range = req->time_range();
    if (range.has_start_time() && range.has_end_time() &&
        TimeOf(range.end_time()) < TimeOf(range.start_time())) {
      return absl::InvalidArgumentError("time_range: end_time is before start_time");
    }
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 2));
    const PgWindowStore::Filter filter{
        .states = std::move(states),
        .station_id = req->station_id(),
        .owner_org_id = req->owner_org_id(),
        .from_us =
            range.has_start_time() ? std::optional(Us(TimeOf(range.start_time()))) : std::nullopt,
        .to_us = range.has_end_time() ? std::optional(Us(TimeOf(range.end_time()))) : std::nullopt,
        .after_start_us =
            paging.after.empty() ? std::nullopt : std::optional(pg::PageKeyInt(paging.after)),
        .after_id = paging.after.empty() ? "" : paging.after[1],
        .limit = paging.size + 1};
    return InReadTx("ListExchangeWindows", [&](pqxx::transaction_base& tx) -> absl::Status {
      std::vector<v1::ExchangeWindow> windows = windows_.List(tx, filter);
      resp->set_next_page_token(TrimPage(windows, paging, [](const v1::ExchangeWindow& last) {
        return std::vector<std::string>{std::to_string(Us(TimeOf(last.start_time()))),
                                        last.window_id()};
      }));
      for (v1::ExchangeWindow& w : windows) *resp->add_windows() = std::move(w);
      return absl::OkStatus();
    });
  });
}

grpc::Status RewardsServiceImpl::UpdateExchangeWindow(grpc::ServerContext* ctx,
                                                      const v1::UpdateExchangeWindowRequest* req,
                                                      v1::UpdateExchangeWindowResponse* resp) {
  return Handle(ctx, "UpdateExchangeWindow", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->window_id(), "window_id"));
    if (req->update_mask().paths_size() == 0) {
      return absl::InvalidArgumentError("update_mask: is required and must name fields");
    }
    static const std::set<std::string> kWritable = {
        "title", "description", "station_ids",         "start_time", "end_time",
        "gifts", "eligibility", "max_items_per_rider", "pickup_ttl"};
    for (const std::string& path : req->update_mask().paths()) {
      if (kWritable.count(path) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("update_mask: '", path, "' is not a field that can be updated"));
      }
    }
    // Read once outside the transaction for the checks that call other services.
    WindowRecord current;
    RETURN_IF_ERROR(InReadTx("load window", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(current, LoadWindow(tx, req->window_id(), false));
      return absl::OkStatus();
    }));
    RETURN_IF_ERROR(CheckCovers(caller.who(), current.owner_path, "the window's owner org"));
    v1::ExchangeWindow next = current.window;
    for (const std::string& path : req->update_mask().paths()) {
      const v1::ExchangeWindow& in = req->window();
      if (path == "title") next.set_title(in.title());
      if (path == "description") next.set_description(in.description());
      if (path == "station_ids") *next.mutable_station_ids() = in.station_ids();
      if (path == "start_time") *next.mutable_start_time() = in.start_time();
      if (path == "end_time") *next.mutable_end_time() = in.end_time();
      if (path == "gifts") *next.mutable_gifts() = in.gifts();
      if (path == "eligibility") *next.mutable_eligibility() = in.eligibility();
      if (path == "max_items_per_rider") next.set_max_items_per_rider(in.max_items_per_rider());
      if (path == "pickup_ttl") {
        if (in.has_pickup_ttl()) {
          *next.mutable_pickup_ttl() = in.pickup_ttl();
        } else {
          next.clear_pickup_ttl();
        }
      }
    }
    RETURN_IF_ERROR(CheckWindowFields(next));
    std::map<std::string, StationInfo> stations;
    for (const std::string& id : next.station_ids()) {
      ASSIGN_OR_RETURN(stations[id], Station(id));
    }
    return InTx("UpdateExchangeWindow", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(WindowRecord locked, LoadWindow(tx, req->window_id(), true));
      if (!req->etag().empty() && req->etag() != locked.window.etag()) {
        return Refuse(absl::StatusCode::kAborted, v1::ERROR_REASON_CONCURRENT_CHANGE,
                      absl::StrCat("etag: the window changed since it was read (now ",
                                   locked.window.etag(), ")"));
      }
      if (locked.version != current.version) {
        return Refuse(absl::StatusCode::kAborted, v1::ERROR_REASON_CONCURRENT_CHANGE,
                      "the window changed during the update; retry");
      }
      const v1::ExchangeWindowState state = locked.window.state();
      for (const std::string& path : req->update_mask().paths()) {
        RETURN_IF_ERROR(CheckEditable(state, path));
      }
      if (state == v1::EXCHANGE_WINDOW_STATE_OPEN && TimeOf(next.end_time()) <= caller.now) {
        return absl::InvalidArgumentError("end_time: must not be in the past");
      }
      ASSIGN_OR_RETURN(std::string scope_name,
                       CheckWindowRefs(
                           directory_, ledger_, tx, next,
                           [&](const std::string& id) { return stations.at(id); }, &next));
      next.set_rule_text(ComposeRuleText(next, scope_name));
      v1::ExchangeWindow before = locked.window;
      if (before.SerializeAsString() == next.SerializeAsString()) {
        *resp->mutable_window() = locked.window;
        return absl::OkStatus();
      }
      windows_.Update(tx, next, /*with_parts=*/state == v1::EXCHANGE_WINDOW_STATE_SCHEDULED);
      ASSIGN_OR_RETURN(WindowRecord rec, LoadWindow(tx, next.window_id(), false));
      *resp->mutable_window() = rec.window;
      return absl::OkStatus();
    });
  });
}

absl::Status RewardsServiceImpl::DoOpenWindow(const std::string& window_id, absl::Time now) {
  WindowRecord rec;
  RETURN_IF_ERROR(InReadTx("load window", [&](pqxx::transaction_base& tx) -> absl::Status {
    ASSIGN_OR_RETURN(rec, LoadWindow(tx, window_id, false));
    return absl::OkStatus();
  }));
  const v1::ExchangeWindow& w = rec.window;
  ASSIGN_OR_RETURN(const OpenStep step,
                   DecideOpen(window_id, w.state(), TimeOf(w.end_time()), now));
  if (step == OpenStep::kAlreadyOpen) return absl::OkStatus();
  // The cut comes from the ledger's authoritative totals, frozen once under a key of this window,
  // so a retried or concurrent opening freezes the same riders.
  EligibilityCut cut;
  v1::EligibilitySnapshot snapshot;
  const bool has_ranking = w.eligibility().has_ranking();
  if (has_ranking) {
    const v1::RankingRule& rule = w.eligibility().ranking();
    absl::StatusOr<ledger::v1::RankingSnapshot> taken =
        ledger_->Snapshot(absl::StrCat("rewards/window/", window_id, "/cut"), rule.scope(),
                          rule.period(), rule.top_n());
    if (!taken.ok()) {
      if (taken.status().code() == absl::StatusCode::kUnavailable ||
          taken.status().code() == absl::StatusCode::kDeadlineExceeded) {
        return absl::AbortedError(absl::StrCat("the ledger's ranking could not be read; retry: ",
                                               taken.status().message()));
      }
      return taken.status();
    }
    std::vector<std::pair<std::string, int64_t>> entries;
    for (const ledger::v1::RankingEntry& e : taken->entries()) {
      entries.emplace_back(e.person_id(), e.score());
    }
    cut = CutAtTopN(std::move(entries), rule.top_n());
    int64_t total = static_cast<int64_t>(cut.riders.size());
    absl::StatusOr<ledger::v1::GetTopRankingResponse> top =
        ledger_->GetTop(rule.scope(), rule.period(), 1);
    if (top.ok()) total = std::max(total, top->total_ranked());
    SetTime(snapshot.mutable_freeze_time(), Us(now));
    snapshot.set_cutoff_points(cut.cutoff_points);
    snapshot.set_eligible_count(static_cast<int32_t>(cut.riders.size()));
    snapshot.set_ranked_count(static_cast<int32_t>(total));
  }
  return InTx("open window", [&](pqxx::transaction_base& tx) -> absl::Status {
    ASSIGN_OR_RETURN(WindowRecord locked, LoadWindow(tx, window_id, true));
    if (locked.window.state() != v1::EXCHANGE_WINDOW_STATE_SCHEDULED) return absl::OkStatus();
    windows_.MarkOpen(tx, window_id, now, cut, snapshot, has_ranking);
    return absl::OkStatus();
  });
}

grpc::Status RewardsServiceImpl::OpenExchangeWindow(grpc::ServerContext* ctx,
                                                    const v1::OpenExchangeWindowRequest* req,
                                                    v1::OpenExchangeWindowResponse* resp) {
  return Handle(ctx, "OpenExchangeWindow", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->window_id(), "window_id"));
    WindowRecord rec;
    RETURN_IF_ERROR(InReadTx("load window", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(rec, LoadWindow(tx, req->window_id(), false));
      return absl::OkStatus();
    }));
    RETURN_IF_ERROR(CheckCovers(caller.who(), rec.owner_path, "the window's owner org"));
    RETURN_IF_ERROR(DoOpenWindow(req->window_id(), caller.now));
    return InReadTx("load window", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(rec, LoadWindow(tx, req->window_id(), false));
      *resp->mutable_window() = rec.window;
      return absl::OkStatus();
    });
  });
}

namespace {

// Closes the window as of `now` unless already CLOSED.
absl::Status CloseWindowTx(pqxx::transaction_base& tx, const std::string& window_id, absl::Time now,
                           const std::string& reason) {
  ASSIGN_OR_RETURN(WindowRecord locked, LoadWindow(tx, window_id, true));
  if (locked.window.state() == v1::EXCHANGE_WINDOW_STATE_CLOSED) return absl::OkStatus();
  PgWindowStore().MarkClosed(tx, window_id, now, reason);
  return absl::OkStatus();
}

}  // namespace

grpc::Status RewardsServiceImpl::CloseExchangeWindow(grpc::ServerContext* ctx,
                                                     const v1::CloseExchangeWindowRequest* req,
                                                     v1::CloseExchangeWindowResponse* resp) {
  return Handle(ctx, "CloseExchangeWindow", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->window_id(), "window_id"));
    RETURN_IF_ERROR(
        text::CheckText(req->reason(), "reason", {.max = 200, .lines = text::Lines::kMany}));
    return InTx("CloseExchangeWindow", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(WindowRecord rec, LoadWindow(tx, req->window_id(), true));
      RETURN_IF_ERROR(CheckCovers(caller.who(), rec.owner_path, "the window's owner org"));
      RETURN_IF_ERROR(CloseWindowTx(tx, req->window_id(), caller.now, req->reason()));
      ASSIGN_OR_RETURN(rec, LoadWindow(tx, req->window_id(), false));
      *resp->mutable_window() = rec.window;
      return absl::OkStatus();
    });
  });
}

absl::Status CloseWindowNow(pqxx::transaction_base& tx, const std::string& window_id,
                            absl::Time now) {
  return CloseWindowTx(tx, window_id, now, "");
}

}  // namespace civicpoints::rewards
