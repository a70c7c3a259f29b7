// Eligibility: ListMyEligibleExchangeWindows, GetExchangeWindowEligibility,
// ListExchangeWindowEligibleRiders.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "services/rewards/access.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_service.h"
#include "services/rewards/standing.h"

namespace civicpoints::rewards {

using common::v1::ROLE_RIDER;

namespace {

// The rider's live place for a window not yet open: rank and points from the ledger, and the
// N-th place's points when N is within the ledger's top-100 read.
ProvisionalRank LiveRank(LedgerClient* ledger, const v1::ExchangeWindow& w,
                         const std::string& rider) {
  ProvisionalRank p;
  if (w.state() != v1::EXCHANGE_WINDOW_STATE_SCHEDULED || !w.eligibility().has_ranking()) {
    return p;
  }
  const v1::RankingRule& rule = w.eligibility().ranking();
  absl::StatusOr<ledger::v1::GetRankResponse> rank =
      ledger->GetRank(rider, rule.scope(), rule.period());
  if (!rank.ok()) return p;
  p.known = true;
  p.rank = static_cast<int32_t>(rank->entry().rank());
  p.points = rank->entry().score();
  if (rule.top_n() <= 100) {
    absl::StatusOr<ledger::v1::GetTopRankingResponse> top =
        ledger->GetTop(rule.scope(), rule.period(), rule.top_n());
    if (top.ok() && top->entries_size() >= rule.top_n()) {
      p.cutoff = top->entries(rule.top_n() - 1).score();
    }
  }
  return p;
}

// OK when a keeper keeps one of the window's stations or staff cover its owner org or a station.
absl::Status CheckWindowScope(
    const auth::Principal& who, const WindowRecord& rec,
    const std::function<absl::StatusOr<StationInfo>(const std::string&)>& station_of,
    const std::function<absl::Status(const auth::Principal&, const StationInfo&)>& covers) {
  bool keeper_only = true;
  for (const auth::RoleGrant& g : who.roles) {
    if (g.role != common::v1::ROLE_STATION_KEEPER && g.role != ROLE_RIDER) keeper_only = false;
  }
  if (!keeper_only && auth::CheckStaffCovers(who, rec.owner_path, "").ok()) {
    return absl::OkStatus();
  }
  for (const std::string& id : rec.window.station_ids()) {
    absl::StatusOr<StationInfo> st = station_of(id);
    if (st.ok() && covers(who, *st).ok()) return absl::OkStatus();
  }
  return Refuse(absl::StatusCode::kPermissionDenied, v1::ERROR_REASON_NOT_STATION_KEEPER,
                absl::StrCat("exchange window ", rec.window.window_id(),
                             " is outside the caller's stations and staff scope"));
}

}  // namespace

grpc::Status RewardsServiceImpl::ListMyEligibleExchangeWindows(
    grpc::ServerContext* ctx, const v1::ListMyEligibleExchangeWindowsRequest* req,
    v1::ListMyEligibleExchangeWindowsResponse* resp) {
  return Handle(ctx, "ListMyEligibleExchangeWindows", [&](const Caller& caller) -> absl::Status {
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 2));
    const std::string rider = caller.who().subject;
    // Open windows the rider is inside the frozen cut of (or that have no ranking rule); scheduled
    // ones on request, judged by the live ranking below.
    std::vector<WindowRecord> windows;
    std::string next;
    RETURN_IF_ERROR(InReadTx("eligible windows", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result rows = tx.exec_params(
          absl::StrCat(
              "SELECT ", kWindowColumns,
              " FROM exchange_windows w WHERE ((w.state = exchange_window_state('OPEN') AND "
              "w.end_at > now() AND (NOT "
              "w.has_ranking OR EXISTS (SELECT 1 FROM window_eligible e WHERE e.window_id = "
              "w.window_id AND e.rider_id = $1))) OR ($2::boolean AND w.state = "
              "exchange_window_state('SCHEDULED') AND w.end_at > "
              "now())) AND ($3 = '' OR EXISTS (SELECT 1 FROM window_stations ws WHERE "
              "ws.window_id = w.window_id AND ws.station_id = $3)) AND (us(w.end_at), "
              "w.window_id) > ($4::bigint, $5) ORDER BY w.end_at, w.window_id LIMIT $6::int"),
          rider, req->include_scheduled(), req->station_id(),
          paging.after.empty() ? "-9223372036854775807" : paging.after[0],
          paging.after.empty() ? "" : paging.after[1], paging.size + 1);
      next = FillPage(
          rows, paging,
          [&](const pqxx::row& row) {
            windows.push_back(ReadWindow(row));
            LoadWindowParts(tx, &windows.back().window);
          },
          [](const pqxx::row& row) {
            return std::vector<std::string>{row[5].as<std::string>(), row[0].as<std::string>()};
          });
      return absl::OkStatus();
    }));
    resp->set_next_page_token(next);
    if (windows.empty()) return absl::OkStatus();
    absl::StatusOr<int64_t> balance = ledger_->AvailableBalance(rider);
    if (!balance.ok()) return balance.status();
    std::vector<ProvisionalRank> live;
    for (const WindowRecord& w : windows) live.push_back(LiveRank(ledger_, w.window, rider));
    return InReadTx("eligibility", [&](pqxx::transaction_base& tx) -> absl::Status {
      for (size_t i = 0; i < windows.size(); ++i) {
        Standing st = EvaluateStanding(windows[i], rider, *balance, caller.now, live[i],
                                       ReadStandingFacts(tx, windows[i], rider));
        bool cut = false;
        for (int r : st.eligibility.reasons()) cut |= r == v1::ERROR_REASON_NOT_IN_RANKING_CUT;
        if (cut) continue;  // only scheduled windows get here: the live ranking leaves them out
        v1::EligibleWindow* out = resp->add_windows();
        *out->mutable_window() = windows[i].window;
        *out->mutable_eligibility() = st.eligibility;
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status RewardsServiceImpl::GetExchangeWindowEligibility(
    grpc::ServerContext* ctx, const v1::GetExchangeWindowEligibilityRequest* req,
    v1::GetExchangeWindowEligibilityResponse* resp) {
  return Handle(ctx, "GetExchangeWindowEligibility", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->window_id(), "window_id"));
    const auth::Principal& who = caller.who();
    const bool rider_only = IsRiderOnly(who);
    std::string rider = req->rider_id();
    if (rider.empty()) {
      if (!who.HasRole(ROLE_RIDER)) {
        return absl::InvalidArgumentError("rider_id: is required for keepers and staff");
      }
      rider = who.subject;
    } else if (rider_only && rider != who.subject) {
      return absl::InvalidArgumentError("rider_id: a rider may only ask about themself");
    }
    WindowRecord rec;
    RETURN_IF_ERROR(InReadTx("load window", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(rec, LoadWindow(tx, req->window_id(), false));
      return absl::OkStatus();
    }));
    if (rider != who.subject) {
      RETURN_IF_ERROR(CheckWindowScope(
          who, rec, [&](const std::string& id) { return Station(id); },
          [](const auth::Principal& p, const StationInfo& s) { return CheckStationScope(p, s); }));
    }
    absl::StatusOr<int64_t> balance = ledger_->AvailableBalance(rider);
    if (!balance.ok()) return balance.status();
    const ProvisionalRank live = LiveRank(ledger_, rec.window, rider);
    return InReadTx("eligibility", [&](pqxx::transaction_base& tx) -> absl::Status {
      *resp->mutable_eligibility() = EvaluateStanding(rec, rider, *balance, caller.now, live,
                                                      ReadStandingFacts(tx, rec, rider))
                                         .eligibility;
      return absl::OkStatus();
    });
  });
}

