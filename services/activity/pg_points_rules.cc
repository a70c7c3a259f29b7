// The points_rules table: each node's rule set, read for ResolvedRules.
#include <pqxx/pqxx>

#include "services/activity/points_rules.h"

namespace civicpoints::activity {

ResolvedRules ResolvedRules::Read(pqxx::transaction_base& tx, const common::v1::OrgPath& path) {
  std::vector<RuleLevel> levels;
  pqxx::result rows =
      tx.exec_params("SELECT org_id, version, rules FROM points_rules WHERE org_id IN ($1, $2, $3)",
                     path.community_id().empty() ? std::string("-") : path.community_id(),
                     path.street_id().empty() ? std::string("-") : path.street_id(),
                     path.district_id().empty() ? std::string("-") : path.district_id());
  for (const std::string* id : {&path.community_id(), &path.street_id(), &path.district_id()}) {
    if (id->empty()) continue;
    for (const auto& row : rows) {
      if (row[0].as<std::string>() != *id) continue;
      RuleLevel level;
      level.org_id = *id;
      level.version = row[1].as<int64_t>();
      level.rules.ParseFromString(pqxx::binarystring(row[2]).str());
      levels.push_back(std::move(level));
    }
  }
  return FromLevels(std::move(levels));
}

}  // namespace civicpoints::activity
