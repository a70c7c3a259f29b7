#include "services/insights/insights_service.h"

#include "absl/strings/str_cat.h"
#include "civicpoints/insights/v1/errors.pb.h"
#include "common/auth/principal.h"
#include "common/server/call_handler.h"
#include "common/status/refusal.h"

namespace civicpoints::insights {
namespace {

constexpr char kService[] = "civicpoints.insights.v1.InsightsService";

bool Exact(auth::Role role) {
  return role == common::v1::ROLE_COMMUNITY_STAFF || role == common::v1::ROLE_STREET_STAFF ||
         role == common::v1::ROLE_DISTRICT_ADMIN || role == common::v1::ROLE_CITY_SYSTEM;
}

}  // namespace

absl::StatusOr<SmallCellRule> RuleFor(const auth::Principal& who, const identity::v1::OrgNode& node,
                                      int threshold) {
  // The node's own place in the tree: its path names the node itself at its level.
  common::v1::OrgPath path = node.path();
  switch (node.level()) {
    case common::v1::ORG_LEVEL_DISTRICT:
      path.set_district_id(node.org_id());
      break;
    case common::v1::ORG_LEVEL_STREET:
      path.set_street_id(node.org_id());
      break;
    case common::v1::ORG_LEVEL_COMMUNITY:
      path.set_community_id(node.org_id());
      break;
    default:
      path.Clear();  // the city: only a grant at the root covers it
  }
  bool viewer = false;
  for (const auth::RoleGrant& g : who.roles) {
    if (!auth::GrantCovers(g, path)) continue;
    if (Exact(g.role)) return SmallCellRule{.threshold = threshold, .applied = false};
    if (g.role == common::v1::ROLE_ORG_VIEWER) viewer = true;
  }
  if (viewer) return SmallCellRule{.threshold = threshold, .applied = true};
  return Refuse(absl::StatusCode::kPermissionDenied, v1::INSIGHTS_ERROR_REASON_OUTSIDE_ORG_SCOPE,
                absl::StrCat("org node ", node.org_id(),
                             " is outside the org nodes the caller's roles cover"));
}

InsightsServiceImpl::InsightsServiceImpl(const auth::Authorizer* authorizer,
                                         OverviewSources* sources, int threshold, int max_overviews)
    : authorizer_(authorizer), sources_(sources), threshold_(threshold), gate_(max_overviews) {}

grpc::Status InsightsServiceImpl::GetOrgOverview(grpc::ServerContext* ctx,
                                                 const v1::GetOrgOverviewRequest* req,
                                                 v1::GetOrgOverviewResponse* resp) {
  return server::HandleCall(
      ctx, *authorizer_, kService, "GetOrgOverview", [&](const server::Call& call) -> absl::Status {
        if (req->org_id().empty()) {
          return absl::InvalidArgumentError("org_id: is required (\"root\" for the whole city)");
        }
        absl::StatusOr<DayRange> range = ResolveRange(req->from_day(), req->to_day(), call.now);
        if (!range.ok()) return range.status();
        absl::StatusOr<identity::v1::OrgNode> node = sources_->Node(req->org_id());
        if (!node.ok()) return node.status();
        absl::StatusOr<SmallCellRule> rule = RuleFor(*call.principal, *node, threshold_);
        if (!rule.ok()) return rule.status();
        absl::StatusOr<OverviewGate::Pass> pass = gate_.Enter();
        if (!pass.ok()) return pass.status();
        absl::StatusOr<OverviewInputs> inputs = sources_->Gather(*node, *range, call.now);
        if (!inputs.ok()) return inputs.status();
        *resp = BuildOverview(*inputs, *rule);
        return absl::OkStatus();
      });
}

}  // namespace civicpoints::insights
