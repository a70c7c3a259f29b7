#include "common/pg/sql_values.h"

#include <pqxx/pqxx>

#include "common/base/time_units.h"

namespace civicpoints::pg {

std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

void SetTime(google::protobuf::Timestamp* ts, const pqxx::field& us_or_null) {
  if (!us_or_null.is_null()) times::SetTime(ts, us_or_null.as<int64_t>());
}

}  // namespace civicpoints::pg
