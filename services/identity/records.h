// The identity tables' rows as the service reads them, and their proto forms. Every SELECT of a
// table uses the table's column list below, so one reader parses every query's rows.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_RECORDS_H_
#define CIVICPOINTS_SERVICES_IDENTITY_RECORDS_H_

#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/identity/v1/check_in.pb.h"
#include "civicpoints/identity/v1/org.pb.h"
#include "civicpoints/identity/v1/person.pb.h"
#include "civicpoints/identity/v1/role_grant.pb.h"
#include "civicpoints/identity/v1/service_account.pb.h"
#include "common/auth/principal.h"
#include "common/base/time_units.h"
#include "common/pg/sql_values.h"

namespace civicpoints::identity {

// Timestamps travel between C++ and SQL as microseconds (SQL functions us() and from_us()):
// common/base/time_units.h, and common/pg/sql_values.h for nullable columns.
using pg::SetTime;
using times::SetTime;
using times::TimeOf;
using times::Us;

inline constexpr char kRootId[] = "root";

// How a read row is locked until the transaction ends. kShare on a node keeps it from being
// retired (which takes kUpdate) while a child, grant or check-in is added under it.
enum class RowLock { kNone, kShare, kUpdate };

struct OrgRow {
  std::string org_id, code, name, parent_id, district_id, street_id, community_id;
  std::string division_code;  // empty when none
  common::v1::OrgLevel level = common::v1::ORG_LEVEL_UNSPECIFIED;
  bool retired = false;
  int64_t version = 0;
};
inline constexpr char kOrgColumns[] =
    "org_id, code, name, level, coalesce(parent_id, ''), coalesce(district_id, ''), "
    "coalesce(street_id, ''), coalesce(community_id, ''), us(retired_at), version, "
    "us(created_at), us(updated_at), coalesce(division_code, '')";
// How many columns kOrgColumns is: a statement's own columns after it start here.
inline constexpr int kOrgColumnCount = 13;
OrgRow ReadOrg(const pqxx::row& row);
void FillOrg(const pqxx::row& row, v1::OrgNode* node);
common::v1::OrgPath PathOf(const OrgRow& org);
// The node `org_id` ("root" or empty for the city root when `root_if_empty`). Errors:
// INVALID_ARGUMENT when empty, NOT_FOUND naming `field`.
absl::StatusOr<OrgRow> LoadOrg(pqxx::transaction_base& tx, const std::string& org_id,
                               const char* field, RowLock lock = RowLock::kNone);
// SQL condition: the row's node (with columns district_id, street_id, community_id or org_id as
// named by `prefix`) lies in the subtree of the node whose id is parameter `$param`.
std::string InSubtree(const OrgRow& org, const std::string& org_col,
                      const std::string& district_col, const std::string& street_col, int param);

struct PersonRow {
  std::string person_id, display_name, phone_masked, password_hash;
  bool password_change_required = false;
  v1::PersonStatus status = v1::PERSON_STATUS_UNSPECIFIED;
  bool is_rider = false;
  v1::RankingNameChoice ranking_name_choice = v1::RANKING_NAME_CHOICE_MASKED_NAME;
  std::string nickname;
  int64_t rider_number = 0;
};
inline constexpr char kPersonColumns[] =
    "person_id, display_name, coalesce(phone_masked, ''), coalesce(password_hash, ''), "
    "password_change_required, status, is_rider, coalesce(origin_community_id, ''), "
    "us(registered_at), us(created_at), us(updated_at), us(last_active_at), ranking_name_choice, "
    "coalesce(nickname, ''), coalesce(rider_number, 0)";
PersonRow ReadPerson(const pqxx::row& row);
// Errors: INVALID_ARGUMENT when empty, NOT_FOUND.
absl::StatusOr<PersonRow> LoadPerson(pqxx::transaction_base& tx, const std::string& person_id,
                                     bool lock = false);
// The Person message of a row from kPersonColumns, with platform accounts and home community
// (read in `tx`) unless `reduced` (id, kind and display name only).
void FillPerson(pqxx::transaction_base& tx, const pqxx::row& row, bool with_contact,
                v1::Person* person);
// The person `id` as FillPerson makes it. Errors: NOT_FOUND naming person_id.
absl::Status FetchPerson(pqxx::transaction_base& tx, const std::string& id, bool with_contact,
                         v1::Person* out);

inline constexpr char kCheckInColumns[] =
    "ci.check_in_id, ci.person_id, p.display_name, coalesce(p.phone_masked, ''), ci.community_id, "
    "o.name, ci.district_id, ci.street_id, ci.method, ci.status, ci.note, us(ci.created_at), "
    "us(ci.decided_at), coalesce(ci.decided_by, ''), coalesce(ci.reject_reason, ''), "
    "us(ci.started_at), us(ci.ended_at), coalesce(ci.superseded_by, '')";
// FROM clause that kCheckInColumns reads.
inline constexpr char kCheckInFrom[] =
    "check_ins ci JOIN people p ON p.person_id = ci.person_id "
    "JOIN org_nodes o ON o.org_id = ci.community_id";
void FillCheckIn(const pqxx::row& row, v1::CheckIn* check_in);
// Errors: NOT_FOUND.
absl::StatusOr<v1::CheckIn> LoadCheckIn(pqxx::transaction_base& tx, const std::string& id,
                                        bool lock = false);

inline constexpr char kGrantColumns[] =
    "g.grant_id, g.person_id, g.role, g.org_id, o.level, o.name, g.granted_by, us(g.granted_at), "
    "coalesce(g.revoked_by, ''), us(g.revoked_at), coalesce(g.revoke_reason, '')";
inline constexpr char kGrantFrom[] = "role_grants g JOIN org_nodes o ON o.org_id = g.org_id";
void FillGrant(const pqxx::row& row, v1::RoleGrant* grant);

inline constexpr char kServiceAccountColumns[] =
    "service_account_id, display_name, description, role, org_id, created_by, us(created_at), "
    "us(disabled_at)";
void FillServiceAccount(const pqxx::row& row, v1::ServiceAccount* account);

inline constexpr char kApiKeyColumns[] =
    "api_key_id, service_account_id, display_name, secret_prefix, scopes, created_by, "
    "us(created_at), us(expires_at), us(revoked_at), us(last_used_at)";
void FillApiKey(const pqxx::row& row, int64_t now_us, v1::ApiKey* key);

// A grant claim for `role` held at `org`, with the node's level and ancestors (root first).
auth::RoleGrant GrantClaim(common::v1::Role role, const OrgRow& org);

// A person's active grants as token claims (with each node's level and ancestors).
std::vector<auth::RoleGrant> LoadTokenGrants(pqxx::transaction_base& tx,
                                             const std::string& person_id);

// Parses a Postgres text[] column (common/pg/sql_values.h).
using pg::ParseTextArray;

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_RECORDS_H_
