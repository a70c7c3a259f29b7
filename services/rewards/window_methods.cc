// Exchange windows: CreateExchangeWindow, GetExchangeWindow, ListExchangeWindows,
// UpdateExchangeWindow, OpenExchangeWindow, CloseExchangeWindow, and the opening that freezes the
// ranking cut (also run by the background pass at start_time).
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
#include "services/rewards/records.h"
#include "services/rewards/rewards_service.h"

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

// The checks of a window against other things: stations are rider stations inside the owner's
// subtree, gifts exist and are active, the ranking names a real scope and period, and the name of
// the ranking's scope for the rule text.
absl::StatusOr<std::string> CheckWindowRefs(
    Directory* directory, LedgerClient* ledger, pqxx::transaction_base& tx,
    const v1::ExchangeWindow& w,
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
    pqxx::result r = tx.exec_params(
        "SELECT name, points_cost, active FROM gifts WHERE gift_id = $1", g.gift_id());
    if (r.empty()) {
      return absl::NotFoundError(absl::StrCat("gifts: gift ", g.gift_id(), " does not exist"));
    }
    if (!r[0][2].as<bool>()) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_GIFT_INACTIVE,
                    absl::StrCat("gifts: gift ", g.gift_id(), " is inactive"));
    }
    v1::WindowGift* out = with_names->add_gifts();
    *out = g;
    out->set_gift_name(r[0][0].as<std::string>());
    out->set_points_cost(r[0][1].as<int64_t>());
  }
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

