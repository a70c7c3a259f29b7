#include "services/rewards/directory.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/server/service_token.h"
#include "common/status/grpc_status.h"

namespace civicpoints::rewards {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

common::v1::OrgPath OwnPath(common::v1::OrgLevel level, const std::string& org_id,
                            common::v1::OrgPath path) {
  if (level == ORG_LEVEL_DISTRICT) {
    path.set_district_id(org_id);
    path.clear_street_id();
    path.clear_community_id();
  } else if (level == ORG_LEVEL_STREET) {
    path.set_street_id(org_id);
    path.clear_community_id();
  } else if (level == ORG_LEVEL_COMMUNITY) {
    path.set_community_id(org_id);
  } else {
    path.Clear();
  }
  return path;
}

GrpcDirectory::GrpcDirectory(std::shared_ptr<grpc::Channel> activity,
                             std::shared_ptr<grpc::Channel> identity, server::ServiceToken* token,
                             absl::Duration timeout)
    : activity_(std::move(activity)),
      identity_(std::move(identity)),
      token_(token),
      timeout_(timeout) {}

namespace {

absl::Status Prepare(server::ServiceToken* token, absl::Duration timeout,
                     grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)));
  return server::AttachServiceToken(*token, ctx);
}

// A peer's refusal as our own status: NOT_FOUND stays, anything else means we could not find out.
absl::Status PeerError(const grpc::Status& s, absl::string_view peer) {
  absl::Status status = FromGrpcStatus(s);
  if (status.code() == absl::StatusCode::kNotFound) return status;
  return absl::UnavailableError(absl::StrCat(peer, " could not be asked: ", status.message()));
}

}  // namespace

absl::StatusOr<StationInfo> GrpcDirectory::GetStation(const std::string& station_id) {
  grpc::ClientContext ctx;
  if (absl::Status s = Prepare(token_, timeout_, ctx); !s.ok()) return s;
  activity::v1::GetPlaceRequest req;
  req.set_place_id(station_id);
  activity::v1::GetPlaceResponse resp;
  grpc::Status s = activity::v1::ActivityService::NewStub(activity_)->GetPlace(&ctx, req, &resp);
  if (!s.ok()) return PeerError(s, "activity");
  StationInfo info;
  info.station_id = station_id;
  info.is_rider_station = resp.place().kind() == activity::v1::PLACE_KIND_RIDER_STATION;
  info.active = resp.place().status() == activity::v1::PLACE_STATUS_ACTIVE;
  info.org_path = resp.place().org_path();
  if (info.org_path.community_id().empty()) {
    info.org_path.set_community_id(resp.place().community_id());
  }
  info.keeper_person_id = resp.place().keeper_person_id();
  return info;
}

absl::StatusOr<OrgInfo> GrpcDirectory::GetOrg(const std::string& org_id) {
  grpc::ClientContext ctx;
  if (absl::Status s = Prepare(token_, timeout_, ctx); !s.ok()) return s;
  identity::v1::GetOrgNodeRequest req;
  req.set_org_id(org_id);
  identity::v1::GetOrgNodeResponse resp;
  grpc::Status s = identity::v1::IdentityService::NewStub(identity_)->GetOrgNode(&ctx, req, &resp);
  if (!s.ok()) return PeerError(s, "identity");
  OrgInfo info;
  info.org_id = resp.node().org_id();
  info.name = resp.node().name();
  info.level = resp.node().level();
  info.active = resp.node().status() == identity::v1::ORG_NODE_STATUS_ACTIVE;
  info.path = OwnPath(info.level, info.org_id, resp.node().path());
  return info;
}

}  // namespace civicpoints::rewards
