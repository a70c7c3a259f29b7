// Where an overview's figures come from: identity, activity, the ledger and rewards, asked over
// their contracts with the events process's own service token (the caller's scope is checked
// before, by InsightsServiceImpl). The calls for one overview run at once, so an overview takes
// about as long as its slowest source.
#ifndef CIVICPOINTS_SERVICES_INSIGHTS_OVERVIEW_SOURCES_H_
#define CIVICPOINTS_SERVICES_INSIGHTS_OVERVIEW_SOURCES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/server/data_service_channels.h"
#include "services/insights/overview.h"

namespace grpc {
class Channel;
}

namespace civicpoints::server {
class ServiceToken;
}

namespace civicpoints::insights {

class OverviewSources {
 public:
  // `token` outlives this; each call waits at most `timeout`.
  OverviewSources(server::DataServiceChannels channels, server::ServiceToken* token,
                  absl::Duration timeout = absl::Seconds(10));

  // The node ("root" for the city) with its path. Errors: NOT_FOUND (ORG_NOT_FOUND) naming org_id;
  // UNAVAILABLE when identity cannot answer.
  absl::StatusOr<identity::v1::OrgNode> Node(const std::string& org_id);

  // Everything an overview of `node` over `range` needs. Errors: UNAVAILABLE naming the service
  // that could not answer.
  absl::StatusOr<OverviewInputs> Gather(const identity::v1::OrgNode& node, const DayRange& range,
                                        absl::Time now);

 private:
  server::DataServiceChannels channels_;
  server::ServiceToken* token_;
  absl::Duration timeout_;
};

}  // namespace civicpoints::insights

#endif  // CIVICPOINTS_SERVICES_INSIGHTS_OVERVIEW_SOURCES_H_
