// Points rules per org node (their SQL is PgPointsRulesStore's), and the awards list.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/pg/paging.h"
#include "services/activity/activity_service.h"
#include "services/activity/awards.h"
#include "services/activity/directory.h"
#include "services/activity/pg_points_rules.h"
#include "services/activity/points_rules.h"

namespace civicpoints::activity {

using common::v1::ROLE_DISTRICT_ADMIN;
using common::v1::ROLE_STREET_STAFF;

namespace {

// A node's own overrides as stored (version 0 and nothing set when it has none).
v1::PointsRules ReadOwnRules(pqxx::transaction_base& tx, const OrgInfo& org) {
  v1::PointsRules rules = PgPointsRulesStore().Own(tx, org.org_id).value_or(v1::PointsRules());
  rules.set_org_id(org.org_id);
  rules.set_org_level(org.level);
  rules.set_etag(absl::StrCat("v", rules.version()));
  return rules;
}

absl::Status CheckRulesNode(const OrgInfo& org) {
  if (org.level == common::v1::ORG_LEVEL_CITY) {
    return absl::InvalidArgumentError(
        "org_id: the city-wide defaults are part of the service; set rules on a district, street "
        "or community");
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status ActivityServiceImpl::GetPointsRules(grpc::ServerContext* ctx,
                                                 const v1::GetPointsRulesRequest* req,
                                                 v1::GetPointsRulesResponse* resp) {
  return Handle(ctx, "GetPointsRules", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<OrgInfo> org = directory_->Org(req->org_id(), "org_id");
    if (!org.ok()) return org.status();
    if (absl::Status s =
            CheckCovers(caller.who(), org->path, absl::StrCat("org node ", org->org_id));
        !s.ok()) {
      return s;
    }
    return InReadTx("get points rules", [&](pqxx::transaction_base& tx) {
      *resp->mutable_rules() = ReadOwnRules(tx, *org);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::UpdatePointsRules(grpc::ServerContext* ctx,
                                                    const v1::UpdatePointsRulesRequest* req,
                                                    v1::UpdatePointsRulesResponse* resp) {
  return Handle(ctx, "UpdatePointsRules", [&](const Caller& caller) -> absl::Status {
    if (req->org_id().empty()) return absl::InvalidArgumentError("org_id: is required");
    if (!req->rules().org_id().empty() && req->rules().org_id() != req->org_id()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rules.org_id: '", req->rules().org_id(), "' differs from org_id '", req->org_id(), "'"));
    }
    if (absl::Status s = CheckRules(req->rules()); !s.ok()) return s;
    absl::StatusOr<OrgInfo> org = directory_->Org(req->org_id(), "org_id");
    if (!org.ok()) return org.status();
    if (absl::Status s = CheckRulesNode(*org); !s.ok()) return s;
    // Street staff set rules for their street and its communities; a district's own rules are
    // a district admin's.
    const bool district_node = org->level == common::v1::ORG_LEVEL_DISTRICT;
    if (absl::Status s =
            district_node
                ? CheckCovers(caller.who(), org->path, absl::StrCat("district ", org->org_id),
                              {ROLE_DISTRICT_ADMIN})
                : CheckCovers(caller.who(), org->path, absl::StrCat("org node ", org->org_id),
                              {ROLE_STREET_STAFF, ROLE_DISTRICT_ADMIN});
        !s.ok()) {
      return s;
    }
    // Only the overrides are stored; output-only fields are dropped.
    v1::PointsRules stored;
    *stored.mutable_activity_category_points() = req->rules().activity_category_points();
    *stored.mutable_post_shift_points() = req->rules().post_shift_points();
    *stored.mutable_service_record_points() = req->rules().service_record_points();
    if (req->rules().has_max_points_per_activity()) {
      stored.set_max_points_per_activity(req->rules().max_points_per_activity());
    }
    if (req->rules().has_daily_cap_points()) {
      stored.set_daily_cap_points(req->rules().daily_cap_points());
    }
    if (req->rules().has_daily_cap_service_records()) {
      stored.set_daily_cap_service_records(req->rules().daily_cap_service_records());
    }
    if (req->rules().has_daily_cap_post_shifts()) {
      stored.set_daily_cap_post_shifts(req->rules().daily_cap_post_shifts());
    }
    if (req->rules().has_problem_fixed_bonus_points()) {
      stored.set_problem_fixed_bonus_points(req->rules().problem_fixed_bonus_points());
    }
    const std::string bytes = pg::DeterministicBytes(stored);
    return InTx("update points rules", [&](pqxx::transaction_base& tx) -> absl::Status {
      const PgPointsRulesStore::Stored cur = points_rules_.Lock(tx, org->org_id);
      const int64_t version = cur.version;
      if (!req->etag().empty() && req->etag() != absl::StrCat("v", version)) {
        return Refuse(absl::StatusCode::kAborted, v1::ACTIVITY_ERROR_REASON_ETAG_MISMATCH,
                      absl::StrCat("etag: the rules changed since '", req->etag(), "' (now v",
                                   version, "); read them again"));
      }
      // Replaying the same rules changes nothing, not even the version.
      if (cur.version == 0 || cur.bytes != bytes) {
        points_rules_.Save(tx, org->org_id, bytes, caller.id());
      }
      *resp->mutable_rules() = ReadOwnRules(tx, *org);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ResolveEffectivePointsRules(
    grpc::ServerContext* ctx, const v1::ResolveEffectivePointsRulesRequest* req,
    v1::ResolveEffectivePointsRulesResponse* resp) {
  return Handle(ctx, "ResolveEffectivePointsRules", [&](const Caller&) -> absl::Status {
    absl::StatusOr<OrgInfo> org = directory_->Org(req->org_id(), "org_id");
    if (!org.ok()) return org.status();
    return InReadTx("resolve points rules", [&](pqxx::transaction_base& tx) {
      ResolvedRules::Read(tx, org->path).Fill(org->org_id, org->path, resp->mutable_rules());
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ListAwards(grpc::ServerContext* ctx,
                                             const v1::ListAwardsRequest* req,
                                             v1::ListAwardsResponse* resp) {
  return Handle(ctx, "ListAwards", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<pg::Paging> paging = pg::StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    const bool staff = caller.is_staff();
    std::string rider = req->rider_id();
    std::optional<OrgInfo> org;
    if (!staff) {
      rider = caller.id();  // riders see their own, whatever they pass
    } else if (!req->org_id().empty()) {
      absl::StatusOr<OrgInfo> o = directory_->Org(req->org_id(), "org_id");
      if (!o.ok()) return o.status();
      if (absl::Status s = CheckCovers(caller.who(), o->path, absl::StrCat("org node ", o->org_id));
          !s.ok()) {
        return s;
      }
      org = *o;
    } else if (rider.empty()) {
      return absl::InvalidArgumentError("rider_id or org_id: staff must name one");
    } else {
      // A rider named alone: staff see them when the rider lives in their scope.
      absl::StatusOr<std::vector<RiderInfo>> who = directory_->Riders({rider});
      if (!who.ok()) return who.status();
      if (who->empty() || !Covers(caller.who(), (*who)[0].home) ||
          (*who)[0].home.community_id().empty()) {
        if (!caller.is_internal()) {
          return OutsideScope(absl::StrCat("rider ", rider, "'s home community"));
        }
      }
    }
    int64_t from = 0, to = std::numeric_limits<int64_t>::max();
    if (req->has_time_range()) {
      if (req->time_range().has_start_time()) from = Us(TimeOf(req->time_range().start_time()));
      if (req->time_range().has_end_time()) to = Us(TimeOf(req->time_range().end_time()));
      if (from > to) return absl::InvalidArgumentError("time_range: start_time is after end_time");
    }
    return InReadTx("list awards", [&](pqxx::transaction_base& tx) -> absl::Status {
      // Staff naming only a rider see them when the rider's awards lie in their scope: each row
      // is filtered by its org path below.
      const std::string org_col = !org                                            ? "''"
                                  : org->level == common::v1::ORG_LEVEL_DISTRICT  ? "district_id"
                                  : org->level == common::v1::ORG_LEVEL_STREET    ? "street_id"
                                  : org->level == common::v1::ORG_LEVEL_COMMUNITY ? "community_id"
                                                                                  : "''";
      const bool whole_city = org && org->level == common::v1::ORG_LEVEL_CITY;
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kAwardColumns,
                       " FROM awards WHERE ($1 = '' OR rider_id = $1) AND ($2 OR ", org_col,
                       " = $3) AND ($4 = 0 OR status = $4) AND ($5 = 0 OR source_kind = $5) "
                       "AND created_at >= from_us($6::bigint) AND created_at < from_us($7::bigint) "
                       "AND ($8::bigint = 0 OR (us(created_at), idempotency_key) < ($8, $9)) "
                       "ORDER BY created_at DESC, idempotency_key DESC LIMIT $10"),
          rider, whole_city || !org, org ? org->org_id : std::string(),
          static_cast<int>(req->status()), static_cast<int>(req->source_kind()), from,
          std::min<int64_t>(to, int64_t{9000000000000000}), paging->after_us(), paging->after_id(),
          paging->size + 1);
      resp->set_next_page_token(pg::FillPage(rows, *paging, 13, [&](const pqxx::row& row) {
        v1::Award award;
        FillAward(row, staff, &award);
        // A staff member naming a rider sees the awards earned in their scope only.
        if (staff && !Covers(caller.who(), award.rider_org_path())) return;
        *resp->add_awards() = std::move(award);
      }));
      if (!rider.empty()) {
        pqxx::row pending = tx.exec_params1(
            "SELECT COALESCE(sum(points), 0) FROM awards WHERE rider_id = $1 AND status IN "
            "(award_status('PENDING'), award_status('FAILED'))",
            rider);
        resp->set_pending_points(pending[0].as<int64_t>());
      }
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::activity
