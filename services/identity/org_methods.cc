// The org tree: district → street → community under the city root.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/base/text.h"
#include "common/pg/sql_values.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"
#include "services/identity/division_code.h"
#include "services/identity/identity_service.h"
#include "services/identity/input_rules.h"
#include "services/identity/records.h"
#include "services/identity/service_support.h"

namespace civicpoints::identity {
namespace {

using common::v1::OrgLevel;

absl::Status FetchNode(pqxx::transaction_base& tx, const std::string& org_id, v1::OrgNode* node) {
  if (org_id.empty()) return absl::InvalidArgumentError("org_id: is required");
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kOrgColumns, " FROM org_nodes WHERE org_id = $1"), org_id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("org_id: no org node '", org_id, "'"));
  FillOrg(r[0], node);
  return absl::OkStatus();
}

absl::Status CheckVersion(int64_t expected, const OrgRow& org) {
  if (expected != 0 && expected != org.version) {
    return absl::AbortedError(absl::StrCat("org node ", org.org_id, " is at version ", org.version,
                                           ", not the expected ", expected, "; reload and retry"));
  }
  return absl::OkStatus();
}

// ALREADY_EXISTS when a node other than `self` has `code` (a division code), naming it.
absl::Status CheckDivisionCodeFree(pqxx::transaction_base& tx, const std::string& code,
                                   const std::string& self) {
  if (code.empty()) return absl::OkStatus();
  pqxx::result r = tx.exec_params(
      "SELECT org_id, name FROM org_nodes WHERE division_code = $1 AND org_id <> $2", code, self);
  if (r.empty()) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat("division_code: ", code, " is held by org node ",
                                               r[0][0].as<std::string>(), " (",
                                               r[0][1].as<std::string>(), ")"));
}

// OK when `code` lies under the code of the nearest node above `node` that has one — `node`
// itself when `with_self` (a new node's parent) — for a street without a code must not let a
// community stray from its district's.
absl::Status CheckUnderAncestors(pqxx::transaction_base& tx, const OrgRow& node, bool with_self,
                                 const std::string& code) {
  if (code.empty()) return absl::OkStatus();
  std::vector<std::string> ids;
  for (const std::string* id : {&node.district_id, &node.street_id, &node.community_id}) {
    if (!id->empty() && (with_self || *id != node.org_id)) ids.push_back(*id);
  }
  if (with_self || node.org_id != kRootId) ids.push_back(kRootId);
  pqxx::result r = tx.exec_params(
      "SELECT level, division_code FROM org_nodes WHERE org_id = ANY($1) AND division_code IS "
      "NOT NULL ORDER BY level DESC LIMIT 1",
      pg::TextArray(ids));
  if (r.empty()) return absl::OkStatus();
  return CheckDivisionCodeUnder(code, r[0][1].as<std::string>(),
                                static_cast<OrgLevel>(r[0][0].as<int>()), "division_code");
}

// OK when every code below `node` lies under `code` (empty: nothing to keep under); else the
// first that would not, named.
absl::Status CheckDescendantsUnder(pqxx::transaction_base& tx, const OrgRow& node,
                                   const std::string& code) {
  if (code.empty()) return absl::OkStatus();
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT org_id, division_code FROM org_nodes WHERE ",
                   InSubtree(node, "org_id", "district_id", "street_id", 1),
                   " AND org_id <> $1 AND division_code IS NOT NULL AND "
                   "NOT starts_with(division_code, $2) ORDER BY division_code LIMIT 1"),
      node.org_id, std::string(DivisionCodePrefix(code, node.level)));
  if (r.empty()) return absl::OkStatus();
  return Refuse(absl::StatusCode::kFailedPrecondition,
                v1::IDENTITY_ERROR_REASON_DIVISION_CODE_OUTSIDE_PARENT,
                absl::StrCat("division_code: node ", r[0][0].as<std::string>(), " below has ",
                             r[0][1].as<std::string>(), ", which is not under ", code,
                             "; change or clear that code first"));
}

}  // namespace

