// Role grants: who may do what where.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/base/text.h"
#include "common/pg/sql_values.h"
#include "common/status/refusal.h"
#include "services/identity/identity_service.h"
#include "services/identity/input_rules.h"
#include "services/identity/records.h"
#include "services/identity/service_support.h"

namespace civicpoints::identity {
namespace {

using common::v1::OrgLevel;
using common::v1::Role;

constexpr int kMaxActiveGrants = 50;

// The node levels each grantable role is held at.
absl::Status CheckRoleFitsLevel(Role role, OrgLevel level) {
  bool fits = false;
  switch (role) {
    case common::v1::ROLE_COMMUNITY_STAFF:
    case common::v1::ROLE_STATION_KEEPER:
    case common::v1::ROLE_MERCHANT:
      fits = level == common::v1::ORG_LEVEL_COMMUNITY;
      break;
    case common::v1::ROLE_STREET_STAFF:
      fits = level == common::v1::ORG_LEVEL_STREET;
      break;
    case common::v1::ROLE_DISTRICT_ADMIN:
      fits = level == common::v1::ORG_LEVEL_DISTRICT || level == common::v1::ORG_LEVEL_CITY;
      break;
    case common::v1::ROLE_ORG_VIEWER:  // a leader of any area reads its figures
      fits =
          level != common::v1::ORG_LEVEL_UNSPECIFIED && level != common::v1::ORG_LEVEL_DEPARTMENT;
      break;
    case common::v1::ROLE_DEPARTMENT_STAFF:
      fits = level == common::v1::ORG_LEVEL_DEPARTMENT;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "role: ", common::v1::Role_Name(role),
          " cannot be granted this way (riders register; city systems and services get service "
          "accounts)"));
  }
  if (!fits) {
    return absl::InvalidArgumentError(absl::StrCat("role: ", common::v1::Role_Name(role),
                                                   " cannot be held at a ",
                                                   common::v1::OrgLevel_Name(level)));
  }
  return absl::OkStatus();
}

// District admins grant any staff role in their subtree; street staff grant community staff,
// station keepers, merchants, org viewers and the staff of the street's departments.
absl::Status CheckMayGrant(const auth::Principal& who, Role role, const OrgRow& org) {
  if (CoversOrgWithRole(who, org, {common::v1::ROLE_DISTRICT_ADMIN})) return absl::OkStatus();
  const bool street_grantable =
      role == common::v1::ROLE_COMMUNITY_STAFF || role == common::v1::ROLE_STATION_KEEPER ||
      role == common::v1::ROLE_MERCHANT || role == common::v1::ROLE_ORG_VIEWER ||
      role == common::v1::ROLE_DEPARTMENT_STAFF;
  if (street_grantable && CoversOrgWithRole(who, org, {common::v1::ROLE_STREET_STAFF})) {
    return absl::OkStatus();
  }
  return Refuse(absl::StatusCode::kPermissionDenied, v1::IDENTITY_ERROR_REASON_ROLE_NOT_GRANTABLE,
                absl::StrCat("the caller may not grant or revoke ", common::v1::Role_Name(role),
                             " at org node ", org.org_id));
}

absl::Status FetchGrant(pqxx::transaction_base& tx, const std::string& grant_id,
                        v1::RoleGrant* out) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kGrantColumns, " FROM ", kGrantFrom, " WHERE g.grant_id = $1"),
      grant_id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("grant_id: no grant '", grant_id, "'"));
  FillGrant(r[0], out);
  return absl::OkStatus();
}

}  // namespace

