#include "services/identity/records.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "civicpoints/common/v1/role.pb.h"
#include "services/identity/ranking_name.h"

namespace civicpoints::identity {

OrgRow ReadOrg(const pqxx::row& row) {
  OrgRow o;
  o.org_id = row[0].as<std::string>();
  o.code = row[1].as<std::string>();
  o.name = row[2].as<std::string>();
  o.level = static_cast<common::v1::OrgLevel>(row[3].as<int>());
  o.parent_id = row[4].as<std::string>();
  o.district_id = row[5].as<std::string>();
  o.street_id = row[6].as<std::string>();
  o.community_id = row[7].as<std::string>();
  o.retired = !row[8].is_null();
  o.version = row[9].as<int64_t>();
  o.division_code = row[12].as<std::string>();
  return o;
}

common::v1::OrgPath PathOf(const OrgRow& org) {
  common::v1::OrgPath path;
  path.set_district_id(org.district_id);
  path.set_street_id(org.street_id);
  path.set_community_id(org.community_id);
  return path;
}

void FillOrg(const pqxx::row& row, v1::OrgNode* node) {
  const OrgRow o = ReadOrg(row);
  node->set_org_id(o.org_id);
  node->set_code(o.code);
  node->set_name(o.name);
  node->set_level(o.level);
  node->set_parent_id(o.parent_id);
  node->set_status(o.retired ? v1::ORG_NODE_STATUS_RETIRED : v1::ORG_NODE_STATUS_ACTIVE);
  node->set_division_code(o.division_code);
  *node->mutable_path() = PathOf(o);
  SetTime(node->mutable_retire_time(), row[8]);
  node->set_version(o.version);
  SetTime(node->mutable_create_time(), row[10]);
  SetTime(node->mutable_update_time(), row[11]);
  if (!node->has_retire_time()) node->clear_retire_time();
}

absl::StatusOr<OrgRow> LoadOrg(pqxx::transaction_base& tx, const std::string& org_id,
                               const char* field, RowLock lock) {
  if (org_id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  if (org_id.size() > 64) return absl::NotFoundError(absl::StrCat(field, ": no such org node"));
  pqxx::result r =
      tx.exec_params(absl::StrCat("SELECT ", kOrgColumns, " FROM org_nodes WHERE org_id = $1",
                                  lock == RowLock::kUpdate  ? " FOR UPDATE"
                                  : lock == RowLock::kShare ? " FOR SHARE"
                                                            : ""),
                     org_id);
  if (r.empty()) {
    return absl::NotFoundError(absl::StrCat(field, ": no org node '", org_id, "'"));
  }
  return ReadOrg(r[0]);
}

std::string InSubtree(const OrgRow& org, const std::string& org_col,
                      const std::string& district_col, const std::string& street_col, int param) {
  const std::string p = absl::StrCat("$", param);
  // The parameter is still referenced, so PostgreSQL can type it.
  if (org.level == common::v1::ORG_LEVEL_CITY) return absl::StrCat("(", p, "::text IS NOT NULL)");
  return absl::StrCat("(", org_col, " = ", p, " OR ", district_col, " = ", p, " OR ", street_col,
                      " = ", p, ")");
}

PersonRow ReadPerson(const pqxx::row& row) {
  PersonRow p;
  p.person_id = row[0].as<std::string>();
  p.display_name = row[1].as<std::string>();
  p.phone_masked = row[2].as<std::string>();
  p.password_hash = row[3].as<std::string>();
  p.password_change_required = row[4].as<bool>();
  p.status = static_cast<v1::PersonStatus>(row[5].as<int>());
  p.is_rider = row[6].as<bool>();
  p.ranking_name_choice = static_cast<v1::RankingNameChoice>(row[12].as<int>());
  p.nickname = row[13].as<std::string>();
  p.rider_number = row[14].as<int64_t>();
  return p;
}

absl::StatusOr<PersonRow> LoadPerson(pqxx::transaction_base& tx, const std::string& person_id,
                                     bool lock) {
  if (person_id.empty()) return absl::InvalidArgumentError("person_id: is required");
  pqxx::result r =
      tx.exec_params(absl::StrCat("SELECT ", kPersonColumns, " FROM people WHERE person_id = $1",
                                  lock ? " FOR UPDATE" : ""),
                     person_id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("no person '", person_id, "'"));
  return ReadPerson(r[0]);
}

absl::Status FetchPerson(pqxx::transaction_base& tx, const std::string& id, bool with_contact,
                         v1::Person* out) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kPersonColumns, " FROM people WHERE person_id = $1"), id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("person_id: no person '", id, "'"));
  FillPerson(tx, r[0], with_contact, out);
  return absl::OkStatus();
}

