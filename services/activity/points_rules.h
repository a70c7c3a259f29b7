// Points rules: the overrides each org node sets (points per activity category, post kind and
// service record kind; the activity maximum; daily caps) and their resolution down the tree —
// community over street over district over the built-in city defaults.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_POINTS_RULES_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_POINTS_RULES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "civicpoints/activity/v1/points_rules.pb.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::activity {

// The org id that names the built-in defaults as a value's source.
inline constexpr char kCityDefaults[] = "city";

// One resolved value with where it came from and that rule set's version (0 for the defaults).
struct RuleValue {
  int64_t value = 0;
  std::string org_id = kCityDefaults;
  int64_t version = 0;
  // The ledger's points_rule_id: "<org_id>@v<version>".
  std::string rule_id() const;
};

// One org node's rule set, with its version.
struct RuleLevel {
  std::string org_id;
  int64_t version = 0;
  v1::PointsRules rules;
};

// The rules in force at one node: its own rule set over its street's over its district's over the
// built-in city defaults. Pure; ResolvedRules::Read (pg_points_rules.cc) reads the levels.
class ResolvedRules {
 public:
  // The rules at the node with `path` (a district, street or community), read in `tx`.
  static ResolvedRules Read(pqxx::transaction_base& tx, const common::v1::OrgPath& path);
  // The rules of `levels`, the most specific first (community, street, district).
  static ResolvedRules FromLevels(std::vector<RuleLevel> levels);

  RuleValue ActivityPoints(v1::ActivityCategory category) const;
  RuleValue PostShiftPoints(v1::PostKind kind) const;
  RuleValue ServiceRecordPoints(v1::ServiceRecordKind kind) const;
  RuleValue MaxPointsPerActivity() const;
  RuleValue DailyCapPoints() const;
  RuleValue DailyCapServiceRecords() const;
  RuleValue DailyCapPostShifts() const;
  RuleValue ProblemFixedBonusPoints() const;

  // Every value, as ResolveEffectivePointsRules answers.
  void Fill(const std::string& org_id, const common::v1::OrgPath& path,
            v1::EffectivePointsRules* out) const;

 private:
  template <typename Pick>
  RuleValue Find(Pick pick, int64_t fallback) const;
  std::vector<RuleLevel> levels_;  // the most specific node first
};

// INVALID_ARGUMENT naming the field unless every entry of `rules` is specified, unrepeated and
// in range.
absl::Status CheckRules(const v1::PointsRules& rules);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_POINTS_RULES_H_
