// Service records: a rider (or a grid-management city system on a rider's behalf) reports a
// service done or a problem found; staff of that community verify — which writes the record's one
// award and its outbox row — or reject; the rider may appeal once, and street staff decide. The
// reviews' rules are review_rules.h's; the SQL is PgServiceRecordStore's.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "common/pg/paging.h"
#include "common/status/status_macros.h"
#include "services/activity/activity_events.h"
#include "services/activity/activity_service.h"
#include "services/activity/attachments.h"
#include "services/activity/awards.h"
#include "services/activity/directory.h"
#include "services/activity/points_rules.h"
#include "services/activity/review_rules.h"

namespace civicpoints::activity {

using common::v1::ROLE_COMMUNITY_STAFF;
using common::v1::ROLE_STREET_STAFF;

namespace {

constexpr int kDailySubmissions = 20;
constexpr absl::Duration kMaxAge = absl::Hours(24 * 7);
constexpr absl::Duration kAppealWindow = absl::Hours(24 * 7);
constexpr absl::Duration kClockSkew = absl::Minutes(1);

// The statement text riders see next to the points.
std::string KindText(v1::ServiceRecordKind kind) {
  switch (kind) {
    case v1::SERVICE_RECORD_KIND_GRID_PATROL:
      return "网格巡查";
    case v1::SERVICE_RECORD_KIND_CIVILITY_PROMOTION:
      return "文明宣传";
    case v1::SERVICE_RECORD_KIND_ELDERLY_HELP:
      return "助老服务";
    case v1::SERVICE_RECORD_KIND_DISPUTE_MEDIATION:
      return "矛盾调解";
    case v1::SERVICE_RECORD_KIND_ENVIRONMENT_CLEANUP:
      return "环境清洁";
    case v1::SERVICE_RECORD_KIND_RESIDENT_HELP:
      return "帮扶居民";
    case v1::SERVICE_RECORD_KIND_ROAD_OCCUPATION:
      return "上报占道经营";
    case v1::SERVICE_RECORD_KIND_ILLEGAL_STRUCTURE:
      return "上报违章搭建";
    case v1::SERVICE_RECORD_KIND_SANITATION:
      return "上报环境卫生问题";
    case v1::SERVICE_RECORD_KIND_SAFETY_HAZARD:
      return "上报安全隐患";
    case v1::SERVICE_RECORD_KIND_FACILITY_DAMAGE:
      return "上报设施损坏";
    case v1::SERVICE_RECORD_KIND_TRAFFIC_HAZARD:
      return "上报交通隐患";
    case v1::SERVICE_RECORD_KIND_OTHER_PROBLEM:
      return "上报其他问题";
    default:
      return "其他服务";
  }
}

absl::Status WrongState(const v1::ServiceRecord& r, absl::string_view action) {
  return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_STATE,
                absl::StrCat("cannot ", action, " service record ", r.service_record_id(),
                             ": it is ", v1::ServiceRecordStatus_Name(r.status())));
}

absl::Status CheckNotOwn(const Caller& caller, const v1::ServiceRecord& r) {
  if (r.rider_id() == caller.id()) {
    return Refuse(absl::StatusCode::kPermissionDenied, v1::ACTIVITY_ERROR_REASON_SELF_CONFIRMATION,
                  "staff cannot review their own service record");
  }
  return absl::OkStatus();
}

}  // namespace

// The award of a verified record, written in the verifying transaction, and the problem case a
// problem report opens or joins. The rider's path (home community, else the record's community)
// was asked of identity before the transaction.
absl::Status ActivityServiceImpl::AwardServiceRecord(pqxx::transaction_base& tx,
                                                     const Caller& caller,
                                                     const v1::ServiceRecord& record,
                                                     absl::Time occur,
                                                     const common::v1::OrgPath& rider_path) {
  // The case first: a close locks its case and then the reporter's day (its bonus), so taking the
  // case before this rider's day keeps the two in one order.
  RETURN_IF_ERROR(OpenOrJoinCase(tx, caller, record, occur));
  const RuleValue price =
      ResolvedRules::Read(tx, record.org_path()).ServiceRecordPoints(record.kind());
  absl::StatusOr<v1::Award> award =
      CreateAward(tx,
                  AwardSource{.kind = v1::AWARD_SOURCE_KIND_SERVICE_RECORD,
                              .source_id = record.service_record_id(),
                              .rider_id = record.rider_id(),
                              .rule = price,
                              .verified_by = caller.id(),
                              .occur = occur,
                              .reason = KindText(record.kind()),
                              .rider_path = rider_path},
                  ResolvedRules::Read(tx, rider_path), caller.now);
  return award.status();
}

