// exchange create|open|close|list|eligible and pickup fulfil|list: exchange days at rider stations.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "civicpoints/rewards/v1/rewards_service.pb.h"
#include "tools/cpctl/commands.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/format.h"
#include "tools/cpctl/lookups.h"
#include "tools/cpctl/table.h"

namespace civicpoints::cpctl {
namespace {

namespace rv1 = rewards::v1;
constexpr char kRewards[] = "civicpoints.rewards.v1.RewardsService.";

void PrintWindow(const rv1::ExchangeWindow& w) {
  std::cout << "window " << w.window_id() << " \"" << w.title() << "\" is " << EnumLabel(w.state())
            << " (" << FormatTime(w.start_time()) << " to " << FormatTime(w.end_time()) << ")\n";
  if (!w.rule_text().empty()) std::cout << "rule: " << w.rule_text() << "\n";
  if (w.has_snapshot()) {
    std::cout << "cut: " << w.snapshot().eligible_count() << " riders with at least "
              << w.snapshot().cutoff_points() << " points (frozen "
              << FormatTime(w.snapshot().freeze_time()) << ")\n";
  }
}

struct CreateOptions {
  std::string owner, title, description, start = "now", end = "+1d", rank_org, period = "all", key;
  std::vector<std::string> stations, gifts;
  int top = 0, max_items = 0, pickup_hours = 0;
  int64_t min_balance = 0;
};

absl::Status Create(Context& ctx, const CreateOptions& o) {
  rv1::CreateExchangeWindowRequest req;
  rv1::ExchangeWindow* w = req.mutable_window();
  w->set_title(o.title);
  w->set_description(o.description);
  for (const std::string& s : o.stations) w->add_station_ids(s);
  for (const std::string& g : o.gifts) {
    std::vector<std::string> parts = absl::StrSplit(g, ':');
    rv1::WindowGift* wg = w->add_gifts();
    wg->set_gift_id(parts[0]);
    int max = 0;
    if (parts.size() > 2 || (parts.size() == 2 && !absl::SimpleAtoi(parts[1], &max))) {
      return absl::InvalidArgumentError(
          absl::StrCat("--gift: '", g, "' is not GIFT_ID or GIFT_ID:MAX_PER_RIDER"));
    }
    wg->set_max_per_rider(max);
  }
  absl::StatusOr<absl::Time> start = ParseTime(o.start, "--start");
  if (!start.ok()) return start.status();
  absl::StatusOr<absl::Time> end = ParseTime(o.end, "--end");
  if (!end.ok()) return end.status();
  SetTime(*start, w->mutable_start_time());
  SetTime(*end, w->mutable_end_time());
  w->set_max_items_per_rider(o.max_items);
  if (o.pickup_hours > 0) w->mutable_pickup_ttl()->set_seconds(int64_t{o.pickup_hours} * 3600);
  w->mutable_eligibility()->set_min_balance(o.min_balance);
  absl::StatusOr<std::string> owner = ResolveOrgId(ctx, o.owner);
  if (!owner.ok()) return owner.status();
  w->set_owner_org_id(*owner);
  if (o.top > 0) {
    absl::StatusOr<common::v1::RankingPeriod> period = ParsePeriod(o.period, "--period");
    if (!period.ok()) return period.status();
    absl::StatusOr<common::v1::OrgScope> scope =
        ResolveScope(ctx, o.rank_org.empty() ? *owner : o.rank_org);
    if (!scope.ok()) return scope.status();
    rv1::RankingRule* rule = w->mutable_eligibility()->mutable_ranking();
    *rule->mutable_scope() = *scope;
    *rule->mutable_period() = *period;
    rule->set_top_n(o.top);
  }
  req.set_idempotency_key(o.key.empty() ? NewIdempotencyKey() : o.key);
  rv1::CreateExchangeWindowResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kRewards, "CreateExchangeWindow"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) PrintWindow(resp.window());
  return absl::OkStatus();
}

struct WindowOptions {
  std::string id, reason, owner, station;
};

absl::Status Open(Context& ctx, const WindowOptions& o) {
  rv1::OpenExchangeWindowRequest req;
  req.set_window_id(o.id);
  rv1::OpenExchangeWindowResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kRewards, "OpenExchangeWindow"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) PrintWindow(resp.window());
  return absl::OkStatus();
}

absl::Status Close(Context& ctx, const WindowOptions& o) {
  rv1::CloseExchangeWindowRequest req;
  req.set_window_id(o.id);
  req.set_reason(o.reason);
  rv1::CloseExchangeWindowResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kRewards, "CloseExchangeWindow"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) PrintWindow(resp.window());
  return absl::OkStatus();
}