grpc::Status IdentityServiceImpl::CreateOrgNode(grpc::ServerContext* ctx,
                                                const v1::CreateOrgNodeRequest* req,
                                                v1::CreateOrgNodeResponse* resp) {
  return Handle(ctx, "CreateOrgNode", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = CheckOrgCode(req->code(), "code"); !s.ok()) return s;
    if (absl::Status s = text::CheckText(req->name(), "name", {.max = 64, .required = true});
        !s.ok())
      return s;
    if (req->parent_id().empty()) return absl::InvalidArgumentError("parent_id: is required");
    const bool department = req->level() == common::v1::ORG_LEVEL_DEPARTMENT;
    if (!department && (req->level() < common::v1::ORG_LEVEL_DISTRICT ||
                        req->level() > common::v1::ORG_LEVEL_COMMUNITY)) {
      return absl::InvalidArgumentError(
          "level: must be ORG_LEVEL_DISTRICT, ORG_LEVEL_STREET, ORG_LEVEL_COMMUNITY or "
          "ORG_LEVEL_DEPARTMENT");
    }
    if (absl::Status s = CheckDivisionCode(req->division_code(), req->level(), "division_code");
        !s.ok()) {
      return s;
    }
    return InTx("create org node", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> parent = LoadOrg(tx, req->parent_id(), "parent_id", RowLock::kShare);
      if (!parent.ok()) return parent.status();
      // A department hangs beside the street or district it serves; an area sits exactly one
      // level below its parent area.
      const bool fits = department ? parent->level == common::v1::ORG_LEVEL_STREET ||
                                         parent->level == common::v1::ORG_LEVEL_DISTRICT
                                   : req->level() == parent->level + 1;
      if (!fits) {
        return absl::InvalidArgumentError(
            absl::StrCat("level: ", common::v1::OrgLevel_Name(req->level()), " cannot sit under a ",
                         common::v1::OrgLevel_Name(parent->level),
                         department ? " (a department serves a street or a district)"
                                    : " (must be exactly one level below)"));
      }
      if (absl::Status s = CheckCoversOrg(caller.who(), *parent, "parent node " + parent->org_id);
          !s.ok()) {
        return s;
      }
      pqxx::result same = tx.exec_params(
          absl::StrCat("SELECT ", kOrgColumns, " FROM org_nodes WHERE code = $1"), req->code());
      if (!same.empty()) {
        const OrgRow existing = ReadOrg(same[0]);
        if (existing.parent_id == parent->org_id && existing.name == req->name() &&
            existing.level == req->level() &&
            (req->division_code().empty() || existing.division_code == req->division_code())) {
          FillOrg(same[0], resp->mutable_node());  // a repeat of the same create
          return absl::OkStatus();
        }
        return absl::AlreadyExistsError(
            absl::StrCat("code: '", req->code(), "' is taken by org node ", existing.org_id));
      }
      if (parent->retired) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_ORG_NODE_RETIRED,
                      absl::StrCat("parent node ", parent->org_id, " is retired"));
      }
      if (absl::Status s = CheckUnderAncestors(tx, *parent, true, req->division_code()); !s.ok()) {
        return s;
      }
      if (absl::Status s = CheckDivisionCodeFree(tx, req->division_code(), ""); !s.ok()) return s;
      static constexpr const char* kPrefix[] = {"", "", "d", "s", "c"};
      const std::string id = NewId(department ? "dp" : kPrefix[req->level()]);
      // A department's path is the area it serves (its parent's), never itself.
      const std::string district =
          req->level() == common::v1::ORG_LEVEL_DISTRICT ? id : parent->district_id;
      const std::string street = req->level() == common::v1::ORG_LEVEL_STREET ? id
                                 : req->level() == common::v1::ORG_LEVEL_COMMUNITY || department
                                     ? parent->street_id
                                     : "";
      const std::string community = req->level() == common::v1::ORG_LEVEL_COMMUNITY ? id : "";
      pqxx::result r = tx.exec_params(
          absl::StrCat("INSERT INTO org_nodes (org_id, code, name, level, parent_id, district_id, "
                       "street_id, community_id, division_code) VALUES ($1, $2, $3, $4, $5, $6, "
                       "NULLIF($7, ''), NULLIF($8, ''), NULLIF($9, '')) RETURNING ",
                       kOrgColumns),
          id, req->code(), req->name(), static_cast<int>(req->level()), parent->org_id, district,
          street, community, req->division_code());
      FillOrg(r[0], resp->mutable_node());
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::RenameOrgNode(grpc::ServerContext* ctx,
                                                const v1::RenameOrgNodeRequest* req,
                                                v1::RenameOrgNodeResponse* resp) {
  return Handle(ctx, "RenameOrgNode", [&](const Caller& caller) -> absl::Status {
    if (req->org_id().empty()) return absl::InvalidArgumentError("org_id: is required");
    if (absl::Status s = text::CheckText(req->name(), "name", {.max = 64, .required = true});
        !s.ok())
      return s;
    return InTx("rename org node", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> org = LoadOrg(tx, req->org_id(), "org_id", RowLock::kUpdate);
      if (!org.ok()) return org.status();
      if (absl::Status s = CheckCoversOrg(caller.who(), *org, "org node " + org->org_id); !s.ok())
        return s;
      if (org->name == req->name()) return FetchNode(tx, org->org_id, resp->mutable_node());
      if (absl::Status s = CheckVersion(req->expected_version(), *org); !s.ok()) return s;
      if (org->retired) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_ORG_NODE_RETIRED,
                      absl::StrCat("org node ", org->org_id, " is retired"));
      }
      tx.exec_params(
          "UPDATE org_nodes SET name = $2, version = version + 1, updated_at = now() "
          "WHERE org_id = $1",
          org->org_id, req->name());
      return FetchNode(tx, org->org_id, resp->mutable_node());
    });
  });
}

