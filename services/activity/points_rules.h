// Points rules: the overrides each org node sets (points per activity category, post kind and
// service record kind; the activity maximum; daily caps) and their resolution down the tree —
// community over street over district over the built-in city defaults.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_POINTS_RULES_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_POINTS_RULES_H_

#include <string>

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

// The rules in force at the node with `path` (a district, street or community), read in `tx`.
class ResolvedRules {
 public:
  static ResolvedRules Read(pqxx::transaction_base& tx, const common::v1::OrgPath& path);

  RuleValue ActivityPoints(v1::ActivityCategory category) const;
  RuleValue PostShiftPoints(v1::PostKind kind) const;
  RuleValue ServiceRecordPoints(v1::ServiceRecordKind kind) const;
  RuleValue MaxPointsPerActivity() const;
  RuleValue DailyCapPoints() const;
  RuleValue DailyCapServiceRecords() const;
  RuleValue DailyCapPostShifts() const;

  // Every value, as ResolveEffectivePointsRules answers.
  void Fill(const std::string& org_id, const common::v1::OrgPath& path,
            v1::EffectivePointsRules* out) const;

 private:
  // Rule sets from the most specific node up (community, street, district), with versions.
  struct Level {
    std::string org_id;
    int64_t version = 0;
    v1::PointsRules rules;
  };
  template <typename Pick>
  RuleValue Find(Pick pick, int64_t fallback) const;
  std::vector<Level> levels_;
};

// INVALID_ARGUMENT naming the field unless every entry of `rules` is specified, unrepeated and
// in range.
absl::Status CheckRules(const v1::PointsRules& rules);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_POINTS_RULES_H_
