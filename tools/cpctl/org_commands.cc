// org create|show|rename|set-division-code|children: the org tree (district → street →
// community).
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "tools/cpctl/commands.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/format.h"
#include "tools/cpctl/lookups.h"
#include "tools/cpctl/table.h"

namespace civicpoints::cpctl {
namespace {

namespace idv1 = identity::v1;
namespace cv1 = common::v1;
constexpr char kIdentity[] = "civicpoints.identity.v1.IdentityService.";

absl::StatusOr<std::vector<idv1::OrgNode>> Children(Context& ctx, const std::string& org_id,
                                                    bool include_retired) {
  std::vector<idv1::OrgNode> out;
  idv1::ListOrgChildrenRequest req;
  req.set_org_id(org_id);
  req.set_include_retired(include_retired);
  req.set_page_size(100);
  do {
    idv1::ListOrgChildrenResponse resp;
    absl::Status s = ctx.client().Call(absl::StrCat(kIdentity, "ListOrgChildren"), req, &resp);
    if (!s.ok()) return s;
    for (const idv1::OrgNode& n : resp.children()) out.push_back(n);
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return out;
}

std::string NodeLine(const idv1::OrgNode& n) {
  std::string line =
      absl::StrCat(n.name(), " (", n.code(), ", ", EnumLabel(n.level()), ") ", n.org_id());
  if (!n.division_code().empty()) absl::StrAppend(&line, " [", n.division_code(), "]");
  if (n.status() == idv1::ORG_NODE_STATUS_RETIRED) line += " [retired]";
  return line;
}

absl::Status PrintTree(Context& ctx, const idv1::OrgNode& node, const std::string& prefix,
                       int depth, bool include_retired) {
  if (depth == 0) return absl::OkStatus();
  absl::StatusOr<std::vector<idv1::OrgNode>> kids = Children(ctx, node.org_id(), include_retired);
  if (!kids.ok()) return kids.status();
  for (size_t i = 0; i < kids->size(); ++i) {
    const bool last = i + 1 == kids->size();
    std::cout << prefix << (last ? "└── " : "├── ") << NodeLine((*kids)[i]) << "\n";
    absl::Status s =
        PrintTree(ctx, (*kids)[i], prefix + (last ? "    " : "│   "), depth - 1, include_retired);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

struct CreateOptions {
  std::string parent = "root", level, code, name, division_code;
};

absl::Status Create(Context& ctx, const CreateOptions& o) {
  absl::StatusOr<cv1::OrgLevel> level = ParseEnum<cv1::OrgLevel>(o.level, "--level");
  if (!level.ok()) return level.status();
  absl::StatusOr<std::string> parent = ResolveOrgId(ctx, o.parent);
  if (!parent.ok()) return parent.status();
  idv1::CreateOrgNodeRequest req;
  req.set_parent_id(*parent);
  req.set_level(*level);
  req.set_code(o.code);
  req.set_name(o.name);
  req.set_division_code(o.division_code);
  idv1::CreateOrgNodeResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kIdentity, "CreateOrgNode"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) std::cout << NodeLine(resp.node()) << "\n";
  return absl::OkStatus();
}

struct ShowOptions {
  std::string org = "root";
  int depth = 3;
  bool retired = false;
};

absl::Status Show(Context& ctx, const ShowOptions& o) {
  absl::StatusOr<idv1::OrgNode> node = ResolveOrg(ctx, o.org);
  if (!node.ok()) return node.status();
  if (ctx.PrintJson(*node)) return absl::OkStatus();
  std::cout << NodeLine(*node) << "\n";
  return PrintTree(ctx, *node, "", o.depth, o.retired);
}

struct RenameOptions {
  std::string org, name;
};

absl::Status Rename(Context& ctx, const RenameOptions& o) {
  absl::StatusOr<std::string> id = ResolveOrgId(ctx, o.org);
  if (!id.ok()) return id.status();
  idv1::RenameOrgNodeRequest req;
  req.set_org_id(*id);
  req.set_name(o.name);
  idv1::RenameOrgNodeResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kIdentity, "RenameOrgNode"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) std::cout << NodeLine(resp.node()) << "\n";
  return absl::OkStatus();
}

struct DivisionCodeOptions {
  std::string org, code;
  bool clear = false;
};

absl::Status SetDivisionCode(Context& ctx, const DivisionCodeOptions& o) {
  if (o.clear == !o.code.empty()) {
    return absl::InvalidArgumentError("give the code (12 digits) or --clear");
  }
  absl::StatusOr<std::string> id = ResolveOrgId(ctx, o.org);
  if (!id.ok()) return id.status();
  idv1::SetOrgDivisionCodeRequest req;
  req.set_org_id(*id);
  req.set_division_code(o.code);
  idv1::SetOrgDivisionCodeResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kIdentity, "SetOrgDivisionCode"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) std::cout << NodeLine(resp.node()) << "\n";
  return absl::OkStatus();
}

absl::Status List(Context& ctx, const ShowOptions& o) {
  absl::StatusOr<std::string> id = ResolveOrgId(ctx, o.org);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::vector<idv1::OrgNode>> kids = Children(ctx, *id, o.retired);
  if (!kids.ok()) return kids.status();
  if (ctx.json) {
    idv1::ListOrgChildrenResponse all;
    for (const idv1::OrgNode& n : *kids) *all.add_children() = n;
    ctx.PrintJson(all);
    return absl::OkStatus();
  }
  Table t({"NAME", "CODE", "LEVEL", "STATUS", "ID"});
  for (const idv1::OrgNode& n : *kids) {
    t.AddRow({n.name(), n.code(), EnumLabel(n.level()), EnumLabel(n.status()), n.org_id()});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

}  // namespace

void AddOrgCommands(CLI::App& app, Context& ctx) {
  CLI::App* org = app.add_subcommand("org", "the org tree: districts, streets, communities");
  org->require_subcommand(1);
  const std::string ref_help = "org node: its id, its code, its division code, or root";

  auto co = std::make_shared<CreateOptions>();
  CLI::App* create = org->add_subcommand(
      "create",
      "add a district under root, a street under a district or a community under a "
      "street (idempotent by --code)");
  create->add_option("--parent", co->parent, ref_help)->capture_default_str();
  create->add_option("--level", co->level, "district, street or community")->required();
  create->add_option("--code", co->code, "stable code, 2-32 of [0-9A-Za-z_-]")->required();
  create->add_option("--name", co->name, "display name, e.g. 清远街道")->required();
  create->add_option("--division-code", co->division_code,
                     "statistical division code, 12 digits, e.g. 140213001000");
  create->callback([&ctx, co] { ctx.Run([&ctx, co] { return Create(ctx, *co); }); });

  auto so = std::make_shared<ShowOptions>();
  CLI::App* show = org->add_subcommand("show", "show a node and its subtree as an indented tree");
  show->add_option("org", so->org, ref_help)->capture_default_str();
  show->add_option("--depth", so->depth, "levels below the node to show")->capture_default_str();
  show->add_flag("--retired", so->retired, "include retired nodes");
  show->callback([&ctx, so] { ctx.Run([&ctx, so] { return Show(ctx, *so); }); });

  auto ro = std::make_shared<RenameOptions>();
  CLI::App* rename = org->add_subcommand("rename", "change a node's display name");
  rename->add_option("org", ro->org, ref_help)->required();
  rename->add_option("--name", ro->name, "the new name")->required();
  rename->callback([&ctx, ro] { ctx.Run([&ctx, ro] { return Rename(ctx, *ro); }); });

  auto dc = std::make_shared<DivisionCodeOptions>();
  CLI::App* division = org->add_subcommand(
      "set-division-code", "set or clear a node's statistical division code (统计用区划代码)");
  division->add_option("org", dc->org, ref_help)->required();
  division->add_option("code", dc->code, "12 digits, e.g. 140213001000");
  division->add_flag("--clear", dc->clear, "remove the node's code");
  division->callback([&ctx, dc] { ctx.Run([&ctx, dc] { return SetDivisionCode(ctx, *dc); }); });

  auto lo = std::make_shared<ShowOptions>();
  CLI::App* children = org->add_subcommand("children", "list a node's direct children");
  children->add_option("org", lo->org, ref_help)->capture_default_str();
  children->add_flag("--retired", lo->retired, "include retired nodes");
  children->callback([&ctx, lo] { ctx.Run([&ctx, lo] { return List(ctx, *lo); }); });
}

}  // namespace civicpoints::cpctl