grpc::Status IdentityServiceImpl::GrantRole(grpc::ServerContext* ctx,
                                            const v1::GrantRoleRequest* req,
                                            v1::GrantRoleResponse* resp) {
  return Handle(ctx, "GrantRole", [&](const Caller& caller) -> absl::Status {
    if (req->person_id().empty()) return absl::InvalidArgumentError("person_id: is required");
    if (req->org_id().empty()) return absl::InvalidArgumentError("org_id: is required");
    if (req->role() == common::v1::ROLE_UNSPECIFIED) {
      return absl::InvalidArgumentError("role: is required");
    }
    return InTx("grant role", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> org = LoadOrg(tx, req->org_id(), "org_id", RowLock::kShare);
      if (!org.ok()) return org.status();
      if (absl::Status s = CheckRoleFitsLevel(req->role(), org->level); !s.ok()) return s;
      absl::StatusOr<PersonRow> person = LoadPerson(tx, req->person_id(), /*lock=*/true);
      if (!person.ok()) return person.status();
      if (absl::Status s = CheckMayGrant(caller.who(), req->role(), *org); !s.ok()) return s;
      pqxx::result existing = tx.exec_params(
          "SELECT grant_id FROM role_grants WHERE person_id = $1 AND role = $2 AND org_id = $3 "
          "AND revoked_at IS NULL",
          person->person_id, static_cast<int>(req->role()), org->org_id);
      if (!existing.empty()) {
        return FetchGrant(tx, existing[0][0].as<std::string>(), resp->mutable_grant());
      }
      if (org->retired) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_ORG_NODE_RETIRED,
                      absl::StrCat("org node ", org->org_id, " is retired"));
      }
      if (person->status != v1::PERSON_STATUS_ACTIVE) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_PERSON_NOT_ACTIVE,
                      absl::StrCat("person ", person->person_id, " is not active"));
      }
      pqxx::result count = tx.exec_params(
          "SELECT count(*) FROM role_grants WHERE person_id = $1 AND revoked_at IS NULL",
          person->person_id);
      if (count[0][0].as<int>() >= kMaxActiveGrants) {
        return Refuse(absl::StatusCode::kResourceExhausted, v1::IDENTITY_ERROR_REASON_LIMIT_REACHED,
                      absl::StrCat("person ", person->person_id, " already holds ",
                                   kMaxActiveGrants, " active grants"),
                      {{"limit", absl::StrCat(kMaxActiveGrants)}});
      }
      const std::string id = NewId("g");
      tx.exec_params(
          "INSERT INTO role_grants (grant_id, person_id, role, org_id, granted_by) "
          "VALUES ($1, $2, $3, $4, $5)",
          id, person->person_id, static_cast<int>(req->role()), org->org_id, caller.who().subject);
      return FetchGrant(tx, id, resp->mutable_grant());
    });
  });
}

grpc::Status IdentityServiceImpl::RevokeRole(grpc::ServerContext* ctx,
                                             const v1::RevokeRoleRequest* req,
                                             v1::RevokeRoleResponse* resp) {
  return Handle(ctx, "RevokeRole", [&](const Caller& caller) -> absl::Status {
    if (req->grant_id().empty()) return absl::InvalidArgumentError("grant_id: is required");
    if (absl::Status s = text::CheckText(req->reason(), "reason", {.max = 200}); !s.ok()) return s;
    return InTx("revoke role", [&](pqxx::transaction_base& tx) -> absl::Status {
      v1::RoleGrant grant;
      if (absl::Status s = FetchGrant(tx, req->grant_id(), &grant); !s.ok()) return s;
      absl::StatusOr<OrgRow> org = LoadOrg(tx, grant.org_id(), "org_id");
      if (!org.ok()) return org.status();
      if (grant.role() == common::v1::ROLE_RIDER) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_GRANT_PROTECTED,
                      "a rider's ROLE_RIDER grant cannot be revoked; "
                      "suspend or close the account instead");
      }
      if (absl::Status s = CheckMayGrant(caller.who(), grant.role(), *org); !s.ok()) return s;
      if (grant.status() == v1::ROLE_GRANT_STATUS_REVOKED) {
        *resp->mutable_grant() = grant;
        return absl::OkStatus();
      }
      if (grant.role() == common::v1::ROLE_DISTRICT_ADMIN && grant.org_id() == kRootId) {
        tx.exec("LOCK TABLE role_grants IN SHARE ROW EXCLUSIVE MODE");
        pqxx::result others = tx.exec_params(
            "SELECT count(*) FROM role_grants WHERE role = role('DISTRICT_ADMIN') AND org_id = "
            "'root' "
            "AND revoked_at IS NULL AND grant_id <> $1",
            grant.grant_id());
        if (others[0][0].as<int>() == 0) {
          return Refuse(
              absl::StatusCode::kFailedPrecondition, v1::IDENTITY_ERROR_REASON_GRANT_PROTECTED,
              "this is the city's last district-admin grant at the root; grant another first");
        }
      }
      tx.exec_params(
          "UPDATE role_grants SET revoked_at = now(), revoked_by = $2, revoke_reason = $3 "
          "WHERE grant_id = $1",
          grant.grant_id(), caller.who().subject, req->reason());
      return FetchGrant(tx, grant.grant_id(), resp->mutable_grant());
    });
  });
}