absl::Status List(Context& ctx, const WindowOptions& o) {
  rv1::ListExchangeWindowsRequest req;
  if (!o.owner.empty()) {
    absl::StatusOr<std::string> owner = ResolveOrgId(ctx, o.owner);
    if (!owner.ok()) return owner.status();
    req.set_owner_org_id(*owner);
  }
  req.set_station_id(o.station);
  req.set_page_size(100);
  rv1::ListExchangeWindowsResponse all;
  do {
    rv1::ListExchangeWindowsResponse resp;
    absl::Status s = ctx.client().Call(absl::StrCat(kRewards, "ListExchangeWindows"), req, &resp);
    if (!s.ok()) return s;
    for (const rv1::ExchangeWindow& w : resp.windows()) *all.add_windows() = w;
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.PrintJson(all)) return absl::OkStatus();
  Table t({"ID", "TITLE", "STATE", "START", "END", "GIFTS", "STATIONS"});
  for (const rv1::ExchangeWindow& w : all.windows()) {
    t.AddRow({w.window_id(), w.title(), EnumLabel(w.state()), FormatTime(w.start_time()),
              FormatTime(w.end_time()), absl::StrCat(w.gifts_size()),
              absl::StrJoin(w.station_ids(), ";")});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

absl::Status Eligible(Context& ctx, const WindowOptions& o) {
  rv1::ListExchangeWindowEligibleRidersRequest req;
  req.set_window_id(o.id);
  req.set_page_size(100);
  rv1::ListExchangeWindowEligibleRidersResponse all;
  do {
    rv1::ListExchangeWindowEligibleRidersResponse resp;
    absl::Status s =
        ctx.client().Call(absl::StrCat(kRewards, "ListExchangeWindowEligibleRiders"), req, &resp);
    if (!s.ok()) return s;
    for (const rv1::EligibleRider& r : resp.riders()) *all.add_riders() = r;
    *all.mutable_snapshot() = resp.snapshot();
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.PrintJson(all)) return absl::OkStatus();
  std::vector<std::string> ids;
  for (const rv1::EligibleRider& r : all.riders()) ids.push_back(r.rider_id());
  std::map<std::string, std::string> names = PeopleNames(ctx, ids);
  std::cout << all.snapshot().eligible_count() << " eligible riders, cut at "
            << all.snapshot().cutoff_points() << " points\n";
  Table t({"RANK", "RIDER", "POINTS", "ITEMS", "ID"},
          {Align::kRight, Align::kLeft, Align::kRight, Align::kRight});
  for (const rv1::EligibleRider& r : all.riders()) {
    t.AddRow({absl::StrCat(r.rank()), names[r.rider_id()], absl::StrCat(r.ranking_points()),
              absl::StrCat(r.items_redeemed()), r.rider_id()});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

struct PickupOptions {
  std::string station, code, window, key;
};

absl::Status Fulfil(Context& ctx, const PickupOptions& o) {
  rv1::FulfilRedemptionRequest req;
  req.set_station_id(o.station);
  req.set_pickup_code(o.code);
  // The same code at the same station is the same hand-over: a retry replays its answer.
  req.set_idempotency_key(o.key.empty() ? absl::StrCat("cpctl-pickup-", o.station, "-", o.code)
                                        : o.key);
  rv1::FulfilRedemptionResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kRewards, "FulfilRedemption"), req, &resp);
  if (!s.ok()) return s;
  if (ctx.PrintJson(resp)) return absl::OkStatus();
  const rv1::Redemption& r = resp.redemption();
  std::map<std::string, std::string> names = PeopleNames(ctx, {r.rider_id()});
  std::cout << "hand over " << r.quantity() << " x " << r.gift_name() << " to "
            << names[r.rider_id()] << " (" << r.rider_id() << "); order " << r.redemption_id()
            << " is " << EnumLabel(r.state()) << ", " << r.points_cost() << " points\n";
  return absl::OkStatus();
}

absl::Status Pickups(Context& ctx, const PickupOptions& o) {
  rv1::ListStationPickupsRequest req;
  req.set_station_id(o.station);
  req.set_window_id(o.window);
  req.set_page_size(100);
  rv1::ListStationPickupsResponse all;
  do {
    rv1::ListStationPickupsResponse resp;
    absl::Status s = ctx.client().Call(absl::StrCat(kRewards, "ListStationPickups"), req, &resp);
    if (!s.ok()) return s;
    for (const rv1::Redemption& r : resp.redemptions()) *all.add_redemptions() = r;
    all.set_total_waiting(resp.total_waiting());
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.PrintJson(all)) return absl::OkStatus();
  std::vector<std::string> ids;
  for (const rv1::Redemption& r : all.redemptions()) ids.push_back(r.rider_id());
  std::map<std::string, std::string> names = PeopleNames(ctx, ids);
  std::cout << all.total_waiting() << " orders waiting\n";
  Table t({"ORDER", "RIDER", "GIFT", "QTY", "POINTS", "EXPIRES"},
          {Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight, Align::kRight});
  for (const rv1::Redemption& r : all.redemptions()) {
    t.AddRow({r.redemption_id(), names[r.rider_id()], r.gift_name(), absl::StrCat(r.quantity()),
              absl::StrCat(r.points_cost()), FormatTime(r.expire_time())});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

}  // namespace

void AddExchangeCommands(CLI::App& app, Context& ctx) {
  CLI::App* ex = app.add_subcommand("exchange", "exchange windows (积分兑换) for the top riders");
  ex->require_subcommand(1);
  const std::string time_help = "(\"2026-11-29 10:00\" Asia/Shanghai, RFC 3339, now or +2h)";

  auto co = std::make_shared<CreateOptions>();
  CLI::App* create = ex->add_subcommand("create", "create a window (it opens at --start)");
  create->add_option("--owner", co->owner, "org node running the window (id or code)")->required();
  create->add_option("--title", co->title, "title shown to riders")->required();
  create->add_option("--station", co->stations, "rider station place id (repeatable)")->required();
  create->add_option("--gift", co->gifts, "GIFT_ID or GIFT_ID:MAX_PER_RIDER (repeatable)")
      ->required();
  create->add_option("--start", co->start, "ordering starts " + time_help)->capture_default_str();
  create->add_option("--end", co->end, "ordering stops " + time_help)->capture_default_str();
  create->add_option("--top", co->top, "only the top N of the ranking (0: no ranking rule)");
  create->add_option("--rank-org", co->rank_org, "ranking scope (default: the owner)");
  create->add_option("--period", co->period, kPeriodHelp)->capture_default_str();
  create->add_option("--min-balance", co->min_balance, "minimum available points");
  create->add_option("--max-items", co->max_items, "items per rider in all (0: no limit)");
  create->add_option("--pickup-hours", co->pickup_hours, "hours a READY order waits (default 24)");
  create->add_option("--description", co->description, "details shown to riders");
  create->add_option("--key", co->key, "idempotency key (default: random)");
  create->callback([&ctx, co] { ctx.Run([&ctx, co] { return Create(ctx, *co); }); });

  auto op = std::make_shared<WindowOptions>();
  CLI::App* open = ex->add_subcommand("open", "open a window now and freeze its ranking cut");
  open->add_option("window_id", op->id, "window id")->required();
  open->callback([&ctx, op] { ctx.Run([&ctx, op] { return Open(ctx, *op); }); });

  auto cl = std::make_shared<WindowOptions>();
  CLI::App* close = ex->add_subcommand("close", "close a window now (READY orders stay)");
  close->add_option("window_id", cl->id, "window id")->required();
  close->add_option("--reason", cl->reason, "shown to riders");
  close->callback([&ctx, cl] { ctx.Run([&ctx, cl] { return Close(ctx, *cl); }); });

  auto li = std::make_shared<WindowOptions>();
  CLI::App* list = ex->add_subcommand("list", "list windows");
  list->add_option("--owner", li->owner, "only windows of this org node");
  list->add_option("--station", li->station, "only windows at this station");
  list->callback([&ctx, li] { ctx.Run([&ctx, li] { return List(ctx, *li); }); });

  auto el = std::make_shared<WindowOptions>();
  CLI::App* eligible = ex->add_subcommand("eligible", "riders inside an open window's cut");
  eligible->add_option("window_id", el->id, "window id")->required();
  eligible->callback([&ctx, el] { ctx.Run([&ctx, el] { return Eligible(ctx, *el); }); });

  CLI::App* pickup = app.add_subcommand("pickup", "hand gifts over at a rider station");
  pickup->require_subcommand(1);
  auto fo = std::make_shared<PickupOptions>();
  CLI::App* fulfil = pickup->add_subcommand("fulfil", "hand over the order a pickup code names");
  fulfil->add_option("--station", fo->station, "station place id")->required();
  fulfil->add_option("--code", fo->code, "the rider's six-digit pickup code")->required();
  fulfil->add_option("--key", fo->key, "idempotency key (default: from station and code)");
  fulfil->callback([&ctx, fo] { ctx.Run([&ctx, fo] { return Fulfil(ctx, *fo); }); });
  auto po = std::make_shared<PickupOptions>();
  CLI::App* plist = pickup->add_subcommand("list", "orders waiting at a station");
  plist->add_option("--station", po->station, "station place id")->required();
  plist->add_option("--window", po->window, "only orders of this window");
  plist->callback([&ctx, po] { ctx.Run([&ctx, po] { return Pickups(ctx, *po); }); });
}

}  // namespace civicpoints::cpctl
