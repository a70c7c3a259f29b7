// place create|list|get|close|reopen|retire: rider stations, love corners, venues.

#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "civicpoints/activity/v1/activity_service.pb.h"
#include "tools/cpctl/commands.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/format.h"
#include "tools/cpctl/lookups.h"
#include "tools/cpctl/place_spec.h"
#include "tools/cpctl/table.h"

namespace civicpoints::cpctl {
namespace {

namespace av1 = activity::v1;
constexpr char kActivity[] = "civicpoints.activity.v1.ActivityService.";

struct CreateOptions {
  std::string community, kind, name, address, description, services, hours, keeper, key;
  double lat = 0, lng = 0;
  int radius = 0;
};

absl::Status Create(Context& ctx, const CreateOptions& o) {
  av1::CreatePlaceRequest req;
  av1::Place* p = req.mutable_place();
  absl::StatusOr<av1::PlaceKind> kind = ParseEnum<av1::PlaceKind>(o.kind, "--kind");
  if (!kind.ok()) return kind.status();
  p->set_kind(*kind);
  p->set_name(o.name);
  p->set_address(o.address);
  p->set_description(o.description);
  p->mutable_location()->set_latitude(o.lat);
  p->mutable_location()->set_longitude(o.lng);
  if (o.radius > 0) p->set_check_in_radius_meters(o.radius);
  p->set_keeper_person_id(o.keeper);
  if (absl::Status s = ParseServices(o.services, "--services", p); !s.ok()) return s;
  if (absl::Status s = ParseHours(o.hours, "--hours", p); !s.ok()) return s;
  absl::StatusOr<std::string> community = ResolveOrgId(ctx, o.community);
  if (!community.ok()) return community.status();
  p->set_community_id(*community);
  req.set_idempotency_key(o.key.empty() ? NewIdempotencyKey() : o.key);
  av1::CreatePlaceResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "CreatePlace"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) {
    std::cout << "created " << EnumLabel(resp.place().kind()) << " " << resp.place().place_id()
              << " " << resp.place().name() << "\n";
  }
  return absl::OkStatus();
}

struct ListOptions {
  std::string org, kind, service;
  bool retired = false;
};

absl::Status List(Context& ctx, const ListOptions& o) {
  av1::ListPlacesRequest req;
  if (!o.kind.empty()) {
    absl::StatusOr<av1::PlaceKind> kind = ParseEnum<av1::PlaceKind>(o.kind, "--kind");
    if (!kind.ok()) return kind.status();
    req.add_kinds(*kind);
  }
  if (!o.service.empty()) {
    av1::Place tmp;
    if (absl::Status s = ParseServices(o.service, "--service", &tmp); !s.ok()) return s;
    for (int sv : tmp.services()) req.add_services(static_cast<av1::PlaceServiceType>(sv));
  }
  absl::StatusOr<std::string> org = ResolveOrgId(ctx, o.org);
  if (!org.ok()) return org.status();
  req.set_org_id(*org);
  req.set_include_retired(o.retired);
  req.set_page_size(100);
  av1::ListPlacesResponse all;
  do {
    av1::ListPlacesResponse resp;
    absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "ListPlaces"), req, &resp);
    if (!s.ok()) return s;
    for (const av1::Place& p : resp.places()) *all.add_places() = p;
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.PrintJson(all)) return absl::OkStatus();
  Table t({"ID", "KIND", "NAME", "ADDRESS", "SERVICES", "STATUS"});
  for (const av1::Place& p : all.places()) {
    std::vector<std::string> services;
    for (int sv : p.services())
      services.push_back(EnumLabel(static_cast<av1::PlaceServiceType>(sv)));
    std::string status = EnumLabel(p.status());
    if (p.temporarily_closed()) status += " (closed)";
    t.AddRow({p.place_id(), EnumLabel(p.kind()), p.name(), p.address(),
              absl::StrJoin(services, ";"), status});
  }
  t.Print(std::cout);
  std::cout << all.places_size() << " places\n";
  return absl::OkStatus();
}

absl::Status Get(Context& ctx, const std::string& id) {
  av1::GetPlaceRequest req;
  req.set_place_id(id);
  av1::GetPlaceResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "GetPlace"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) PrintRecord(resp, std::cout);
  return absl::OkStatus();
}

struct CloseOptions {
  std::string id, until, reason;
};

