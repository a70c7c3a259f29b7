// balance, ranking top|rank: a rider's points and history; live rankings as tables.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "civicpoints/ledger/v1/ledger_service.pb.h"
#include "tools/cpctl/commands.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/format.h"
#include "tools/cpctl/lookups.h"
#include "tools/cpctl/table.h"

namespace civicpoints::cpctl {
namespace {

namespace lv1 = ledger::v1;
constexpr char kLedger[] = "civicpoints.ledger.v1.LedgerService.";

struct BalanceOptions {
  std::string rider;
  int history = 20;
};

absl::Status Balance(Context& ctx, const BalanceOptions& o) {
  lv1::GetBalanceRequest req;
  req.set_person_id(o.rider);
  lv1::GetBalanceResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kLedger, "GetBalance"), req, &resp);
  if (!s.ok()) return s;
  lv1::ListEntriesResponse entries;
  if (o.history > 0) {
    lv1::ListEntriesRequest lreq;
    lreq.set_person_id(o.rider);
    lreq.set_page_size(o.history);
    s = ctx.client().Call(absl::StrCat(kLedger, "ListEntries"), lreq, &entries);
    if (!s.ok()) return s;
  }
  if (ctx.json) {
    ctx.PrintJson(resp);
    if (o.history > 0) ctx.PrintJson(entries);
    return absl::OkStatus();
  }
  const lv1::Account& a = resp.account();
  std::map<std::string, std::string> names = PeopleNames(ctx, {o.rider});
  std::cout << "rider:     " << o.rider << " " << names[o.rider] << "\n";
  Table t({"AVAILABLE", "HELD", "EARNED", "NET EARNED", "SPENT"},
          {Align::kRight, Align::kRight, Align::kRight, Align::kRight, Align::kRight});
  t.AddRow({absl::StrCat(a.available()), absl::StrCat(a.held()), absl::StrCat(a.lifetime_earned()),
            absl::StrCat(a.net_earned()), absl::StrCat(a.lifetime_spent())});
  t.Print(std::cout);
  if (o.history > 0) {
    std::cout << "\n";
    Table h({"WHEN", "KIND", "AMOUNT", "AFTER", "SOURCE", "REASON"},
            {Align::kLeft, Align::kLeft, Align::kRight, Align::kRight});
    for (const lv1::Entry& e : entries.entries()) {
      const int64_t delta = e.available_delta() != 0 ? e.available_delta() : e.amount();
      h.AddRow({FormatTime(e.occur_time().seconds() != 0 ? e.occur_time() : e.create_time()),
                EnumLabel(e.kind()), absl::StrCat(delta > 0 ? "+" : "", delta),
                absl::StrCat(e.available_after()), EnumLabel(e.source_kind()), e.reason()});
    }
    h.Print(std::cout);
  }
  return absl::OkStatus();
}

struct RankingOptions {
  std::string org = "root", period = "all", rider;
  int top = 10;
  int around = 3;
  bool ties = false;
};

void AddEntries(Table& t, const google::protobuf::RepeatedPtrField<lv1::RankingEntry>& entries,
                std::map<std::string, std::string>& names, const std::string& mark_id) {
  for (const lv1::RankingEntry& e : entries) {
    t.AddRow({absl::StrCat(e.rank()), names[e.person_id()], absl::StrCat(e.score()),
              e.person_id() + (e.person_id() == mark_id ? "  <" : "")});
  }
}

absl::Status Top(Context& ctx, const RankingOptions& o) {
  absl::StatusOr<common::v1::RankingPeriod> period = ParsePeriod(o.period, "--period");
  if (!period.ok()) return period.status();
  absl::StatusOr<common::v1::OrgScope> scope = ResolveScope(ctx, o.org);
  if (!scope.ok()) return scope.status();
  lv1::GetTopRankingRequest req;
  *req.mutable_scope() = *scope;
  *req.mutable_period() = *period;
  req.set_top_n(o.top);
  req.set_include_ties(o.ties);
  lv1::GetTopRankingResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kLedger, "GetTopRanking"), req, &resp);
  if (!s.ok()) return s;
  if (ctx.PrintJson(resp)) return absl::OkStatus();
  std::vector<std::string> ids;
  for (const lv1::RankingEntry& e : resp.entries()) ids.push_back(e.person_id());
  std::map<std::string, std::string> names = PeopleNames(ctx, ids);
  std::cout << "top " << o.top << ", " << EnumLabel(scope->level()) << " " << o.org << ", "
            << PeriodLabel(resp.period()) << " (" << resp.total_ranked() << " ranked)\n";
  Table t({"RANK", "RIDER", "POINTS", "ID"}, {Align::kRight, Align::kLeft, Align::kRight});
  AddEntries(t, resp.entries(), names, "");
  t.Print(std::cout);
  return absl::OkStatus();
}