grpc::Status IdentityServiceImpl::SetOrgDivisionCode(grpc::ServerContext* ctx,
                                                     const v1::SetOrgDivisionCodeRequest* req,
                                                     v1::SetOrgDivisionCodeResponse* resp) {
  return Handle(ctx, "SetOrgDivisionCode", [&](const Caller& caller) -> absl::Status {
    if (req->org_id().empty()) return absl::InvalidArgumentError("org_id: is required");
    const std::string& code = req->division_code();
    return InTx("set division code", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> org = LoadOrg(tx, req->org_id(), "org_id", RowLock::kUpdate);
      if (!org.ok()) return org.status();
      if (absl::Status s = CheckCoversOrg(caller.who(), *org, "org node " + org->org_id); !s.ok())
        return s;
      if (absl::Status s = CheckDivisionCode(code, org->level, "division_code"); !s.ok()) return s;
      if (org->division_code == code) return FetchNode(tx, org->org_id, resp->mutable_node());
      if (absl::Status s = CheckVersion(req->expected_version(), *org); !s.ok()) return s;
      if (absl::Status s = CheckUnderAncestors(tx, *org, false, code); !s.ok()) return s;
      if (absl::Status s = CheckDescendantsUnder(tx, *org, code); !s.ok()) return s;
      if (absl::Status s = CheckDivisionCodeFree(tx, code, org->org_id); !s.ok()) return s;
      tx.exec_params(
          "UPDATE org_nodes SET division_code = NULLIF($2, ''), version = version + 1, "
          "updated_at = now() WHERE org_id = $1",
          org->org_id, code);
      tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $3)",
                     caller.who().subject, "set_division_code", org->org_id);
      return FetchNode(tx, org->org_id, resp->mutable_node());
    });
  });
}

grpc::Status IdentityServiceImpl::RetireOrgNode(grpc::ServerContext* ctx,
                                                const v1::RetireOrgNodeRequest* req,
                                                v1::RetireOrgNodeResponse* resp) {
  return Handle(ctx, "RetireOrgNode", [&](const Caller& caller) -> absl::Status {
    return InTx("retire org node", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> org = LoadOrg(tx, req->org_id(), "org_id", RowLock::kUpdate);
      if (!org.ok()) return org.status();
      if (absl::Status s = CheckCoversOrg(caller.who(), *org, "org node " + org->org_id); !s.ok())
        return s;
      if (org->retired) return FetchNode(tx, org->org_id, resp->mutable_node());
      if (org->level == common::v1::ORG_LEVEL_CITY) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_ROOT_NODE_PROTECTED,
                      "the city root cannot be retired");
      }
      if (absl::Status s = CheckVersion(req->expected_version(), *org); !s.ok()) return s;
      pqxx::result active = tx.exec_params(
          "SELECT count(*) FROM org_nodes WHERE parent_id = $1 AND retired_at IS NULL",
          org->org_id);
      if (active[0][0].as<int64_t>() > 0) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_ORG_NODE_IN_USE,
                      absl::StrCat("org node ", org->org_id, " has ", active[0][0].as<int64_t>(),
                                   " active children; retire them first"),
                      {{"count", active[0][0].as<std::string>()}});
      }
      tx.exec_params(
          "UPDATE org_nodes SET retired_at = now(), version = version + 1, updated_at = now() "
          "WHERE org_id = $1",
          org->org_id);
      tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $3)",
                     caller.who().subject, "retire_org_node", org->org_id);
      return FetchNode(tx, org->org_id, resp->mutable_node());
    });
  });
}

