// Where the rider app's home screen comes from: identity (the home community), the ledger (points,
// ranks), activity (points on the way, the nearest station) and rewards (windows, pickups), each
// asked with the rider's own token, all at once. A part whose service fails is left out and named,
// so the screen shows the rest; only a bad location fails the whole call.
#ifndef CIVICPOINTS_SERVICES_APP_HOME_SOURCES_H_
#define CIVICPOINTS_SERVICES_APP_HOME_SOURCES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/app/v1/app_service.pb.h"
#include "common/server/data_service_channels.h"

namespace civicpoints::app {

class HomeSources {
 public:
  // Each call waits at most `timeout`.
  explicit HomeSources(server::DataServiceChannels channels,
                       absl::Duration timeout = absl::Seconds(2));

  // The home screen of the rider `rider_id` who holds `token`. Errors: INVALID_ARGUMENT from
  // activity when the request's location is bad; UNAVAILABLE when no part could be read.
  absl::StatusOr<v1::GetMyHomeResponse> Gather(const std::string& rider_id,
                                               const std::string& token,
                                               const v1::GetMyHomeRequest& request, absl::Time now);

 private:
  server::DataServiceChannels channels_;
  absl::Duration timeout_;
};

}  // namespace civicpoints::app

#endif  // CIVICPOINTS_SERVICES_APP_HOME_SOURCES_H_
