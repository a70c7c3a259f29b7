// gift create|list and stock add: the gift catalog and what each rider station holds.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
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

struct GiftOptions {
  std::string owner, name, description, category = "other", key;
  int64_t points = 0;
};

absl::Status Create(Context& ctx, const GiftOptions& o) {
  absl::StatusOr<rv1::GiftCategory> category =
      ParseEnum<rv1::GiftCategory>(o.category, "--category");
  if (!category.ok()) return category.status();
  absl::StatusOr<std::string> owner = ResolveOrgId(ctx, o.owner);
  if (!owner.ok()) return owner.status();
  rv1::CreateGiftRequest req;
  req.set_name(o.name);
  req.set_description(o.description);
  req.set_category(*category);
  req.set_points_cost(o.points);
  req.set_owner_org_id(*owner);
  req.set_idempotency_key(o.key.empty() ? NewIdempotencyKey() : o.key);
  rv1::CreateGiftResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kRewards, "CreateGift"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) {
    std::cout << "gift " << resp.gift().gift_id() << " " << resp.gift().name() << ", "
              << resp.gift().points_cost() << " points\n";
  }
  return absl::OkStatus();
}

absl::Status List(Context& ctx, const GiftOptions& o) {
  rv1::ListGiftsRequest req;
  if (!o.owner.empty()) {
    absl::StatusOr<std::string> owner = ResolveOrgId(ctx, o.owner);
    if (!owner.ok()) return owner.status();
    req.set_owner_org_id(*owner);
  }
  req.set_page_size(100);
  rv1::ListGiftsResponse all;
  do {
    rv1::ListGiftsResponse resp;
    absl::Status s = ctx.client().Call(absl::StrCat(kRewards, "ListGifts"), req, &resp);
    if (!s.ok()) return s;
    for (const rv1::Gift& g : resp.gifts()) *all.add_gifts() = g;
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.PrintJson(all)) return absl::OkStatus();
  Table t({"ID", "NAME", "CATEGORY", "POINTS", "ACTIVE"},
          {Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight});
  for (const rv1::Gift& g : all.gifts()) {
    t.AddRow({g.gift_id(), g.name(), EnumLabel(g.category()), absl::StrCat(g.points_cost()),
              g.active() ? "yes" : "no"});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

struct StockOptions {
  std::string station, gift, reason = "delivery", key;
  int64_t quantity = 0;
};

absl::Status AddStock(Context& ctx, const StockOptions& o) {
  rv1::AddStationStockRequest req;
  req.set_station_id(o.station);
  req.set_gift_id(o.gift);
  req.set_quantity(o.quantity);
  req.set_reason(o.reason);
  req.set_idempotency_key(o.key.empty() ? NewIdempotencyKey() : o.key);
  rv1::AddStationStockResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kRewards, "AddStationStock"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) {
    std::cout << resp.stock().gift_name() << " at " << o.station << ": "
              << resp.stock().available_quantity() << " available\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddGiftCommands(CLI::App& app, Context& ctx) {
  CLI::App* gift = app.add_subcommand("gift", "the gift catalog");
  gift->require_subcommand(1);
  auto co = std::make_shared<GiftOptions>();
  CLI::App* create = gift->add_subcommand("create", "add a gift to the catalog");
  create->add_option("--owner", co->owner, "street or district org node (id or code)")->required();
  create->add_option("--name", co->name, "gift name, e.g. 保温杯")->required();
  create->add_option("--points", co->points, "points for one item")->required();
  create->add_option("--category", co->category, EnumChoicesOf<rv1::GiftCategory>())
      ->capture_default_str();
  create->add_option("--description", co->description, "free text");
  create->add_option("--key", co->key, "idempotency key (default: random)");
  create->callback([&ctx, co] { ctx.Run([&ctx, co] { return Create(ctx, *co); }); });
  auto lo = std::make_shared<GiftOptions>();
  CLI::App* list = gift->add_subcommand("list", "list active gifts");
  list->add_option("--owner", lo->owner, "only gifts of this org node");
  list->callback([&ctx, lo] { ctx.Run([&ctx, lo] { return List(ctx, *lo); }); });

  CLI::App* stock = app.add_subcommand("stock", "gift stock at rider stations");
  stock->require_subcommand(1);
  auto so = std::make_shared<StockOptions>();
  CLI::App* add = stock->add_subcommand("add", "record a delivery of gifts to a station");
  add->add_option("--station", so->station, "station place id")->required();
  add->add_option("--gift", so->gift, "gift id")->required();
  add->add_option("--quantity", so->quantity, "items delivered")->required();
  add->add_option("--reason", so->reason, "kept with the stock movement")->capture_default_str();
  add->add_option("--key", so->key, "idempotency key (default: random)");
  add->callback([&ctx, so] { ctx.Run([&ctx, so] { return AddStock(ctx, *so); }); });
}

}  // namespace civicpoints::cpctl
