// The proto enums whose values the ledger's SQL names (common/pg/sql_enums.h): entry_kind(),
// source_kind(), hold_state() and org_level().
#ifndef CIVICPOINTS_SERVICES_LEDGER_SQL_ENUMS_H_
#define CIVICPOINTS_SERVICES_LEDGER_SQL_ENUMS_H_

#include "civicpoints/common/v1/types.pb.h"
#include "civicpoints/ledger/v1/entry.pb.h"
#include "civicpoints/ledger/v1/hold.pb.h"
#include "common/pg/sql_enums.h"

namespace civicpoints::ledger {

inline pg::SqlEnums LedgerSqlEnums() {
  return {v1::EntryKind_descriptor(), v1::SourceKind_descriptor(), v1::HoldState_descriptor(),
          common::v1::OrgLevel_descriptor()};
}

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_SQL_ENUMS_H_
