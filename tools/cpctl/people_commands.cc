// person create|find and role grant|list|revoke: staff accounts and what they may do where.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "tools/cpctl/commands.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/format.h"
#include "tools/cpctl/lookups.h"
#include "tools/cpctl/password_input.h"
#include "tools/cpctl/table.h"

namespace civicpoints::cpctl {
namespace {

namespace idv1 = identity::v1;
constexpr char kIdentity[] = "civicpoints.identity.v1.IdentityService.";

struct PersonOptions {
  std::string phone, name, key;
  bool password_stdin = false;
};

absl::Status CreatePerson(Context& ctx, const PersonOptions& o) {
  absl::StatusOr<std::string> password =
      ReadPassword(o.password_stdin, "CPCTL_INITIAL_PASSWORD", "initial password");
  if (!password.ok()) return password.status();
  idv1::CreatePersonRequest req;
  req.set_phone(o.phone);
  req.set_display_name(o.name);
  req.set_initial_password(*password);
  // The phone is the natural key of a person: the same command again returns the same person.
  req.set_idempotency_key(o.key.empty() ? absl::StrCat("cpctl-person-", o.phone) : o.key);
  idv1::CreatePersonResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kIdentity, "CreatePerson"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) {
    std::cout << "person " << resp.person().person_id() << " " << resp.person().display_name()
              << " (must change the password at first login)\n";
  }
  return absl::OkStatus();
}

absl::Status FindPerson(Context& ctx, const PersonOptions& o) {
  idv1::FindPersonByPhoneRequest req;
  req.set_phone(o.phone);
  idv1::FindPersonByPhoneResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kIdentity, "FindPersonByPhone"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) PrintRecord(resp.person(), std::cout);
  return absl::OkStatus();
}

struct GrantOptions {
  std::string person, role, org, grant, reason;
};

absl::Status Grant(Context& ctx, const GrantOptions& o) {
  absl::StatusOr<common::v1::Role> role = ParseEnum<common::v1::Role>(o.role, "--role");
  if (!role.ok()) return role.status();
  absl::StatusOr<std::string> org = ResolveOrgId(ctx, o.org);
  if (!org.ok()) return org.status();
  idv1::GrantRoleRequest req;
  req.set_person_id(o.person);
  req.set_role(*role);
  req.set_org_id(*org);
  idv1::GrantRoleResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kIdentity, "GrantRole"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) {
    std::cout << "grant " << resp.grant().grant_id() << ": " << EnumLabel(resp.grant().role())
              << " at " << resp.grant().org_name() << "\n";
  }
  return absl::OkStatus();
}

absl::Status Revoke(Context& ctx, const GrantOptions& o) {
  idv1::RevokeRoleRequest req;
  req.set_grant_id(o.grant);
  req.set_reason(o.reason);
  idv1::RevokeRoleResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kIdentity, "RevokeRole"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) std::cout << "grant " << resp.grant().grant_id() << " revoked\n";
  return absl::OkStatus();
}

absl::Status List(Context& ctx, const GrantOptions& o) {
  idv1::ListRoleGrantsRequest req;
  req.set_person_id(o.person);
  if (!o.org.empty()) {
    absl::StatusOr<std::string> org = ResolveOrgId(ctx, o.org);
    if (!org.ok()) return org.status();
    req.set_org_id(*org);
  }
  req.set_page_size(100);
  idv1::ListRoleGrantsResponse all;
  do {
    idv1::ListRoleGrantsResponse resp;
    absl::Status s = ctx.client().Call(absl::StrCat(kIdentity, "ListRoleGrants"), req, &resp);
    if (!s.ok()) return s;
    for (const idv1::RoleGrant& g : resp.grants()) *all.add_grants() = g;
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.PrintJson(all)) return absl::OkStatus();
  std::vector<std::string> ids;
  for (const idv1::RoleGrant& g : all.grants()) ids.push_back(g.person_id());
  std::map<std::string, std::string> names = PeopleNames(ctx, ids);
  Table t({"GRANT", "PERSON", "NAME", "ROLE", "ORG", "SINCE"});
  for (const idv1::RoleGrant& g : all.grants()) {
    t.AddRow({g.grant_id(), g.person_id(), names[g.person_id()], EnumLabel(g.role()), g.org_name(),
              FormatTime(g.grant_time())});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

}  // namespace

void AddPeopleCommands(CLI::App& app, Context& ctx) {
  CLI::App* person = app.add_subcommand("person", "staff accounts");
  person->require_subcommand(1);
  auto po = std::make_shared<PersonOptions>();
  CLI::App* create = person->add_subcommand(
      "create",
      "create a staff member, keeper or merchant with an initial password they change at first "
      "login (then grant a role). The password comes from --password-stdin, "
      "CPCTL_INITIAL_PASSWORD, or is asked for without echo.");
  create->add_option("--phone", po->phone, "mobile number, their login name")->required();
  create->add_option("--name", po->name, "display name")->required();
  create->add_flag("--password-stdin", po->password_stdin, "read the initial password from stdin");
  create->add_option("--key", po->key, "idempotency key (default: from the phone)");
  create->callback([&ctx, po] { ctx.Run([&ctx, po] { return CreatePerson(ctx, *po); }); });
  auto fo = std::make_shared<PersonOptions>();
  CLI::App* find = person->add_subcommand("find", "find a person by phone number");
  find->add_option("--phone", fo->phone, "mobile number")->required();
  find->callback([&ctx, fo] { ctx.Run([&ctx, fo] { return FindPerson(ctx, *fo); }); });

  CLI::App* role = app.add_subcommand("role", "role grants (who may do what where)");
  role->require_subcommand(1);
  auto go = std::make_shared<GrantOptions>();
  CLI::App* grant = role->add_subcommand("grant", "give a person a role at an org node");
  grant->add_option("--person", go->person, "person id")->required();
  grant->add_option("--role", go->role, EnumChoicesOf<common::v1::Role>())->required();
  grant->add_option("--org", go->org, "org node id or code")->required();
  grant->callback([&ctx, go] { ctx.Run([&ctx, go] { return Grant(ctx, *go); }); });
  auto lo = std::make_shared<GrantOptions>();
  CLI::App* list = role->add_subcommand("list", "list active grants of a person or org node");
  list->add_option("--person", lo->person, "person id");
  list->add_option("--org", lo->org, "org node id or code");
  list->callback([&ctx, lo] { ctx.Run([&ctx, lo] { return List(ctx, *lo); }); });
  auto ro = std::make_shared<GrantOptions>();
  CLI::App* revoke = role->add_subcommand("revoke", "revoke a grant");
  revoke->add_option("grant_id", ro->grant, "grant id")->required();
  revoke->add_option("--reason", ro->reason, "why, kept for audit");
  revoke->callback([&ctx, ro] { ctx.Run([&ctx, ro] { return Revoke(ctx, *ro); }); });
}

}  // namespace civicpoints::cpctl