absl::Status Rank(Context& ctx, const RankingOptions& o) {
  absl::StatusOr<common::v1::RankingPeriod> period = ParsePeriod(o.period, "--period");
  if (!period.ok()) return period.status();
  absl::StatusOr<common::v1::OrgScope> scope = ResolveScope(ctx, o.org);
  if (!scope.ok()) return scope.status();
  lv1::GetRankingNeighboursRequest req;
  req.set_person_id(o.rider);
  *req.mutable_scope() = *scope;
  *req.mutable_period() = *period;
  req.set_above(o.around);
  req.set_below(o.around);
  lv1::GetRankingNeighboursResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kLedger, "GetRankingNeighbours"), req, &resp);
  if (!s.ok()) return s;
  if (ctx.PrintJson(resp)) return absl::OkStatus();
  std::vector<std::string> ids = {o.rider};
  for (const auto& e : resp.above()) ids.push_back(e.person_id());
  for (const auto& e : resp.below()) ids.push_back(e.person_id());
  std::map<std::string, std::string> names = PeopleNames(ctx, ids);
  if (resp.self().rank() == 0) {
    std::cout << names[o.rider] << " " << o.rider << " is not ranked in " << o.org << ", "
              << PeriodLabel(resp.period()) << "\n";
    return absl::OkStatus();
  }
  std::cout << names[o.rider] << " is #" << resp.self().rank() << " of " << resp.total_ranked()
            << " with " << resp.self().score() << " points (" << EnumLabel(scope->level()) << " "
            << o.org << ", " << PeriodLabel(resp.period()) << ")\n";
  Table t({"RANK", "RIDER", "POINTS", "ID"}, {Align::kRight, Align::kLeft, Align::kRight});
  AddEntries(t, resp.above(), names, o.rider);
  google::protobuf::RepeatedPtrField<lv1::RankingEntry> self;
  *self.Add() = resp.self();
  AddEntries(t, self, names, o.rider);
  AddEntries(t, resp.below(), names, o.rider);
  t.Print(std::cout);
  return absl::OkStatus();
}

}  // namespace

void AddPointsCommands(CLI::App& app, Context& ctx) {
  auto bo = std::make_shared<BalanceOptions>();
  CLI::App* balance = app.add_subcommand("balance", "a rider's points balance and recent history");
  balance->add_option("rider_id", bo->rider, "rider's person id")->required();
  balance->add_option("--history", bo->history, "latest journal entries to show (0: none)")
      ->capture_default_str();
  balance->callback([&ctx, bo] { ctx.Run([&ctx, bo] { return Balance(ctx, *bo); }); });

  CLI::App* ranking = app.add_subcommand("ranking", "live rankings");
  ranking->require_subcommand(1);
  auto to = std::make_shared<RankingOptions>();
  CLI::App* top = ranking->add_subcommand("top", "the top N riders of a scope and period");
  top->add_option("--org", to->org, "scope: org node id or code, or root for the city")
      ->capture_default_str();
  top->add_option("--period", to->period, kPeriodHelp)->capture_default_str();
  top->add_option("-n,--top", to->top, "how many (1-100)")->capture_default_str();
  top->add_flag("--ties", to->ties, "add riders tied with the N-th place");
  top->callback([&ctx, to] { ctx.Run([&ctx, to] { return Top(ctx, *to); }); });

  auto ro = std::make_shared<RankingOptions>();
  CLI::App* rank = ranking->add_subcommand("rank", "a rider's rank and the riders around them");
  rank->add_option("rider_id", ro->rider, "rider's person id")->required();
  rank->add_option("--org", ro->org, "scope: org node id or code, or root for the city")
      ->capture_default_str();
  rank->add_option("--period", ro->period, kPeriodHelp)->capture_default_str();
  rank->add_option("--around", ro->around, "riders shown above and below (0-20)")
      ->capture_default_str();
  rank->callback([&ctx, ro] { ctx.Run([&ctx, ro] { return Rank(ctx, *ro); }); });
}

}  // namespace civicpoints::cpctl