absl::StatusOr<common::v1::OrgPath> ActivityServiceImpl::RiderPathOfRecord(
    const std::string& record_id) {
  std::optional<PgServiceRecordStore::Place> place;
  RETURN_IF_ERROR(InReadTx("read service record", [&](pqxx::transaction_base& tx) {
    place = records_.PlaceOf(tx, record_id);
    return absl::OkStatus();
  }));
  if (!place) return common::v1::OrgPath();  // the transaction reports the missing record
  const std::string& rider = place->rider_id;
  const common::v1::OrgPath& where = place->where;
  absl::StatusOr<std::vector<RiderInfo>> riders = directory_->Riders({rider});
  if (!riders.ok()) {
    if (riders.status().code() == absl::StatusCode::kNotFound) return where;
    return riders.status();
  }
  if (!riders->empty() && !(*riders)[0].home.community_id().empty()) return (*riders)[0].home;
  return where;
}

grpc::Status ActivityServiceImpl::SubmitServiceRecord(grpc::ServerContext* ctx,
                                                      const v1::SubmitServiceRecordRequest* req,
                                                      v1::SubmitServiceRecordResponse* resp) {
  return Handle(ctx, "SubmitServiceRecord", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    const v1::ServiceRecord& r = req->service_record();
    if (r.kind() == v1::SERVICE_RECORD_KIND_UNSPECIFIED ||
        !v1::ServiceRecordKind_IsValid(r.kind())) {
      return absl::InvalidArgumentError("service_record.kind: is unspecified or unknown");
    }
    if (absl::Status s =
            text::CheckText(r.description(), "service_record.description",
                            {.max = 1000, .required = true, .lines = text::Lines::kMany});
        !s.ok()) {
      return s;
    }
    if (!r.has_location()) {
      return Refuse(absl::StatusCode::kInvalidArgument,
                    v1::ACTIVITY_ERROR_REASON_COORDINATES_OUT_OF_RANGE,
                    "service_record.location: is required");
    }
    if (absl::Status s = CheckPoint(r.location(), "service_record.location"); !s.ok()) return s;
    if (absl::Status s = text::CheckText(r.address(), "service_record.address",
                                         {.max = 200, .lines = text::Lines::kMany});
        !s.ok())
      return s;
    const absl::Time occur = r.has_occur_time() ? TimeOf(r.occur_time()) : caller.now;
    if (occur > caller.now + kClockSkew) {
      return absl::InvalidArgumentError("service_record.occur_time: is in the future");
    }
    if (occur < caller.now - kMaxAge) {
      return absl::InvalidArgumentError(
          "service_record.occur_time: is more than 7 days ago; report within a week");
    }
    if (absl::Status s = CheckAttachments(r.attachments(), "service_record.attachments"); !s.ok())
      return s;
    if (r.external_ref().size() > 128) {
      return absl::InvalidArgumentError("service_record.external_ref: is over 128 characters");
    }
    if (r.community_id().empty()) {
      return absl::InvalidArgumentError("service_record.community_id: is required");
    }
    // Riders report for themselves; a city system names the rider it reports for.
    std::string rider = caller.id();
    std::string source_system;
    if (!caller.is_rider()) {
      if (r.rider_id().empty()) {
        return absl::InvalidArgumentError(
            "service_record.rider_id: is required when a city system reports for a rider");
      }
      rider = r.rider_id();
      source_system = caller.id();
      absl::StatusOr<std::vector<RiderInfo>> who = directory_->Riders({rider});
      if (!who.ok()) return who.status();
      if (who->empty() || !(*who)[0].is_rider) {
        return absl::NotFoundError(
            absl::StrCat("service_record.rider_id: '", rider, "' is not a rider"));
      }
    }
    absl::StatusOr<OrgInfo> community =
        directory_->Org(r.community_id(), "service_record.community_id");
    if (!community.ok()) return community.status();
    if (community->level != common::v1::ORG_LEVEL_COMMUNITY) {
      return Refuse(
          absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_ORG_LEVEL,
          absl::StrCat("service_record.community_id: '", r.community_id(), "' is not a community"),
          {{"org_id", r.community_id()}, {"level", common::v1::OrgLevel_Name(community->level)}});
    }
    if (!caller.is_rider()) {
      if (absl::Status s = CheckCovers(caller.who(), community->path,
                                       absl::StrCat("community ", r.community_id()));
          !s.ok()) {
        return s;
      }
    }
    return Idempotent(
        caller, "SubmitServiceRecord", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          // One submitter at a time per rider, so the daily limit cannot be raced past.
          records_.LockRiderSubmissions(tx, rider);
          const std::string day = ShanghaiDay(caller.now);
          if (records_.SubmittedOn(tx, rider, day) >= kDailySubmissions) {
            return Refuse(absl::StatusCode::kResourceExhausted,
                          v1::ACTIVITY_ERROR_REASON_DAILY_SUBMISSION_LIMIT,
                          absl::StrCat("already ", kDailySubmissions,
                                       " service records today; submit more tomorrow"));
          }
          if (!r.external_ref().empty() &&
              records_.ExternalRefTaken(tx, source_system, r.external_ref())) {
            return absl::AlreadyExistsError(absl::StrCat(
                "service_record.external_ref: '", r.external_ref(), "' was already submitted"));
          }
          v1::ServiceRecord record = r;
          RETURN_IF_ERROR(NormalizePoint(record.mutable_location(), "service_record.location"));
          record.set_service_record_id(NewId("sr"));
          record.set_rider_id(rider);
          record.set_source_system(source_system);
          *record.mutable_org_path() = community->path;
          record.mutable_org_path()->set_community_id(community->org_id);
          records_.Insert(tx, record, occur, day);
          ASSIGN_OR_RETURN(
              PgServiceRecordStore::Row row,
              records_.Load(tx, record.service_record_id(), false, !caller.is_rider()));
          RETURN_IF_ERROR(
              RecordServiceRecordChanged(tx, "service_record_submitted", row.proto, caller.id()));
          *resp->mutable_service_record() = std::move(row.proto);
          return absl::OkStatus();
        });
  });
}

