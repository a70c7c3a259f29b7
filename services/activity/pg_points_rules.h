// PgPointsRulesStore: the points_rules table, each org node's own overrides of the points rules
// (what activities, posts and service records earn, the caps). Resolving them down the tree for a
// price is ResolvedRules::Read (points_rules.h), defined beside these in pg_points_rules.cc. Every
// method runs inside the caller's transaction. Stateless and thread-safe; a database error is
// thrown as pqxx's exception, which the transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_PG_POINTS_RULES_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_PG_POINTS_RULES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "civicpoints/activity/v1/points_rules.pb.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::activity {

class PgPointsRulesStore {
 public:
  // The node's own rules with their version, author and time; nullopt when it has none.
  std::optional<v1::PointsRules> Own(pqxx::transaction_base& tx, const std::string& org_id) const;
  // The node's stored rules as bytes and their version (0 and "" when none), locked until the
  // transaction ends so two edits are ordered.
  struct Stored {
    int64_t version = 0;
    std::string bytes;
  };
  Stored Lock(pqxx::transaction_base& tx, const std::string& org_id) const;
  // Stores `bytes` (deterministic serialization) as the node's rules, one version on.
  void Save(pqxx::transaction_base& tx, const std::string& org_id, const std::string& bytes,
            const std::string& updated_by) const;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_PG_POINTS_RULES_H_