grpc::Status IdentityServiceImpl::DeleteOrgNode(grpc::ServerContext* ctx,
                                                const v1::DeleteOrgNodeRequest* req,
                                                v1::DeleteOrgNodeResponse*) {
  return Handle(ctx, "DeleteOrgNode", [&](const Caller& caller) -> absl::Status {
    return InTx("delete org node", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> org = LoadOrg(tx, req->org_id(), "org_id", RowLock::kUpdate);
      if (!org.ok()) return org.status();
      if (absl::Status s = CheckCoversOrg(caller.who(), *org, "org node " + org->org_id); !s.ok())
        return s;
      if (org->level == common::v1::ORG_LEVEL_CITY) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_ROOT_NODE_PROTECTED,
                      "the city root cannot be deleted");
      }
      pqxx::result uses = tx.exec_params(
          "SELECT (SELECT count(*) FROM org_nodes WHERE parent_id = $1), "
          "(SELECT count(*) FROM check_ins WHERE community_id = $1), "
          "(SELECT count(*) FROM role_grants WHERE org_id = $1), "
          "(SELECT count(*) FROM service_accounts WHERE org_id = $1), "
          "(SELECT count(*) FROM people WHERE origin_community_id = $1)",
          org->org_id);
      static constexpr const char* kWhat[] = {"children", "check-ins", "role grants",
                                              "service accounts", "registered riders"};
      for (int i = 0; i < 5; ++i) {
        if (uses[0][i].as<int64_t>() > 0) {
          return Refuse(absl::StatusCode::kFailedPrecondition,
                        v1::IDENTITY_ERROR_REASON_ORG_NODE_IN_USE,
                        absl::StrCat("org node ", org->org_id, " has ", uses[0][i].as<int64_t>(),
                                     " ", kWhat[i], "; it can only be retired"),
                        {{"count", uses[0][i].as<std::string>()}});
        }
      }
      tx.exec_params("DELETE FROM check_in_codes WHERE community_id = $1", org->org_id);
      tx.exec_params("DELETE FROM org_nodes WHERE org_id = $1", org->org_id);
      tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $3)",
                     caller.who().subject, "delete_org_node", org->org_id);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::GetOrgNode(grpc::ServerContext* ctx,
                                             const v1::GetOrgNodeRequest* req,
                                             v1::GetOrgNodeResponse* resp) {
  return Handle(ctx, "GetOrgNode", [&](const Caller&) -> absl::Status {
    return InReadTx("get org node", [&](pqxx::transaction_base& tx) {
      return FetchNode(tx, req->org_id(), resp->mutable_node());
    });
  });
}