namespace {

// Writes the window's stations and gifts (replacing what was there).
void WriteWindowParts(pqxx::transaction_base& tx, const v1::ExchangeWindow& w) {
  tx.exec_params("DELETE FROM window_stations WHERE window_id = $1", w.window_id());
  tx.exec_params("DELETE FROM window_gifts WHERE window_id = $1", w.window_id());
  int pos = 0;
  for (const std::string& s : w.station_ids()) {
    tx.exec_params(
        "INSERT INTO window_stations (window_id, station_id, position) VALUES ($1, $2, $3::int)",
        w.window_id(), s, pos++);
  }
  pos = 0;
  for (const v1::WindowGift& g : w.gifts()) {
    tx.exec_params(
        "INSERT INTO window_gifts (window_id, gift_id, position, max_per_rider) "
        "VALUES ($1, $2, $3::int, $4::int)",
        w.window_id(), g.gift_id(), pos++, g.max_per_rider());
  }
}

std::optional<int64_t> TtlSeconds(const v1::ExchangeWindow& w) {
  if (!w.has_pickup_ttl()) return std::nullopt;
  return w.pickup_ttl().seconds();
}

}  // namespace

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
    return Idempotent(
        caller.who(), "CreateExchangeWindow", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          v1::ExchangeWindow out = w;
          out.set_window_id(NewId("w_"));
          ASSIGN_OR_RETURN(std::string scope_name,
                           CheckWindowRefs(
                               directory_, ledger_, tx, w,
                               [&](const std::string& id) { return stations.at(id); }, &out));
          out.set_rule_text(ComposeRuleText(out, scope_name));
          tx.exec_params(
              "INSERT INTO exchange_windows (window_id, title, description, owner_org_id, "
              "owner_district_id, owner_street_id, owner_community_id, start_at, end_at, "
              "eligibility, has_ranking, max_items_per_rider, pickup_ttl_s, state, rule_text, "
              "creator_id) VALUES ($1, $2, $3, $4, $5, $6, $7, from_us($8::bigint), "
              "from_us($9::bigint), $10, $11::boolean, $12::int, $13::bigint, 1, $14, $15)",
              out.window_id(), out.title(), out.description(), out.owner_org_id(),
              owner->path.district_id(), owner->path.street_id(), owner->path.community_id(),
              Us(TimeOf(out.start_time())), Us(TimeOf(out.end_time())),
              pqxx::binarystring(out.eligibility().SerializeAsString()),
              out.eligibility().has_ranking(), out.max_items_per_rider(), TtlSeconds(out),
              out.rule_text(), caller.who().subject);
          WriteWindowParts(tx, out);
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
    std::vector<std::string> states;
    for (int s : req->states()) {
      if (s == v1::EXCHANGE_WINDOW_STATE_UNSPECIFIED || !v1::ExchangeWindowState_IsValid(s)) {
        return absl::InvalidArgumentError("states: holds an unspecified or unknown state");
      }
      states.push_back(std::to_string(s));
    }
    const auto& range = req->time_range();
    if (range.has_start_time() && range.has_end_time() &&
        TimeOf(range.end_time()) < TimeOf(range.start_time())) {
      return absl::InvalidArgumentError("time_range: end_time is before start_time");
    }
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 2));
    return InReadTx("ListExchangeWindows", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result rows = tx.exec_params(
          absl::StrCat(
              "SELECT ", kWindowColumns,
              " FROM exchange_windows w WHERE (cardinality($1::smallint[]) = 0 OR w.state = ANY "
              "($1::smallint[])) AND ($2 = '' OR EXISTS (SELECT 1 FROM window_stations ws WHERE "
              "ws.window_id = w.window_id AND ws.station_id = $2)) AND ($3 = '' OR $3 IN "
              "(w.owner_org_id, w.owner_district_id, w.owner_street_id)) "
              "AND ($4::bigint IS NULL OR w.end_at > from_us($4::bigint)) "
              "AND ($5::bigint IS NULL OR w.start_at < from_us($5::bigint)) "
              "AND (us(w.start_at), w.window_id) > ($6::bigint, $7) "
              "ORDER BY w.start_at, w.window_id LIMIT $8::int"),
          absl::StrCat("{", absl::StrJoin(states, ","), "}"), req->station_id(),
          req->owner_org_id(),
          range.has_start_time() ? std::optional<int64_t>(Us(TimeOf(range.start_time())))
                                 : std::nullopt,
          range.has_end_time() ? std::optional<int64_t>(Us(TimeOf(range.end_time())))
                               : std::nullopt,
          paging.after.empty() ? "-9223372036854775807" : paging.after[0],
          paging.after.empty() ? "" : paging.after[1], paging.size + 1);
      resp->set_next_page_token(FillPage(
          rows, paging,
          [&](const pqxx::row& row) {
            v1::ExchangeWindow* w = resp->add_windows();
            *w = ReadWindow(row).window;
            LoadWindowParts(tx, w);
          },
          [](const pqxx::row& row) {
            return std::vector<std::string>{row[4].as<std::string>(), row[0].as<std::string>()};
          }));
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
    static const std::set<std::string> kWhileOpen = {"title", "description", "end_time"};
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
        const bool editable = state == v1::EXCHANGE_WINDOW_STATE_SCHEDULED ||
                              (state == v1::EXCHANGE_WINDOW_STATE_OPEN && kWhileOpen.count(path));
        if (!editable) {
          return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_WINDOW_NOT_EDITABLE,
                        absl::StrCat(path, ": cannot change while the window is ",
                                     v1::ExchangeWindowState_Name(state)),
                        {{"field", path}});
        }
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
      tx.exec_params(
          "UPDATE exchange_windows SET title = $2, description = $3, start_at = "
          "from_us($4::bigint), end_at = from_us($5::bigint), eligibility = $6, has_ranking = "
          "$7::boolean, max_items_per_rider = $8::int, pickup_ttl_s = $9::bigint, rule_text = "
          "$10, version = version + 1, updated_at = now() WHERE window_id = $1",
          next.window_id(), next.title(), next.description(), Us(TimeOf(next.start_time())),
          Us(TimeOf(next.end_time())), pqxx::binarystring(next.eligibility().SerializeAsString()),
          next.eligibility().has_ranking(), next.max_items_per_rider(), TtlSeconds(next),
          next.rule_text());
      if (state == v1::EXCHANGE_WINDOW_STATE_SCHEDULED) WriteWindowParts(tx, next);
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
  if (w.state() == v1::EXCHANGE_WINDOW_STATE_OPEN) return absl::OkStatus();
  if (w.state() == v1::EXCHANGE_WINDOW_STATE_CLOSED) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_WINDOW_CLOSED,
                  absl::StrCat("exchange window ", window_id, " is closed"));
  }
  if (TimeOf(w.end_time()) <= now) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_WINDOW_CLOSED,
                  absl::StrCat("exchange window ", window_id, " ended before it was opened"));
  }
  // The cut comes from the ledger's authoritative totals, frozen once under a key of this window,
  // so a retried or concurrent opening freezes the same riders.
  std::vector<std::pair<std::string, int64_t>> ranked;
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
    for (const ledger::v1::RankingEntry& e : taken->entries()) {
      if (e.score() > 0) ranked.emplace_back(e.person_id(), e.score());
    }
    std::sort(ranked.begin(), ranked.end(),
              [](const auto& a, const auto& b) { return a.second > b.second; });
    const size_t n = static_cast<size_t>(rule.top_n());
    const int64_t cutoff = ranked.size() >= n ? ranked[n - 1].second : 0;
    // Riders tied with the N-th place are inside: everyone with at least the cutoff.
    ranked.erase(std::remove_if(ranked.begin(), ranked.end(),
                                [&](const auto& r) { return r.second < cutoff; }),
                 ranked.end());
    int64_t total = static_cast<int64_t>(ranked.size());
    absl::StatusOr<ledger::v1::GetTopRankingResponse> top =
        ledger_->GetTop(rule.scope(), rule.period(), 1);
    if (top.ok()) total = std::max(total, top->total_ranked());
    SetTime(snapshot.mutable_freeze_time(), Us(now));
    snapshot.set_cutoff_points(cutoff);
    snapshot.set_eligible_count(static_cast<int32_t>(ranked.size()));
    snapshot.set_ranked_count(static_cast<int32_t>(total));
  }
  return InTx("open window", [&](pqxx::transaction_base& tx) -> absl::Status {
    ASSIGN_OR_RETURN(WindowRecord locked, LoadWindow(tx, window_id, true));
    if (locked.window.state() != v1::EXCHANGE_WINDOW_STATE_SCHEDULED) return absl::OkStatus();
    size_t i = 0;
    for (const auto& [rider, points] : ranked) {
      // Shared places: 1 + riders with more points.
      size_t rank = i;
      while (rank > 0 && ranked[rank - 1].second == points) --rank;
      tx.exec_params(
          "INSERT INTO window_eligible (window_id, rider_id, rank, points) "
          "VALUES ($1, $2, $3::int, $4::bigint) ON CONFLICT DO NOTHING",
          window_id, rider, static_cast<int>(rank + 1), points);
      ++i;
    }
    tx.exec_params(
        "UPDATE exchange_windows SET state = exchange_window_state('OPEN'), opened_at = "
        "from_us($2::bigint), start_at = "
        "least(start_at, from_us($2::bigint)), snapshot = CASE WHEN $4::boolean THEN $3::bytea "
        "END, version = version + 1, updated_at = now() WHERE window_id = $1",
        window_id, Us(now), pqxx::binarystring(snapshot.SerializeAsString()), has_ranking);
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
  tx.exec_params(
      "UPDATE exchange_windows SET state = exchange_window_state('CLOSED'), closed_at = "
      "from_us($2::bigint), end_at = CASE "
      "WHEN start_at < from_us($2::bigint) THEN least(end_at, from_us($2::bigint)) ELSE end_at "
      "END, close_reason = $3, version = version + 1, updated_at = now() WHERE window_id = $1",
      window_id, Us(now), reason);
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