absl::Status SetClosed(Context& ctx, const CloseOptions& o, bool closed) {
  av1::UpdatePlaceRequest req;
  req.set_place_id(o.id);
  req.mutable_place()->set_temporarily_closed(closed);
  req.mutable_update_mask()->add_paths("temporarily_closed");
  if (closed && !o.until.empty()) {
    absl::StatusOr<absl::Time> until = ParseTime(o.until, "--until");
    if (!until.ok()) return until.status();
    SetTime(*until, req.mutable_place()->mutable_closed_until());
    req.mutable_update_mask()->add_paths("closed_until");
  }
  av1::UpdatePlaceResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "UpdatePlace"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) {
    std::cout << resp.place().place_id() << " " << resp.place().name()
              << (closed ? " is closed" : " is open again") << "\n";
  }
  return absl::OkStatus();
}

absl::Status Retire(Context& ctx, const CloseOptions& o) {
  av1::DeletePlaceRequest req;
  req.set_place_id(o.id);
  req.set_reason(o.reason);
  av1::DeletePlaceResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "DeletePlace"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) std::cout << resp.place().place_id() << " retired\n";
  return absl::OkStatus();
}

}  // namespace

void AddPlaceCommands(CLI::App& app, Context& ctx) {
  CLI::App* place = app.add_subcommand("place", "rider stations, love corners and venues");
  place->require_subcommand(1);

  auto co = std::make_shared<CreateOptions>();
  CLI::App* create = place->add_subcommand("create", "register a place in a community");
  create->add_option("--community", co->community, "community id or code")->required();
  create->add_option("--kind", co->kind, EnumChoicesOf<av1::PlaceKind>())->required();
  create->add_option("--name", co->name, "display name, e.g. 清远西街小哥驿站")->required();
  create->add_option("--address", co->address, "street address")->required();
  create->add_option("--lat", co->lat, "latitude (WGS-84)")->required();
  create->add_option("--lng", co->lng, "longitude (WGS-84)")->required();
  create->add_option("--description", co->description, "free text");
  create->add_option("--services", co->services,
                     "services separated by ';': " + EnumChoicesOf<av1::PlaceServiceType>());
  create->add_option("--hours", co->hours, kHoursHelp);
  create->add_option("--radius", co->radius, "check-in radius in metres (20-2000; default 200)");
  create->add_option("--keeper", co->keeper, "person id of the station keeper or merchant");
  create->add_option("--key", co->key, "idempotency key (default: random, so a retry needs it)");
  create->callback([&ctx, co] { ctx.Run([&ctx, co] { return Create(ctx, *co); }); });

  auto lo = std::make_shared<ListOptions>();
  CLI::App* list = place->add_subcommand("list", "list the places in an org node's subtree");
  list->add_option("--org", lo->org, "org node id or code")->required();
  list->add_option("--kind", lo->kind, EnumChoicesOf<av1::PlaceKind>());
  list->add_option("--service", lo->service, "only places offering these services");
  list->add_flag("--retired", lo->retired, "include retired places");
  list->callback([&ctx, lo] { ctx.Run([&ctx, lo] { return List(ctx, *lo); }); });

  auto id = std::make_shared<std::string>();
  CLI::App* get = place->add_subcommand("get", "show one place and whether it is open now");
  get->add_option("place_id", *id, "place id")->required();
  get->callback([&ctx, id] { ctx.Run([&ctx, id] { return Get(ctx, *id); }); });

  auto clo = std::make_shared<CloseOptions>();
  CLI::App* close = place->add_subcommand(
      "close", "close a place temporarily (renovation, holiday), whatever its hours say");
  close->add_option("place_id", clo->id, "place id")->required();
  close->add_option("--until", clo->until, "when the closure ends by itself (default: reopen)");
  close->callback([&ctx, clo] { ctx.Run([&ctx, clo] { return SetClosed(ctx, *clo, true); }); });

  auto ro = std::make_shared<CloseOptions>();
  CLI::App* reopen = place->add_subcommand("reopen", "end a temporary closure");
  reopen->add_option("place_id", ro->id, "place id")->required();
  reopen->callback([&ctx, ro] { ctx.Run([&ctx, ro] { return SetClosed(ctx, *ro, false); }); });

  auto rt = std::make_shared<CloseOptions>();
  CLI::App* retire = place->add_subcommand(
      "retire", "retire a place for good (kept for history, hidden from riders)");
  retire->add_option("place_id", rt->id, "place id")->required();
  retire->add_option("--reason", rt->reason, "why, kept for audit")->required();
  retire->callback([&ctx, rt] { ctx.Run([&ctx, rt] { return Retire(ctx, *rt); }); });
}

}  // namespace civicpoints::cpctl
