// The proto enums whose values identity's SQL names (common/pg/sql_enums.h): check_in_status(),
// check_in_method(), person_status(), ranking_name_choice(), role() and org_level().
#ifndef CIVICPOINTS_SERVICES_IDENTITY_SQL_ENUMS_H_
#define CIVICPOINTS_SERVICES_IDENTITY_SQL_ENUMS_H_

#include "civicpoints/common/v1/role.pb.h"
#include "civicpoints/common/v1/types.pb.h"
#include "civicpoints/identity/v1/check_in.pb.h"
#include "civicpoints/identity/v1/person.pb.h"
#include "common/pg/sql_enums.h"

namespace civicpoints::identity {

inline pg::SqlEnums IdentitySqlEnums() {
  return {v1::CheckInStatus_descriptor(), v1::CheckInMethod_descriptor(),
          v1::PersonStatus_descriptor(),  v1::RankingNameChoice_descriptor(),
          common::v1::Role_descriptor(),  common::v1::OrgLevel_descriptor()};
}

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_SQL_ENUMS_H_