grpc::Status RewardsServiceImpl::ListExchangeWindowEligibleRiders(
    grpc::ServerContext* ctx, const v1::ListExchangeWindowEligibleRidersRequest* req,
    v1::ListExchangeWindowEligibleRidersResponse* resp) {
  return Handle(ctx, "ListExchangeWindowEligibleRiders", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->window_id(), "window_id"));
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 2));
    WindowRecord rec;
    RETURN_IF_ERROR(InReadTx("load window", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(rec, LoadWindow(tx, req->window_id(), false));
      return absl::OkStatus();
    }));
    RETURN_IF_ERROR(CheckWindowScope(
        caller.who(), rec, [&](const std::string& id) { return Station(id); },
        [](const auth::Principal& p, const StationInfo& s) { return CheckStationScope(p, s); }));
    if (!rec.window.eligibility().has_ranking()) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_NO_RANKING_RULE,
                    absl::StrCat("exchange window ", req->window_id(), " has no ranking rule"));
    }
    if (rec.window.state() == v1::EXCHANGE_WINDOW_STATE_SCHEDULED || !rec.window.has_snapshot()) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_WINDOW_NOT_OPEN,
                    absl::StrCat("exchange window ", req->window_id(),
                                 " has not opened; nothing is frozen yet"));
    }
    *resp->mutable_snapshot() = rec.window.snapshot();
    return InReadTx("eligible riders", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result rows = tx.exec_params(
          "SELECT e.rider_id, e.rank, e.points, (SELECT coalesce(sum(quantity), 0) FROM "
          "redemptions r WHERE r.window_id = e.window_id AND r.rider_id = e.rider_id AND r.state "
          "IN (redemption_state('PENDING'), redemption_state('READY'), "
          "redemption_state('FULFILLED'))) FROM window_eligible e WHERE e.window_id = $1 AND "
          "(e.rank, e.rider_id) > "
          "($2::int, $3) ORDER BY e.rank, e.rider_id LIMIT $4::int",
          req->window_id(), paging.after.empty() ? "0" : paging.after[0],
          paging.after.empty() ? "" : paging.after[1], paging.size + 1);
      resp->set_next_page_token(FillPage(
          rows, paging,
          [&](const pqxx::row& row) {
            v1::EligibleRider* r = resp->add_riders();
            r->set_rider_id(row[0].as<std::string>());
            r->set_rank(row[1].as<int32_t>());
            r->set_ranking_points(row[2].as<int64_t>());
            r->set_items_redeemed(row[3].as<int32_t>());
          },
          [](const pqxx::row& row) {
            return std::vector<std::string>{row[1].as<std::string>(), row[0].as<std::string>()};
          }));
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::rewards
