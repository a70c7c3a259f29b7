// Directory: what rewards needs to know from the other services about things it does not own —
// rider stations (activity places) and org nodes (identity). The seam lets tests stand in for
// activity, which rewards only reads. GrpcDirectory asks the real services with the service token.
// Thread-safe.
#ifndef CIVICPOINTS_SERVICES_REWARDS_DIRECTORY_H_
#define CIVICPOINTS_SERVICES_REWARDS_DIRECTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/common/v1/types.pb.h"

namespace grpc {
class Channel;
}
namespace civicpoints::server {
class ServiceToken;
}

namespace civicpoints::rewards {

struct StationInfo {
  std::string station_id;
  bool is_rider_station = false;  // kind RIDER_STATION
  bool active = false;            // not retired
  common::v1::OrgPath org_path;   // district, street, community
  std::string keeper_person_id;   // may be empty
};

struct OrgInfo {
  std::string org_id;
  std::string name;
  common::v1::OrgLevel level = common::v1::ORG_LEVEL_UNSPECIFIED;
  bool active = false;
  // The node's path with its own id at its level (a street: district and street ids).
  common::v1::OrgPath path;
};

class Directory {
 public:
  virtual ~Directory() = default;
  // The place `station_id` as activity describes it. Errors: NOT_FOUND when activity has no such
  // place; UNAVAILABLE when activity cannot be reached.
  virtual absl::StatusOr<StationInfo> GetStation(const std::string& station_id) = 0;
  // The org node `org_id`. Errors: NOT_FOUND when identity has no such node; UNAVAILABLE.
  virtual absl::StatusOr<OrgInfo> GetOrg(const std::string& org_id) = 0;
};

// Asks activity (GetPlace) and identity (GetOrgNode) over gRPC, each call with `token` attached
// and a deadline of `timeout`.
class GrpcDirectory final : public Directory {
 public:
  GrpcDirectory(std::shared_ptr<grpc::Channel> activity, std::shared_ptr<grpc::Channel> identity,
                server::ServiceToken* token, absl::Duration timeout = absl::Seconds(5));
  absl::StatusOr<StationInfo> GetStation(const std::string& station_id) override;
  absl::StatusOr<OrgInfo> GetOrg(const std::string& org_id) override;

 private:
  std::shared_ptr<grpc::Channel> activity_;
  std::shared_ptr<grpc::Channel> identity_;
  server::ServiceToken* token_;
  absl::Duration timeout_;
};

// The path of a node of `level` whose ancestry is `path`, with the node's own id set at its level.
common::v1::OrgPath OwnPath(common::v1::OrgLevel level, const std::string& org_id,
                            common::v1::OrgPath path);

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_DIRECTORY_H_
