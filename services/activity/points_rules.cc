#include "services/activity/points_rules.h"

#include <optional>
#include <set>

#include "absl/strings/str_cat.h"

namespace civicpoints::activity {
namespace {

// The city-wide defaults: what an attendance, a shift or a verified record earns where no node
// overrides it, and the caps that keep a day's points in proportion.
constexpr int64_t kDefaultActivityPoints = 10;
constexpr int64_t kDefaultPostShiftPoints = 5;
constexpr int64_t kDefaultServicePoints = 5;  // a service done
constexpr int64_t kDefaultProblemPoints = 3;  // a problem reported (kinds 100 and up)
constexpr int64_t kDefaultMaxPointsPerActivity = 100;
constexpr int64_t kDefaultDailyCapPoints = 100;
constexpr int64_t kDefaultDailyCapServiceRecords = 5;
constexpr int64_t kDefaultDailyCapPostShifts = 2;
// The first reporter's bonus when a problem case closes as fixed.
constexpr int64_t kDefaultProblemFixedBonusPoints = 5;

int64_t DefaultServicePoints(v1::ServiceRecordKind kind) {
  return kind >= 100 ? kDefaultProblemPoints : kDefaultServicePoints;
}

template <typename Enum>
std::vector<Enum> Values(const google::protobuf::EnumDescriptor* desc) {
  std::vector<Enum> out;
  for (int i = 0; i < desc->value_count(); ++i) {
    if (desc->value(i)->number() != 0) out.push_back(static_cast<Enum>(desc->value(i)->number()));
  }
  return out;
}

}  // namespace

std::string RuleValue::rule_id() const { return absl::StrCat(org_id, "@v", version); }

ResolvedRules ResolvedRules::FromLevels(std::vector<RuleLevel> levels) {
  ResolvedRules out;
  out.levels_ = std::move(levels);
  return out;
}

template <typename Pick>
RuleValue ResolvedRules::Find(Pick pick, int64_t fallback) const {
  for (const RuleLevel& level : levels_) {
    if (std::optional<int64_t> v = pick(level.rules)) {
      return RuleValue{*v, level.org_id, level.version};
    }
  }
  return RuleValue{fallback, kCityDefaults, 0};
}

RuleValue ResolvedRules::ActivityPoints(v1::ActivityCategory category) const {
  return Find(
      [&](const v1::PointsRules& r) -> std::optional<int64_t> {
        for (const auto& e : r.activity_category_points()) {
          if (e.category() == category) return e.points();
        }
        return std::nullopt;
      },
      kDefaultActivityPoints);
}

RuleValue ResolvedRules::PostShiftPoints(v1::PostKind kind) const {
  return Find(
      [&](const v1::PointsRules& r) -> std::optional<int64_t> {
        for (const auto& e : r.post_shift_points()) {
          if (e.post_kind() == kind) return e.points();
        }
        return std::nullopt;
      },
      kDefaultPostShiftPoints);
}

RuleValue ResolvedRules::ServiceRecordPoints(v1::ServiceRecordKind kind) const {
  return Find(
      [&](const v1::PointsRules& r) -> std::optional<int64_t> {
        for (const auto& e : r.service_record_points()) {
          if (e.kind() == kind) return e.points();
        }
        return std::nullopt;
      },
      DefaultServicePoints(kind));
}

RuleValue ResolvedRules::MaxPointsPerActivity() const {
  return Find(
      [](const v1::PointsRules& r) -> std::optional<int64_t> {
        if (r.has_max_points_per_activity()) return r.max_points_per_activity();
        return std::nullopt;
      },
      kDefaultMaxPointsPerActivity);
}

RuleValue ResolvedRules::DailyCapPoints() const {
  return Find(
      [](const v1::PointsRules& r) -> std::optional<int64_t> {
        if (r.has_daily_cap_points()) return r.daily_cap_points();
        return std::nullopt;
      },
      kDefaultDailyCapPoints);
}

RuleValue ResolvedRules::DailyCapServiceRecords() const {
  return Find(
      [](const v1::PointsRules& r) -> std::optional<int64_t> {
        if (r.has_daily_cap_service_records()) return r.daily_cap_service_records();
        return std::nullopt;
      },
      kDefaultDailyCapServiceRecords);
}

RuleValue ResolvedRules::DailyCapPostShifts() const {
  return Find(
      [](const v1::PointsRules& r) -> std::optional<int64_t> {
        if (r.has_daily_cap_post_shifts()) return r.daily_cap_post_shifts();
        return std::nullopt;
      },
      kDefaultDailyCapPostShifts);
}

RuleValue ResolvedRules::ProblemFixedBonusPoints() const {
  return Find(
      [](const v1::PointsRules& r) -> std::optional<int64_t> {
        if (r.has_problem_fixed_bonus_points()) return r.problem_fixed_bonus_points();
        return std::nullopt;
      },
      kDefaultProblemFixedBonusPoints);
}

void ResolvedRules::Fill(const std::string& org_id, const common::v1::OrgPath& path,
                         v1::EffectivePointsRules* out) const {
  out->set_org_id(org_id);
  *out->mutable_org_path() = path;
  for (auto c : Values<v1::ActivityCategory>(v1::ActivityCategory_descriptor())) {
    RuleValue v = ActivityPoints(c);
    auto* e = out->add_activity_category_points();
    e->set_category(c);
    e->set_points(v.value);
    e->set_source_org_id(v.org_id);
  }
  for (auto k : Values<v1::PostKind>(v1::PostKind_descriptor())) {
    RuleValue v = PostShiftPoints(k);
    auto* e = out->add_post_shift_points();
    e->set_post_kind(k);
    e->set_points(v.value);
    e->set_source_org_id(v.org_id);
  }
  for (auto k : Values<v1::ServiceRecordKind>(v1::ServiceRecordKind_descriptor())) {
    RuleValue v = ServiceRecordPoints(k);
    auto* e = out->add_service_record_points();
    e->set_kind(k);
    e->set_points(v.value);
    e->set_source_org_id(v.org_id);
  }
  auto limit = [](const RuleValue& v, v1::ResolvedLimit* l) {
    l->set_value(v.value);
    l->set_source_org_id(v.org_id);
  };
  limit(MaxPointsPerActivity(), out->mutable_max_points_per_activity());
  limit(DailyCapPoints(), out->mutable_daily_cap_points());
  limit(DailyCapServiceRecords(), out->mutable_daily_cap_service_records());
  limit(DailyCapPostShifts(), out->mutable_daily_cap_post_shifts());
  limit(ProblemFixedBonusPoints(), out->mutable_problem_fixed_bonus_points());
}

absl::Status CheckRules(const v1::PointsRules& rules) {
  auto points = [](int64_t p, const std::string& field) -> absl::Status {
    if (p < 0 || p > 1000) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": must be 0–1000 (got ", p, ")"));
    }
    return absl::OkStatus();
  };
  std::set<int> seen;
  for (int i = 0; i < rules.activity_category_points_size(); ++i) {
    const auto& e = rules.activity_category_points(i);
    const std::string field = absl::StrCat("rules.activity_category_points[", i, "]");
    if (e.category() == v1::ACTIVITY_CATEGORY_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".category: is unspecified"));
    }
    if (!seen.insert(e.category()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".category: repeats ", v1::ActivityCategory_Name(e.category())));
    }
    if (absl::Status s = points(e.points(), field + ".points"); !s.ok()) return s;
  }
  seen.clear();
  for (int i = 0; i < rules.post_shift_points_size(); ++i) {
    const auto& e = rules.post_shift_points(i);
    const std::string field = absl::StrCat("rules.post_shift_points[", i, "]");
    if (e.post_kind() == v1::POST_KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".post_kind: is unspecified"));
    }
    if (!seen.insert(e.post_kind()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".post_kind: repeats ", v1::PostKind_Name(e.post_kind())));
    }
    if (absl::Status s = points(e.points(), field + ".points"); !s.ok()) return s;
  }
  seen.clear();
  for (int i = 0; i < rules.service_record_points_size(); ++i) {
    const auto& e = rules.service_record_points(i);
    const std::string field = absl::StrCat("rules.service_record_points[", i, "]");
    if (e.kind() == v1::SERVICE_RECORD_KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".kind: is unspecified"));
    }
    if (!seen.insert(e.kind()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".kind: repeats ", v1::ServiceRecordKind_Name(e.kind())));
    }
    if (absl::Status s = points(e.points(), field + ".points"); !s.ok()) return s;
  }
  auto range = [](bool has, int64_t v, int64_t max, const char* field) -> absl::Status {
    if (has && (v < 0 || v > max)) {
      return absl::InvalidArgumentError(
          absl::StrCat("rules.", field, ": must be 0–", max, " (got ", v, ")"));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = range(rules.has_max_points_per_activity(), rules.max_points_per_activity(),
                             1000, "max_points_per_activity");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          range(rules.has_daily_cap_points(), rules.daily_cap_points(), 10000, "daily_cap_points");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = range(rules.has_daily_cap_service_records(),
                             rules.daily_cap_service_records(), 100, "daily_cap_service_records");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = range(rules.has_daily_cap_post_shifts(), rules.daily_cap_post_shifts(), 24,
                             "daily_cap_post_shifts");
      !s.ok()) {
    return s;
  }
  return range(rules.has_problem_fixed_bonus_points(), rules.problem_fixed_bonus_points(), 1000,
               "problem_fixed_bonus_points");
}

}  // namespace civicpoints::activity
