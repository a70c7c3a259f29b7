// Proto enum values by name in SQL. A service's statements and migrations write
// `state = redemption_state('READY')`, never `state = 2`: at every start, ApplyMigrations creates
// in the service's schema, from the enum descriptors compiled into the binary, one pair of
// functions per enum:
//
//   redemption_state(name text) → smallint    'READY' → 2; an unknown name is an error
//   redemption_state_name(number integer) → text   2 → 'READY' (NULL for a number it lacks)
//   redemption_state_defined(number integer) → boolean   a value the enum defines, other than 0
//
// Enum columns are checked with them (CHECK (redemption_state_defined(state)), or
// CHECK (redemption_state_name(intent) IS NOT NULL) where 0 means none), so a value the proto does
// not define cannot be stored.
//
// The function is the enum's name in snake case; a value's name drops the prefix every value of
// the enum shares (REDEMPTION_STATE_READY → READY). They are IMMUTABLE PL/pgSQL functions, so
// PostgreSQL folds a call with a constant to the number when it plans the statement: an index or a
// partial index on the column serves as it would for the literal, and a misspelt name fails when
// the statement is planned, naming the enum and the value. (Not SQL functions: those are inlined
// by parsing their body again in every statement and CHECK that names them, which measured tens of
// microseconds each; folding a PL/pgSQL call costs about 13 µs, a CHECK by one about nothing.)
#ifndef CIVICPOINTS_COMMON_PG_SQL_ENUMS_H_
#define CIVICPOINTS_COMMON_PG_SQL_ENUMS_H_

#include <string>
#include <vector>

namespace google::protobuf {
class EnumDescriptor;
class EnumValueDescriptor;
}  // namespace google::protobuf

namespace civicpoints::pg {

using SqlEnums = std::vector<const google::protobuf::EnumDescriptor*>;

// "redemption_state" for civicpoints.rewards.v1.RedemptionState.
std::string SqlEnumFunctionName(const google::protobuf::EnumDescriptor& type);
// "READY" for REDEMPTION_STATE_READY.
std::string SqlEnumValueName(const google::protobuf::EnumValueDescriptor& value);
// The statements creating (or replacing) the functions of `enums` in `schema` (a plain lower-case
// name), and the helper enum_unknown() they raise their error with.
std::string SqlEnumFunctions(const std::string& schema, const SqlEnums& enums);

}  // namespace civicpoints::pg

#endif  // CIVICPOINTS_COMMON_PG_SQL_ENUMS_H_
