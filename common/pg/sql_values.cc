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

std::vector<std::string> ParseTextArray(const pqxx::field& field) {
  std::vector<std::string> out;
  if (field.is_null()) return out;
  pqxx::array_parser parser = field.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::juncture::done;
       item = parser.get_next()) {
    if (item.first == pqxx::array_parser::juncture::string_value) out.push_back(item.second);
  }
  return out;
}

void SetTime(google::protobuf::Timestamp* ts, const pqxx::field& us_or_null) {
  if (!us_or_null.is_null()) times::SetTime(ts, us_or_null.as<int64_t>());
}

}  // namespace civicpoints::pg