void FillPerson(pqxx::transaction_base& tx, const pqxx::row& row, bool with_contact,
                v1::Person* person) {
  const PersonRow p = ReadPerson(row);
  person->set_person_id(p.person_id);
  person->set_kind(v1::PERSON_KIND_HUMAN);
  person->set_display_name(p.display_name);
  if (with_contact) person->set_phone_masked(p.phone_masked);
  person->set_status(p.status);
  person->set_password_change_required(p.password_change_required);
  SetTime(person->mutable_create_time(), row[9]);
  SetTime(person->mutable_update_time(), row[10]);
  SetTime(person->mutable_last_active_time(), row[11]);
  if (!p.is_rider) return;
  v1::RiderProfile* rider = person->mutable_rider();
  rider->set_origin_community_id(row[7].as<std::string>());
  SetTime(rider->mutable_register_time(), row[8]);
  rider->set_ranking_name_choice(p.ranking_name_choice);
  rider->set_nickname(p.nickname);
  rider->set_ranking_name(RankingNameOf({.display_name = p.display_name,
                                         .choice = p.ranking_name_choice,
                                         .nickname = p.nickname,
                                         .rider_number = p.rider_number,
                                         .status = p.status}));
  if (with_contact) {
    for (const auto& a :
         tx.exec_params("SELECT platform, platform_name, platform_rider_id, us(linked_at) "
                        "FROM platform_accounts WHERE person_id = $1 ORDER BY linked_at, platform",
                        p.person_id)) {
      v1::PlatformAccount* acc = rider->add_platform_accounts();
      acc->set_platform(static_cast<v1::DeliveryPlatform>(a[0].as<int>()));
      acc->set_platform_name(a[1].as<std::string>());
      acc->set_platform_rider_id(a[2].as<std::string>());
      SetTime(acc->mutable_link_time(), a[3]);
    }
  }
  pqxx::result home = tx.exec_params(
      "SELECT ci.check_in_id, ci.community_id, o.name, ci.district_id, ci.street_id, "
      "us(ci.started_at) FROM check_ins ci JOIN org_nodes o ON o.org_id = ci.community_id "
      "WHERE ci.person_id = $1 AND ci.status = check_in_status('ACTIVE')",
      p.person_id);
  if (!home.empty()) {
    v1::HomeCommunity* h = rider->mutable_home_community();
    h->set_check_in_id(home[0][0].as<std::string>());
    h->set_community_id(home[0][1].as<std::string>());
    h->set_community_name(home[0][2].as<std::string>());
    h->mutable_path()->set_district_id(home[0][3].as<std::string>());
    h->mutable_path()->set_street_id(home[0][4].as<std::string>());
    h->mutable_path()->set_community_id(home[0][1].as<std::string>());
    SetTime(h->mutable_since_time(), home[0][5]);
  }
}

void FillCheckIn(const pqxx::row& row, v1::CheckIn* c) {
  c->set_check_in_id(row[0].as<std::string>());
  c->set_person_id(row[1].as<std::string>());
  c->set_rider_display_name(row[2].as<std::string>());
  c->set_rider_phone_masked(row[3].as<std::string>());
  c->set_community_id(row[4].as<std::string>());
  c->set_community_name(row[5].as<std::string>());
  c->mutable_path()->set_district_id(row[6].as<std::string>());
  c->mutable_path()->set_street_id(row[7].as<std::string>());
  c->mutable_path()->set_community_id(row[4].as<std::string>());
  c->set_method(static_cast<v1::CheckInMethod>(row[8].as<int>()));
  c->set_status(static_cast<v1::CheckInStatus>(row[9].as<int>()));
  c->set_note(row[10].as<std::string>());
  SetTime(c->mutable_create_time(), row[11]);
  if (!row[12].is_null()) SetTime(c->mutable_decide_time(), row[12]);
  c->set_decided_by_person_id(row[13].as<std::string>());
  c->set_reject_reason(row[14].as<std::string>());
  if (!row[15].is_null()) SetTime(c->mutable_start_time(), row[15]);
  if (!row[16].is_null()) SetTime(c->mutable_end_time(), row[16]);
  c->set_superseded_by_check_in_id(row[17].as<std::string>());
}