grpc::Status IdentityServiceImpl::ListRoleGrants(grpc::ServerContext* ctx,
                                                 const v1::ListRoleGrantsRequest* req,
                                                 v1::ListRoleGrantsResponse* resp) {
  return Handle(ctx, "ListRoleGrants", [&](const Caller& caller) -> absl::Status {
    if (req->person_id().empty() && req->org_id().empty()) {
      return absl::InvalidArgumentError("person_id or org_id: at least one is required");
    }
    std::vector<std::string> roles;
    for (int r : req->roles()) {
      if (r == common::v1::ROLE_UNSPECIFIED || !common::v1::Role_IsValid(r)) {
        return absl::InvalidArgumentError("roles: holds ROLE_UNSPECIFIED or an unknown role");
      }
      roles.push_back(std::to_string(r));
    }
    absl::StatusOr<Paging> paging = StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    return InReadTx("list role grants", [&](pqxx::transaction_base& tx) -> absl::Status {
      OrgRow scope;
      scope.org_id = kRootId;
      scope.level = common::v1::ORG_LEVEL_CITY;
      if (!req->org_id().empty()) {
        absl::StatusOr<OrgRow> org = LoadOrg(tx, req->org_id(), "org_id");
        if (!org.ok()) return org.status();
        if (absl::Status s = CheckCoversOrg(caller.who(), *org, "org node " + org->org_id);
            !s.ok()) {
          return s;
        }
        scope = *org;
      }
      if (!req->person_id().empty()) {
        absl::StatusOr<PersonRow> person = LoadPerson(tx, req->person_id());
        if (!person.ok()) return person.status();
        if (req->org_id().empty()) {
          absl::StatusOr<bool> covered = CoversPerson(tx, caller.who(), req->person_id());
          if (!covered.ok()) return covered.status();
          if (!*covered) {
            return Refuse(absl::StatusCode::kPermissionDenied,
                          v1::IDENTITY_ERROR_REASON_OUTSIDE_ORG_SCOPE,
                          absl::StrCat("person ", req->person_id(),
                                       " is outside the org nodes the caller's roles cover"));
          }
        }
      }
      const int64_t after_us = paging->after_us();
      pqxx::result rows = tx.exec_params(
          absl::StrCat(
              "SELECT ", kGrantColumns, " FROM ", kGrantFrom, " WHERE ",
              InSubtree(scope, "o.org_id", "o.district_id", "o.street_id", 1),
              " AND ($2 = '' OR g.person_id = $2) AND (cardinality($3::smallint[]) = 0 OR g.role = "
              "ANY($3::smallint[])) AND ($4 OR g.revoked_at IS NULL) AND ($5::bigint = 0 OR "
              "(us(g.granted_at), g.grant_id) < ($5, $6)) "
              "ORDER BY g.granted_at DESC, g.grant_id DESC LIMIT $7"),
          scope.org_id, req->person_id(), pg::TextArray(roles), req->include_revoked(), after_us,
          paging->after_id(), paging->size + 1);
      resp->set_next_page_token(FillPage(
          rows, *paging, 7, [&](const pqxx::row& row) { FillGrant(row, resp->add_grants()); }));
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::identity
