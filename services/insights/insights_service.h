// The insights service's handler: GetOrgOverview checks the node against the caller's grants,
// decides the small-cell rule from the grant that covers it (staff of the node and city systems
// exact, viewers withheld), gathers the figures and builds the answer (insights_service.proto).
#ifndef CIVICPOINTS_SERVICES_INSIGHTS_INSIGHTS_SERVICE_H_
#define CIVICPOINTS_SERVICES_INSIGHTS_INSIGHTS_SERVICE_H_

#include "absl/status/statusor.h"
#include "civicpoints/insights/v1/insights_service.grpc.pb.h"
#include "services/insights/overview_gate.h"
#include "services/insights/overview_sources.h"
#include "services/insights/small_cells.h"

namespace civicpoints::auth {
class Authorizer;
struct Principal;
}  // namespace civicpoints::auth

namespace civicpoints::insights {

// The rule for `who` reading `node`: exact for a staff or city-system grant covering it, withheld
// for a viewer's. Errors: PERMISSION_DENIED (OUTSIDE_ORG_SCOPE) when no grant covers it.
absl::StatusOr<SmallCellRule> RuleFor(const auth::Principal& who, const identity::v1::OrgNode& node,
                                      int threshold);

class InsightsServiceImpl final : public v1::InsightsService::Service {
 public:
  // All outlive the service. `threshold`: CP_INSIGHTS_SMALL_CELL_THRESHOLD; `max_overviews`:
  // overviews gathered at once (CP_INSIGHTS_MAX_OVERVIEWS).
  InsightsServiceImpl(const auth::Authorizer* authorizer, OverviewSources* sources, int threshold,
                      int max_overviews = 16);

  grpc::Status GetOrgOverview(grpc::ServerContext* ctx, const v1::GetOrgOverviewRequest* req,
                              v1::GetOrgOverviewResponse* resp) override;

 private:
  const auth::Authorizer* authorizer_;
  OverviewSources* sources_;
  int threshold_;
  OverviewGate gate_;
};

}  // namespace civicpoints::insights

#endif  // CIVICPOINTS_SERVICES_INSIGHTS_INSIGHTS_SERVICE_H_