grpc::Status IdentityServiceImpl::LookupOrgNode(grpc::ServerContext* ctx,
                                                const v1::LookupOrgNodeRequest* req,
                                                v1::LookupOrgNodeResponse* resp) {
  return Handle(ctx, "LookupOrgNode", [&](const Caller&) -> absl::Status {
    const bool by_division = !req->division_code().empty();
    if (by_division == !req->code().empty()) {
      return absl::InvalidArgumentError(
          by_division ? "code: give code or division_code, not both"
                      : "code: is required (or division_code, the statistical division code)");
    }
    RETURN_IF_ERROR(by_division ? CheckDivisionCodeForm(req->division_code(), "division_code")
                                : CheckOrgCode(req->code(), "code"));
    return InReadTx("look up org node", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result r = tx.exec_params(absl::StrCat("SELECT ", kOrgColumns, " FROM org_nodes WHERE ",
                                                   by_division ? "division_code" : "code", " = $1"),
                                      by_division ? req->division_code() : req->code());
      if (r.empty() && by_division) {
        return absl::NotFoundError(
            absl::StrCat("division_code: no org node has division code ", req->division_code()));
      }
      if (r.empty())
        return absl::NotFoundError(absl::StrCat("code: no org node has code '", req->code(), "'"));
      FillOrg(r[0], resp->mutable_node());
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::BatchGetOrgNodes(grpc::ServerContext* ctx,
                                                   const v1::BatchGetOrgNodesRequest* req,
                                                   v1::BatchGetOrgNodesResponse* resp) {
  return Handle(ctx, "BatchGetOrgNodes", [&](const Caller&) -> absl::Status {
    if (req->org_ids().empty()) return absl::InvalidArgumentError("org_ids: is empty");
    if (req->org_ids_size() > 100) {
      return absl::InvalidArgumentError("org_ids: has more than 100 entries");
    }
    std::vector<std::string> ids(req->org_ids().begin(), req->org_ids().end());
    return InReadTx("batch get org nodes", [&](pqxx::transaction_base& tx) -> absl::Status {
      std::map<std::string, v1::OrgNode> found;
      for (const auto& row : tx.exec_params(
               absl::StrCat("SELECT ", kOrgColumns, " FROM org_nodes WHERE org_id = ANY($1)"),
               pg::TextArray(ids))) {
        v1::OrgNode n;
        FillOrg(row, &n);
        found[n.org_id()] = std::move(n);
      }
      for (const std::string& id : ids) {
        auto it = found.find(id);
        if (it == found.end()) {
          return absl::NotFoundError(absl::StrCat("org_ids: no org node '", id, "'"));
        }
        *resp->add_nodes() = it->second;
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ListOrgChildren(grpc::ServerContext* ctx,
                                                  const v1::ListOrgChildrenRequest* req,
                                                  v1::ListOrgChildrenResponse* resp) {
  return Handle(ctx, "ListOrgChildren", [&](const Caller&) -> absl::Status {
    absl::StatusOr<Paging> paging = StartPaging(*req, 1);
    if (!paging.ok()) return paging.status();
    return InReadTx("list org children", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> parent = LoadOrg(tx, req->org_id(), "org_id");
      if (!parent.ok()) return parent.status();
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kOrgColumns,
                       " FROM org_nodes WHERE parent_id = $1 AND ($2 OR retired_at IS NULL) "
                       "AND code > $3 ORDER BY code LIMIT $4"),
          parent->org_id, req->include_retired(), paging->after.empty() ? "" : paging->after[0],
          paging->size + 1);
      resp->set_next_page_token(FillPage(
          rows, *paging, [&](const pqxx::row& row) { FillOrg(row, resp->add_children()); },
          [](const pqxx::row& last) {
            return std::vector<std::string>{last[1].as<std::string>()};
          }));
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ResolveOrgPath(grpc::ServerContext* ctx,
                                                 const v1::ResolveOrgPathRequest* req,
                                                 v1::ResolveOrgPathResponse* resp) {
  return Handle(ctx, "ResolveOrgPath", [&](const Caller&) -> absl::Status {
    return InReadTx("resolve org path", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> org = LoadOrg(tx, req->org_id(), "org_id");
      if (!org.ok()) return org.status();
      std::vector<std::string> chain = {kRootId};
      for (const std::string* id : {&org->district_id, &org->street_id, &org->community_id}) {
        if (!id->empty()) chain.push_back(*id);
      }
      // A department is on no path (it serves its parent's area): it ends its own chain.
      if (chain.back() != org->org_id) chain.push_back(org->org_id);
      std::map<std::string, v1::OrgNode> nodes;
      for (const auto& row : tx.exec_params(
               absl::StrCat("SELECT ", kOrgColumns, " FROM org_nodes WHERE org_id = ANY($1)"),
               pg::TextArray(chain))) {
        v1::OrgNode n;
        FillOrg(row, &n);
        nodes[n.org_id()] = std::move(n);
      }
      std::vector<std::string> names;
      for (const std::string& id : chain) {
        *resp->add_ancestors() = nodes[id];
        if (id != kRootId) names.push_back(nodes[id].name());
      }
      *resp->mutable_path() = PathOf(*org);
      resp->set_display_path(names.empty() ? nodes[kRootId].name() : absl::StrJoin(names, " / "));
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::identity
