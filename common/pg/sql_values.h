// Values crossing into SQL as parameters, and out of it as columns: array literals for
// `$n::text[]` and `$n::int[]` parameters (one round trip for a whole list), and nullable
// microsecond columns as protobuf timestamps.
#ifndef CIVICPOINTS_COMMON_PG_SQL_VALUES_H_
#define CIVICPOINTS_COMMON_PG_SQL_VALUES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace google::protobuf {
class Timestamp;
}
namespace pqxx {
class field;
}

namespace civicpoints::pg {

// '{"a","b \"c\""}': each item quoted, so any text (commas, quotes, NULL) stays one element.
std::string TextArray(const std::vector<std::string>& items);

// '{1,4,8}' for integers or enum values.
template <typename Ints>
std::string IntArray(const Ints& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out.push_back(',');
    out += std::to_string(static_cast<int64_t>(item));
  }
  out.push_back('}');
  return out;
}

// The items of a one-dimensional array column (text, or numbers as their text); none when NULL.
// NULL items are left out.
std::vector<std::string> ParseTextArray(const pqxx::field& field);

// Sets `ts` from a column of microseconds since the epoch (the schemas' us()); leaves it unset
// when the column is NULL.
void SetTime(google::protobuf::Timestamp* ts, const pqxx::field& us_or_null);

}  // namespace civicpoints::pg

#endif  // CIVICPOINTS_COMMON_PG_SQL_VALUES_H_
