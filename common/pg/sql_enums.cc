#include "common/pg/sql_enums.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace civicpoints::pg {

namespace {

// "RedemptionState" → "REDEMPTION_STATE".
std::string UpperSnake(const std::string& camel) {
  std::string out;
  for (size_t i = 0; i < camel.size(); ++i) {
    const char c = camel[i];
    if (absl::ascii_isupper(c) && i > 0) out += '_';
    out += absl::ascii_toupper(c);
  }
  return out;
}

// The prefix every value of `type` starts with ("REDEMPTION_STATE_"), or "" when one does not.
std::string CommonPrefix(const google::protobuf::EnumDescriptor& type) {
  const std::string prefix = UpperSnake(type.name()) + "_";
  for (int i = 0; i < type.value_count(); ++i) {
    if (!absl::StartsWith(type.value(i)->name(), prefix)) return "";
  }
  return prefix;
}

// Enum and value names are [A-Za-z0-9_] by the proto grammar, so they need no quoting beyond the
// single quotes of a literal.
std::string Literal(const std::string& s) { return absl::StrCat("'", s, "'"); }

}  // namespace

std::string SqlEnumFunctionName(const google::protobuf::EnumDescriptor& type) {
  return absl::AsciiStrToLower(UpperSnake(type.name()));
}

std::string SqlEnumValueName(const google::protobuf::EnumValueDescriptor& value) {
  return value.name().substr(CommonPrefix(*value.type()).size());
}

std::string SqlEnumFunctions(const std::string& schema, const SqlEnums& enums) {
  // IMMUTABLE, so a call folded at plan time raises there. Named with its schema inside the
  // functions, which run under their caller's search path (a function-level SET search_path would
  // make every call pay for switching it).
  const std::string unknown = absl::StrCat(schema, ".enum_unknown");
  std::string sql = absl::StrCat(
      "CREATE OR REPLACE FUNCTION ", unknown,
      "(enum_name text, value_name text) RETURNS smallint LANGUAGE plpgsql IMMUTABLE AS $f$ "
      "BEGIN RAISE EXCEPTION 'enum % has no value %', enum_name, value_name USING ERRCODE = "
      "'22023'; END $f$;\n");
  for (const google::protobuf::EnumDescriptor* type : enums) {
    const std::string fn = absl::StrCat(schema, ".", SqlEnumFunctionName(*type));
    std::string by_name, by_number, defined;
    for (int i = 0; i < type->value_count(); ++i) {
      const google::protobuf::EnumValueDescriptor* v = type->value(i);
      if (v->number() != 0) absl::StrAppend(&defined, defined.empty() ? "" : ", ", v->number());
      absl::StrAppend(&by_name, " WHEN ", Literal(SqlEnumValueName(*v)), " THEN ", v->number(),
                      "::smallint");
      absl::StrAppend(&by_number, " WHEN ", v->number(), " THEN ", Literal(SqlEnumValueName(*v)));
    }
    // PL/pgSQL rather than SQL functions: PostgreSQL would inline an SQL function, parsing its
    // body again for every statement and every CHECK that names it (tens of microseconds each,
    // measured); a PL/pgSQL function is compiled once per connection, and an IMMUTABLE one called
    // with constants is still folded to its value when the statement is planned.
    const char* kBody = " LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $f$ BEGIN RETURN ";
    absl::StrAppend(&sql, "CREATE OR REPLACE FUNCTION ", fn, "(name text) RETURNS smallint", kBody,
                    "CASE name", by_name, " ELSE ", unknown, "(", Literal(type->full_name()),
                    ", name) END; END $f$;\n");
    absl::StrAppend(&sql, "CREATE OR REPLACE FUNCTION ", fn, "_name(number integer) RETURNS text",
                    kBody, "CASE number", by_number, " END; END $f$;\n");
    absl::StrAppend(&sql, "CREATE OR REPLACE FUNCTION ", fn,
                    "_defined(number integer) RETURNS boolean", kBody, "coalesce(number IN (",
                    defined.empty() ? "NULL" : defined, "), false); END $f$;\n");
  }
  return sql;
}

}  // namespace civicpoints::pg
