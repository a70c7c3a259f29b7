// Directory: what activity needs to know from identity — an org node's level and path, and a
// rider's home community. Org paths never change, so they are cached in memory and in the
// `org_paths` table; riders are asked afresh (a rider may move community at any time). Calls
// carry the service's own token (ROLE_INTERNAL_SERVICE). Thread-safe.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_DIRECTORY_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_DIRECTORY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "civicpoints/common/v1/types.pb.h"

namespace grpc {
class Channel;
}
namespace civicpoints::pg {
class PgPool;
}
namespace civicpoints::server {
class ServiceToken;
}

namespace civicpoints::activity {

struct OrgInfo {
  std::string org_id;
  common::v1::OrgLevel level = common::v1::ORG_LEVEL_UNSPECIFIED;
  common::v1::OrgPath path;  // ids down to the node itself
};

struct RiderInfo {
  std::string rider_id;
  bool is_rider = false;
  bool active = false;       // not suspended or closed
  common::v1::OrgPath home;  // empty community_id: not checked in anywhere
};

class Directory {
 public:
  virtual ~Directory() = default;
  // Any node, a department included. Errors: NOT_FOUND naming `field` when identity does not know
  // the node; UNAVAILABLE when identity cannot be reached.
  virtual absl::StatusOr<OrgInfo> Node(const std::string& org_id, absl::string_view field) = 0;
  // An area of the tree (the city, a district, street or community), as every place, activity,
  // record and figure is in; a department's path is its parent's area, so taking one for an area
  // would widen the caller's reach. Errors: as Node, and FAILED_PRECONDITION (WRONG_ORG_LEVEL)
  // naming `field` for a department.
  absl::StatusOr<OrgInfo> Org(const std::string& org_id, absl::string_view field);
  // A responsible department. Errors: as Node, and FAILED_PRECONDITION (WRONG_ORG_LEVEL) naming
  // `field` for an area.
  absl::StatusOr<OrgInfo> Department(const std::string& org_id, absl::string_view field);
  // The riders in request order. Errors: NOT_FOUND naming the first unknown id; UNAVAILABLE.
  virtual absl::StatusOr<std::vector<RiderInfo>> Riders(const std::vector<std::string>& ids) = 0;
  // The active direct children of a node ("root" for the districts), ordered by code; asked
  // afresh each time (communities are added). Errors: NOT_FOUND naming `org_id`; UNAVAILABLE.
  virtual absl::StatusOr<std::vector<OrgInfo>> Children(const std::string& org_id) {
    return absl::UnimplementedError(absl::StrCat("org children of ", org_id));
  }
};

class IdentityDirectory final : public Directory {
 public:
  IdentityDirectory(const std::string& identity_addr, server::ServiceToken* token,
                    pg::PgPool* pool);
  absl::StatusOr<OrgInfo> Node(const std::string& org_id, absl::string_view field) override;
  absl::StatusOr<std::vector<RiderInfo>> Riders(const std::vector<std::string>& ids) override;
  absl::StatusOr<std::vector<OrgInfo>> Children(const std::string& org_id) override;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  server::ServiceToken* token_;
  pg::PgPool* pool_;
  absl::Mutex mu_;
  std::map<std::string, OrgInfo> orgs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_DIRECTORY_H_