absl::StatusOr<v1::CheckIn> LoadCheckIn(pqxx::transaction_base& tx, const std::string& id,
                                        bool lock) {
  if (id.empty()) return absl::InvalidArgumentError("check_in_id: is required");
  pqxx::result r =
      tx.exec_params(absl::StrCat("SELECT ", kCheckInColumns, " FROM ", kCheckInFrom,
                                  " WHERE ci.check_in_id = $1", lock ? " FOR UPDATE OF ci" : ""),
                     id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("no check-in '", id, "'"));
  v1::CheckIn c;
  FillCheckIn(r[0], &c);
  return c;
}

void FillGrant(const pqxx::row& row, v1::RoleGrant* g) {
  g->set_grant_id(row[0].as<std::string>());
  g->set_person_id(row[1].as<std::string>());
  g->set_role(static_cast<common::v1::Role>(row[2].as<int>()));
  g->set_org_id(row[3].as<std::string>());
  g->set_org_level(static_cast<common::v1::OrgLevel>(row[4].as<int>()));
  g->set_org_name(row[5].as<std::string>());
  g->set_granted_by_person_id(row[6].as<std::string>());
  SetTime(g->mutable_grant_time(), row[7]);
  g->set_revoked_by_person_id(row[8].as<std::string>());
  if (!row[9].is_null()) SetTime(g->mutable_revoke_time(), row[9]);
  g->set_revoke_reason(row[10].as<std::string>());
  g->set_status(row[9].is_null() ? v1::ROLE_GRANT_STATUS_ACTIVE : v1::ROLE_GRANT_STATUS_REVOKED);
}

void FillServiceAccount(const pqxx::row& row, v1::ServiceAccount* a) {
  a->set_service_account_id(row[0].as<std::string>());
  a->set_display_name(row[1].as<std::string>());
  a->set_description(row[2].as<std::string>());
  a->set_role(static_cast<common::v1::Role>(row[3].as<int>()));
  a->set_org_id(row[4].as<std::string>());
  a->set_created_by_person_id(row[5].as<std::string>());
  SetTime(a->mutable_create_time(), row[6]);
  if (!row[7].is_null()) SetTime(a->mutable_disable_time(), row[7]);
  a->set_status(row[7].is_null() ? v1::SERVICE_ACCOUNT_STATUS_ACTIVE
                                 : v1::SERVICE_ACCOUNT_STATUS_DISABLED);
}

void FillApiKey(const pqxx::row& row, int64_t now_us, v1::ApiKey* k) {
  k->set_api_key_id(row[0].as<std::string>());
  k->set_service_account_id(row[1].as<std::string>());
  k->set_display_name(row[2].as<std::string>());
  k->set_secret_prefix(row[3].as<std::string>());
  for (std::string& s : ParseTextArray(row[4])) k->add_scopes(std::move(s));
  k->set_created_by_person_id(row[5].as<std::string>());
  SetTime(k->mutable_create_time(), row[6]);
  SetTime(k->mutable_expire_time(), row[7]);
  if (!row[8].is_null()) SetTime(k->mutable_revoke_time(), row[8]);
  if (!row[9].is_null()) SetTime(k->mutable_last_used_time(), row[9]);
  if (!row[8].is_null()) {
    k->set_status(v1::API_KEY_STATUS_REVOKED);
  } else if (row[7].as<int64_t>() <= now_us) {
    k->set_status(v1::API_KEY_STATUS_EXPIRED);
  } else {
    k->set_status(v1::API_KEY_STATUS_ACTIVE);
  }
}

auth::RoleGrant GrantClaim(common::v1::Role role, const OrgRow& org) {
  auth::RoleGrant g;
  g.role = role;
  g.org_id = org.org_id;
  g.org_level = org.level;
  if (org.org_id != kRootId) g.org_ancestors.push_back(kRootId);
  for (const std::string* a : {&org.district_id, &org.street_id}) {
    if (!a->empty() && *a != org.org_id) g.org_ancestors.push_back(*a);
  }
  return g;
}

std::vector<auth::RoleGrant> LoadTokenGrants(pqxx::transaction_base& tx,
                                             const std::string& person_id) {
  std::vector<auth::RoleGrant> grants;
  for (const auto& row :
       tx.exec_params(absl::StrCat("SELECT ", kOrgColumns, ", g.role",
                                   " FROM role_grants g JOIN org_nodes o USING (org_id) "
                                   "WHERE g.person_id = $1 AND g.revoked_at IS NULL "
                                   "ORDER BY g.granted_at, g.grant_id"),
                      person_id)) {
    // The node's columns come first, so ReadOrg reads them where it expects them.
    grants.push_back(
        GrantClaim(static_cast<common::v1::Role>(row[kOrgColumnCount].as<int>()), ReadOrg(row)));
  }
  return grants;
}

}  // namespace civicpoints::identity
