#include "tools/cpctl/lookups.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "tools/cpctl/context.h"

namespace civicpoints::cpctl {

namespace idv1 = identity::v1;
namespace cv1 = common::v1;

const char kPeriodHelp[] =
    "ranking period: all, month (this month), month:2026-11, week (this ISO week), "
    "week:2026-W48, season:ID";

absl::StatusOr<idv1::OrgNode> ResolveOrg(Context& ctx, absl::string_view ref) {
  if (ref.empty()) return absl::InvalidArgumentError("an org node id or code is required");
  idv1::GetOrgNodeRequest get;
  get.set_org_id(std::string(ref));
  idv1::GetOrgNodeResponse got;
  absl::Status s =
      ctx.client().Call("civicpoints.identity.v1.IdentityService.GetOrgNode", get, &got);
  if (s.ok()) return got.node();
  if (s.code() != absl::StatusCode::kNotFound && s.code() != absl::StatusCode::kInvalidArgument) {
    return s;
  }
  idv1::LookupOrgNodeRequest lookup;
  lookup.set_code(std::string(ref));
  idv1::LookupOrgNodeResponse found;
  s = ctx.client().Call("civicpoints.identity.v1.IdentityService.LookupOrgNode", lookup, &found);
  if (s.ok()) return found.node();
  const bool twelve_digits =
      ref.size() == 12 && ref.find_first_not_of("0123456789") == absl::string_view::npos;
  if (twelve_digits && s.code() == absl::StatusCode::kNotFound) {
    // A city system's statistical division code.
    lookup.Clear();
    lookup.set_division_code(std::string(ref));
    s = ctx.client().Call("civicpoints.identity.v1.IdentityService.LookupOrgNode", lookup, &found);
    if (s.ok()) return found.node();
  }
  if (s.code() == absl::StatusCode::kNotFound || s.code() == absl::StatusCode::kInvalidArgument) {
    return absl::NotFoundError(
        absl::StrCat("no org node has the id, code or division code '", ref, "'"));
  }
  return s;
}

absl::StatusOr<std::string> ResolveOrgId(Context& ctx, absl::string_view ref) {
  absl::StatusOr<idv1::OrgNode> node = ResolveOrg(ctx, ref);
  if (!node.ok()) return node.status();
  return node->org_id();
}

absl::StatusOr<cv1::OrgScope> ResolveScope(Context& ctx, absl::string_view ref) {
  absl::StatusOr<idv1::OrgNode> node = ResolveOrg(ctx, ref);
  if (!node.ok()) return node.status();
  cv1::OrgScope scope;
  scope.set_level(node->level());
  scope.set_org_id(node->org_id());
  return scope;
}

std::map<std::string, std::string> PeopleNames(Context& ctx, const std::vector<std::string>& ids) {
  std::map<std::string, std::string> names;
  for (size_t i = 0; i < ids.size(); i += 100) {
    idv1::BatchGetPeopleRequest req;
    for (size_t k = i; k < ids.size() && k < i + 100; ++k) {
      if (!ids[k].empty()) req.add_person_ids(ids[k]);
    }
    if (req.person_ids_size() == 0) continue;
    idv1::BatchGetPeopleResponse resp;
    if (!ctx.client()
             .Call("civicpoints.identity.v1.IdentityService.BatchGetPeople", req, &resp)
             .ok()) {
      continue;
    }
    for (const idv1::Person& p : resp.people()) names[p.person_id()] = p.display_name();
  }
  return names;
}

absl::StatusOr<cv1::RankingPeriod> ParsePeriod(absl::string_view text, absl::string_view what) {
  cv1::RankingPeriod p;
  absl::string_view key;
  const size_t colon = text.find(':');
  absl::string_view kind = text.substr(0, colon);
  if (colon != absl::string_view::npos) key = text.substr(colon + 1);
  if (kind == "all" && key.empty()) {
    p.set_kind(cv1::RANKING_PERIOD_KIND_ALL_TIME);
  } else if (kind == "month") {
    p.set_kind(cv1::RANKING_PERIOD_KIND_MONTH);
  } else if (kind == "week") {
    p.set_kind(cv1::RANKING_PERIOD_KIND_ISO_WEEK);
  } else if (kind == "season" && !key.empty()) {
    p.set_kind(cv1::RANKING_PERIOD_KIND_SEASON);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": '", text, "' is not a period; use ", kPeriodHelp));
  }
  p.set_key(std::string(key));
  return p;
}

std::string PeriodLabel(const cv1::RankingPeriod& period) {
  switch (period.kind()) {
    case cv1::RANKING_PERIOD_KIND_ALL_TIME:
      return "all time";
    case cv1::RANKING_PERIOD_KIND_MONTH:
      return absl::StrCat("month ", period.key());
    case cv1::RANKING_PERIOD_KIND_ISO_WEEK:
      return absl::StrCat("week ", period.key());
    case cv1::RANKING_PERIOD_KIND_SEASON:
      return absl::StrCat("season ", period.key());
    default:
      return "?";
  }
}

}  // namespace civicpoints::cpctl
