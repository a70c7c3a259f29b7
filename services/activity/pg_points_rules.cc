// The points_rules table: each node's rule set, read for ResolvedRules and kept by
// PgPointsRulesStore.
#include "services/activity/pg_points_rules.h"

#include <pqxx/pqxx>

#include "common/base/time_units.h"
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

std::optional<v1::PointsRules> PgPointsRulesStore::Own(pqxx::transaction_base& tx,
                                                       const std::string& org_id) const {
  pqxx::result r = tx.exec_params(
      "SELECT rules, version, updated_by, us(updated_at) FROM points_rules WHERE org_id = $1",
      org_id);
  if (r.empty()) return std::nullopt;
  v1::PointsRules rules;
  rules.ParseFromString(pqxx::binarystring(r[0][0]).str());
  rules.set_version(r[0][1].as<int64_t>());
  rules.set_updated_by(r[0][2].as<std::string>());
  times::SetTime(rules.mutable_update_time(), r[0][3].as<int64_t>());
  return rules;
}

PgPointsRulesStore::Stored PgPointsRulesStore::Lock(pqxx::transaction_base& tx,
                                                    const std::string& org_id) const {
  pqxx::result r = tx.exec_params(
      "SELECT rules, version FROM points_rules WHERE org_id = $1 FOR UPDATE", org_id);
  if (r.empty()) return {};
  return {r[0][1].as<int64_t>(), pqxx::binarystring(r[0][0]).str()};
}

void PgPointsRulesStore::Save(pqxx::transaction_base& tx, const std::string& org_id,
                              const std::string& bytes, const std::string& updated_by) const {
  tx.exec_params(
      "INSERT INTO points_rules (org_id, rules, version, updated_by) "
      "VALUES ($1, $2, 1, $3) ON CONFLICT (org_id) DO UPDATE SET rules = EXCLUDED.rules, "
      "version = points_rules.version + 1, updated_by = EXCLUDED.updated_by, updated_at = now()",
      org_id, pqxx::binarystring(bytes), updated_by);
}

}  // namespace civicpoints::activity
