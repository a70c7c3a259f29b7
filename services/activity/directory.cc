#include "services/activity/directory.h"
#include "common/server/peer_channel.h"

#include <grpcpp/grpcpp.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/log/log.h"
#include "common/pg/transactions.h"
#include "common/server/service_token.h"
#include "common/status/grpc_status.h"
#include "services/activity/support.h"

namespace civicpoints::activity {
namespace {

constexpr auto kIdentityDeadline = std::chrono::seconds(3);

absl::Status FromIdentity(const grpc::Status& s, absl::string_view what) {
  absl::Status st = FromGrpcStatus(s);
  if (st.code() == absl::StatusCode::kNotFound) return st;
  // Anything else identity says is our problem to retry, not the caller's mistake.
  return absl::UnavailableError(absl::StrCat("identity could not ", what, ": ", st.message()));
}

}  // namespace

IdentityDirectory::IdentityDirectory(const std::string& identity_addr, server::ServiceToken* token,
                                     pg::PgPool* pool)
    : channel_(server::PeerChannel(identity_addr)), token_(token), pool_(pool) {}

namespace {

absl::Status WrongLevel(const OrgInfo& info, absl::string_view field, absl::string_view wanted) {
  return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_ORG_LEVEL,
                absl::StrCat(field, ": '", info.org_id, "' is a ",
                             common::v1::OrgLevel_Name(info.level), ", not ", wanted),
                {{"org_id", info.org_id}, {"level", common::v1::OrgLevel_Name(info.level)}});
}

}  // namespace

absl::StatusOr<OrgInfo> Directory::Org(const std::string& org_id, absl::string_view field) {
  absl::StatusOr<OrgInfo> info = Node(org_id, field);
  if (info.ok() && info->level == common::v1::ORG_LEVEL_DEPARTMENT) {
    return WrongLevel(*info, field, "an area of the tree");
  }
  return info;
}

absl::StatusOr<OrgInfo> Directory::Department(const std::string& org_id, absl::string_view field) {
  absl::StatusOr<OrgInfo> info = Node(org_id, field);
  if (info.ok() && info->level != common::v1::ORG_LEVEL_DEPARTMENT) {
    return WrongLevel(*info, field, "a department");
  }
  return info;
}

absl::StatusOr<OrgInfo> IdentityDirectory::Node(const std::string& org_id,
                                                absl::string_view field) {
  if (org_id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  {
    absl::MutexLock lock(&mu_);
    auto it = orgs_.find(org_id);
    if (it != orgs_.end()) return it->second;
  }
  OrgInfo info;
  bool cached = false;
  absl::Status read = pg::InReadTx(*pool_, "read org path", [&](pqxx::transaction_base& tx) {
    pqxx::result r = tx.exec_params(
        "SELECT level, district_id, street_id, community_id FROM org_paths WHERE org_id = $1",
        org_id);
    if (r.empty()) return absl::OkStatus();
    info.org_id = org_id;
    info.level = static_cast<common::v1::OrgLevel>(r[0][0].as<int>());
    info.path.set_district_id(r[0][1].as<std::string>());
    info.path.set_street_id(r[0][2].as<std::string>());
    info.path.set_community_id(r[0][3].as<std::string>());
    cached = true;
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  if (!cached) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kIdentityDeadline);
    if (absl::Status s = server::AttachServiceToken(*token_, ctx); !s.ok()) return s;
    identity::v1::ResolveOrgPathRequest req;
    req.set_org_id(org_id);
    identity::v1::ResolveOrgPathResponse resp;
    grpc::Status s =
        identity::v1::IdentityService::NewStub(channel_)->ResolveOrgPath(&ctx, req, &resp);
    if (!s.ok()) {
      absl::Status st = FromIdentity(s, "resolve an org node");
      if (st.code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(absl::StrCat(field, ": org node '", org_id, "' does not exist"));
      }
      return st;
    }
    if (resp.ancestors().empty()) return absl::InternalError("identity returned an empty path");
    info.org_id = org_id;
    info.level = resp.ancestors(resp.ancestors_size() - 1).level();
    info.path = resp.path();
    absl::Status wrote = pg::InTx(*pool_, "cache org path", [&](pqxx::transaction_base& tx) {
      tx.exec_params(
          "INSERT INTO org_paths (org_id, level, district_id, street_id, community_id) "
          "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id) DO NOTHING",
          org_id, static_cast<int>(info.level), info.path.district_id(), info.path.street_id(),
          info.path.community_id());
      return absl::OkStatus();
    });
    if (!wrote.ok()) log::Warn("org path not cached", {{"error", std::string(wrote.message())}});
  }
  absl::MutexLock lock(&mu_);
  orgs_[org_id] = info;
  return info;
}

absl::StatusOr<std::vector<RiderInfo>> IdentityDirectory::Riders(
    const std::vector<std::string>& ids) {
  std::vector<RiderInfo> out;
  auto stub = identity::v1::IdentityService::NewStub(channel_);
  for (size_t from = 0; from < ids.size(); from += 100) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kIdentityDeadline);
    if (absl::Status s = server::AttachServiceToken(*token_, ctx); !s.ok()) return s;
    identity::v1::BatchGetPeopleRequest req;
    for (size_t i = from; i < std::min(ids.size(), from + 100); ++i) req.add_person_ids(ids[i]);
    identity::v1::BatchGetPeopleResponse resp;
    grpc::Status s = stub->BatchGetPeople(&ctx, req, &resp);
    if (!s.ok()) {
      absl::Status st = FromIdentity(s, "look riders up");
      if (st.code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(absl::StrCat("rider: ", st.message()));
      }
      return st;
    }
    for (const identity::v1::Person& p : resp.people()) {
      RiderInfo r;
      r.rider_id = p.person_id();
      r.is_rider = p.has_rider();
      r.active = p.status() == identity::v1::PERSON_STATUS_ACTIVE;
      if (p.rider().has_home_community()) r.home = p.rider().home_community().path();
      out.push_back(std::move(r));
    }
  }
  return out;
}

absl::StatusOr<std::vector<OrgInfo>> IdentityDirectory::Children(const std::string& org_id) {
  std::vector<OrgInfo> out;
  auto stub = identity::v1::IdentityService::NewStub(channel_);
  identity::v1::ListOrgChildrenRequest req;
  req.set_org_id(org_id);
  req.set_page_size(100);
  for (;;) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kIdentityDeadline);
    if (absl::Status s = server::AttachServiceToken(*token_, ctx); !s.ok()) return s;
    identity::v1::ListOrgChildrenResponse resp;
    grpc::Status s = stub->ListOrgChildren(&ctx, req, &resp);
    if (!s.ok()) {
      absl::Status st = FromIdentity(s, "list org children");
      if (st.code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(absl::StrCat("org node '", org_id, "' does not exist"));
      }
      return st;
    }
    for (const identity::v1::OrgNode& n : resp.children()) {
      // A department hangs beside the tree, not in it: it is no part of its parent's area.
      if (n.level() == common::v1::ORG_LEVEL_DEPARTMENT) continue;
      OrgInfo info;
      info.org_id = n.org_id();
      info.level = n.level();
      info.path = n.path();
      out.push_back(std::move(info));
    }
    if (resp.next_page_token().empty()) return out;
    req.set_page_token(resp.next_page_token());
  }
}

}  // namespace civicpoints::activity