grpc::Status ActivityServiceImpl::GetServiceRecord(grpc::ServerContext* ctx,
                                                   const v1::GetServiceRecordRequest* req,
                                                   v1::GetServiceRecordResponse* resp) {
  return Handle(ctx, "GetServiceRecord", [&](const Caller& caller) -> absl::Status {
    return InReadTx("get service record", [&](pqxx::transaction_base& tx) -> absl::Status {
      const bool staff = caller.is_staff();
      absl::StatusOr<PgServiceRecordStore::Row> r =
          records_.Load(tx, req->service_record_id(), false, staff);
      if (!r.ok()) return r.status();
      if (!staff) {
        // Another rider's record is as good as absent.
        if (r->proto.rider_id() != caller.id()) {
          return absl::NotFoundError(
              absl::StrCat("service record '", req->service_record_id(), "' does not exist"));
        }
      } else if (absl::Status s =
                     CheckCovers(caller.who(), r->proto.org_path(),
                                 absl::StrCat("service record ", r->proto.service_record_id()));
                 !s.ok()) {
        return s;
      }
      *resp->mutable_service_record() = r->proto;
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ListServiceRecords(grpc::ServerContext* ctx,
                                                     const v1::ListServiceRecordsRequest* req,
                                                     v1::ListServiceRecordsResponse* resp) {
  return Handle(ctx, "ListServiceRecords", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<pg::Paging> paging = pg::StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    const bool staff = caller.is_staff();
    std::vector<int> kinds, statuses;
    for (int k : req->kinds()) {
      if (k == 0 || !v1::ServiceRecordKind_IsValid(k)) {
        return absl::InvalidArgumentError("kinds: holds an unspecified or unknown kind");
      }
      kinds.push_back(k);
    }
    for (int s : req->statuses()) {
      if (s == 0 || !v1::ServiceRecordStatus_IsValid(s)) {
        return absl::InvalidArgumentError("statuses: holds an unspecified or unknown status");
      }
      statuses.push_back(s);
    }
    int64_t from = 0, to = std::numeric_limits<int64_t>::max() / 2;
    if (req->has_time_range()) {
      if (req->time_range().has_start_time()) from = Us(TimeOf(req->time_range().start_time()));
      if (req->time_range().has_end_time()) to = Us(TimeOf(req->time_range().end_time()));
      if (from > to) return absl::InvalidArgumentError("time_range: start_time is after end_time");
    }
    std::string rider = staff ? req->rider_id() : caller.id();
    std::string column = "''", org_id;
    if (staff) {
      if (req->org_id().empty()) {
        return absl::InvalidArgumentError("org_id: is required for staff and city systems");
      }
      absl::StatusOr<OrgInfo> org = directory_->Org(req->org_id(), "org_id");
      if (!org.ok()) return org.status();
      if (absl::Status s =
              CheckCovers(caller.who(), org->path, absl::StrCat("org node ", org->org_id));
          !s.ok()) {
        return s;
      }
      switch (org->level) {
        case common::v1::ORG_LEVEL_DISTRICT:
          column = "district_id";
          break;
        case common::v1::ORG_LEVEL_STREET:
          column = "street_id";
          break;
        case common::v1::ORG_LEVEL_COMMUNITY:
          column = "community_id";
          break;
        default:
          column = "''";
          break;  // the city: everything
      }
      org_id = column == "''" ? "" : org->org_id;
    }
    const PgServiceRecordStore::Filter filter{.org_column = column,
                                              .org_id = org_id,
                                              .rider_id = rider,
                                              .kinds = kinds,
                                              .statuses = statuses,
                                              .from_us = from,
                                              .to_us = to,
                                              .after_us = paging->after_us(),
                                              .after_id = paging->after_id(),
                                              .limit = paging->size + 1};
    return InReadTx("list service records", [&](pqxx::transaction_base& tx) -> absl::Status {
      std::vector<PgServiceRecordStore::Row> rows = records_.List(tx, filter, staff);
      resp->set_next_page_token(
          pg::TrimPage(rows, *paging, [](const PgServiceRecordStore::Row& last) {
            return std::vector<std::string>{std::to_string(Us(TimeOf(last.proto.create_time()))),
                                            last.proto.service_record_id()};
          }));
      for (PgServiceRecordStore::Row& row : rows) {
        *resp->add_service_records() = std::move(row.proto);
      }
      return absl::OkStatus();
    });
  });
}

absl::Status ActivityServiceImpl::ReviewServiceRecord(pqxx::transaction_base& tx,
                                                      const Caller& caller,
                                                      const RecordReview& review,
                                                      v1::ServiceRecord* out, bool* applied) {
  ASSIGN_OR_RETURN(PgServiceRecordStore::Row r, records_.Load(tx, review.record_id, true, true));
  RETURN_IF_ERROR(CheckCovers(caller.who(), r.proto.org_path(),
                              absl::StrCat("service record ", r.proto.service_record_id(),
                                           " (community ", r.proto.community_id(), ")"),
                              {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF}));
  const bool verify = review.outcome == v1::SERVICE_RECORD_STATUS_VERIFIED;
  switch (DecideReview(caller.id(), r.proto.rider_id(), r.proto.status(),
                       v1::SERVICE_RECORD_STATUS_SUBMITTED, review.outcome)) {
    case ReviewStep::kOwnSubmission:
      return CheckNotOwn(caller, r.proto);
    case ReviewStep::kWrongState:
      return WrongState(r.proto, verify ? "verify" : "reject");
    case ReviewStep::kAlreadyDone:
      break;
    case ReviewStep::kApply:
      records_.MarkReviewed(tx, r.proto.service_record_id(), review.outcome, caller.id(),
                            review.note);
      if (verify) {
        r.proto.set_status(review.outcome);
        RETURN_IF_ERROR(AwardServiceRecord(tx, caller, r.proto, r.occur, review.rider_path));
      }
      *applied = true;
      break;
  }
  ASSIGN_OR_RETURN(PgServiceRecordStore::Row after,
                   records_.Load(tx, review.record_id, false, true));
  if (*applied) {
    RETURN_IF_ERROR(RecordServiceRecordChanged(
        tx, verify ? "service_record_verified" : "service_record_rejected", after.proto,
        caller.id()));
  }
  *out = std::move(after.proto);
  return absl::OkStatus();
}

grpc::Status ActivityServiceImpl::VerifyServiceRecord(grpc::ServerContext* ctx,
                                                      const v1::VerifyServiceRecordRequest* req,
                                                      v1::VerifyServiceRecordResponse* resp) {
  return Handle(ctx, "VerifyServiceRecord", [&](const Caller& caller) -> absl::Status {
    if (req->service_record_id().empty()) {
      return absl::InvalidArgumentError("service_record_id: is required");
    }
    RETURN_IF_ERROR(
        text::CheckText(req->note(), "note", {.max = 500, .lines = text::Lines::kMany}));
    ASSIGN_OR_RETURN(common::v1::OrgPath rider_path, RiderPathOfRecord(req->service_record_id()));
    const RecordReview review{.record_id = req->service_record_id(),
                              .outcome = v1::SERVICE_RECORD_STATUS_VERIFIED,
                              .note = req->note(),
                              .rider_path = std::move(rider_path)};
    bool awarded = false;
    absl::Status done = InTx("verify service record", [&](pqxx::transaction_base& tx) {
      return ReviewServiceRecord(tx, caller, review, resp->mutable_service_record(), &awarded);
    });
    if (done.ok() && awarded) NudgeRelay();
    return done;
  });
}

grpc::Status ActivityServiceImpl::RejectServiceRecord(grpc::ServerContext* ctx,
                                                      const v1::RejectServiceRecordRequest* req,
                                                      v1::RejectServiceRecordResponse* resp) {
  return Handle(ctx, "RejectServiceRecord", [&](const Caller& caller) -> absl::Status {
    if (req->service_record_id().empty()) {
      return absl::InvalidArgumentError("service_record_id: is required");
    }
    RETURN_IF_ERROR(text::CheckText(req->reason(), "reason",
                                    {.max = 500, .required = true, .lines = text::Lines::kMany}));
    const RecordReview review{.record_id = req->service_record_id(),
                              .outcome = v1::SERVICE_RECORD_STATUS_REJECTED,
                              .note = req->reason()};
    bool rejected = false;
    return InTx("reject service record", [&](pqxx::transaction_base& tx) {
      return ReviewServiceRecord(tx, caller, review, resp->mutable_service_record(), &rejected);
    });
  });
}

grpc::Status ActivityServiceImpl::AppealServiceRecord(grpc::ServerContext* ctx,
                                                      const v1::AppealServiceRecordRequest* req,
                                                      v1::AppealServiceRecordResponse* resp) {
  return Handle(ctx, "AppealServiceRecord", [&](const Caller& caller) -> absl::Status {
    if (req->service_record_id().empty()) {
      return absl::InvalidArgumentError("service_record_id: is required");
    }
    if (absl::Status s = text::CheckText(
            req->reason(), "reason", {.max = 500, .required = true, .lines = text::Lines::kMany});
        !s.ok())
      return s;
    if (absl::Status s = CheckAttachments(req->attachments(), "attachments"); !s.ok()) return s;
    return InTx("appeal service record", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<PgServiceRecordStore::Row> r =
          records_.Load(tx, req->service_record_id(), true, false);
      if (!r.ok()) return r.status();
      if (r->proto.rider_id() != caller.id()) {
        return absl::NotFoundError(
            absl::StrCat("service record '", req->service_record_id(), "' does not exist"));
      }
      const v1::ServiceRecordStatus status = r->proto.status();
      if (r->proto.has_appeal()) {
        // The one appeal: repeating it is harmless, a second one is refused.
        if (status == v1::SERVICE_RECORD_STATUS_APPEALED &&
            r->proto.appeal().reason() == req->reason()) {
          *resp->mutable_service_record() = r->proto;
          return absl::OkStatus();
        }
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::ACTIVITY_ERROR_REASON_ALREADY_APPEALED,
                      absl::StrCat("service record ", r->proto.service_record_id(),
                                   " was already appealed; a record is appealed once"));
      }
      if (status != v1::SERVICE_RECORD_STATUS_REJECTED) return WrongState(r->proto, "appeal");
      if (caller.now > r->reviewed_at + kAppealWindow) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::ACTIVITY_ERROR_REASON_APPEAL_WINDOW_CLOSED,
                      "the 7 days to appeal a rejection have passed");
      }
      records_.MarkAppealed(tx, r->proto.service_record_id(), req->reason(), req->attachments());
      absl::StatusOr<PgServiceRecordStore::Row> after =
          records_.Load(tx, req->service_record_id(), false, false);
      if (!after.ok()) return after.status();
      RETURN_IF_ERROR(
          RecordServiceRecordChanged(tx, "service_record_appealed", after->proto, caller.id()));
      *resp->mutable_service_record() = after->proto;
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::DecideServiceRecordAppeal(
    grpc::ServerContext* ctx, const v1::DecideServiceRecordAppealRequest* req,
    v1::DecideServiceRecordAppealResponse* resp) {
  return Handle(ctx, "DecideServiceRecordAppeal", [&](const Caller& caller) -> absl::Status {
    if (req->service_record_id().empty()) {
      return absl::InvalidArgumentError("service_record_id: is required");
    }
    if (req->decision() == v1::APPEAL_DECISION_UNSPECIFIED ||
        !v1::AppealDecision_IsValid(req->decision())) {
      return absl::InvalidArgumentError("decision: is unspecified or unknown");
    }
    if (absl::Status s = text::CheckText(
            req->reason(), "reason", {.max = 500, .required = true, .lines = text::Lines::kMany});
        !s.ok())
      return s;
    absl::StatusOr<common::v1::OrgPath> rider_path = RiderPathOfRecord(req->service_record_id());
    if (!rider_path.ok()) return rider_path.status();
    bool awarded = false;
    absl::Status done = InTx("decide appeal", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<PgServiceRecordStore::Row> r =
          records_.Load(tx, req->service_record_id(), true, true);
      if (!r.ok()) return r.status();
      // Street staff decide: the record's street must be theirs (a community grant is not enough).
      common::v1::OrgPath street = r->proto.org_path();
      street.clear_community_id();
      if (absl::Status s =
              CheckCovers(caller.who(), street, absl::StrCat("street ", street.street_id()),
                          {ROLE_STREET_STAFF});
          !s.ok()) {
        return s;
      }
      if (absl::Status s = CheckNotOwn(caller, r->proto); !s.ok()) return s;
      if (r->proto.reviewed_by() == caller.id()) {
        return Refuse(absl::StatusCode::kPermissionDenied,
                      v1::ACTIVITY_ERROR_REASON_APPEAL_NEEDS_ANOTHER_REVIEWER,
                      "the staff member who rejected a record cannot decide its appeal");
      }
      const v1::ServiceRecordStatus status = r->proto.status();
      bool decided = false;
      if (status == v1::SERVICE_RECORD_STATUS_APPEALED) {
        decided = true;
        const v1::ServiceRecordStatus after = StatusAfterAppeal(req->decision());
        records_.MarkDecided(tx, r->proto.service_record_id(), after, req->decision(),
                             req->reason(), caller.id());
        if (after == v1::SERVICE_RECORD_STATUS_VERIFIED) {
          r->proto.set_status(after);
          if (absl::Status s = AwardServiceRecord(tx, caller, r->proto, r->occur, *rider_path);
              !s.ok()) {
            return s;
          }
          awarded = true;
        }
      } else if (!r->proto.has_appeal() || r->proto.appeal().decision() != req->decision()) {
        return WrongState(r->proto, "decide the appeal of");
      }
      absl::StatusOr<PgServiceRecordStore::Row> after =
          records_.Load(tx, req->service_record_id(), false, true);
      if (!after.ok()) return after.status();
      if (decided) {
        RETURN_IF_ERROR(RecordServiceRecordChanged(
            tx, awarded ? "service_record_verified" : "service_record_rejected", after->proto,
            caller.id()));
      }
      *resp->mutable_service_record() = after->proto;
      return absl::OkStatus();
    });
    if (done.ok() && awarded) NudgeRelay();
    return done;
  });
}

}  // namespace civicpoints::activity
