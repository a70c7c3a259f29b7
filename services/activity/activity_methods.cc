// Activities: create, read, change, cancel, list; riders enrol and withdraw.
#include <pqxx/pqxx>

#include <google/protobuf/util/field_mask_util.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "common/pg/paging.h"
#include "common/status/status_macros.h"
#include "services/activity/activity_records.h"
#include "services/activity/activity_service.h"
#include "services/activity/attachments.h"
#include "services/activity/check_in_code.h"
#include "services/activity/directory.h"
#include "services/activity/enrolment_rules.h"
#include "services/activity/pg_place_store.h"
#include "services/activity/points_rules.h"

namespace civicpoints::activity {

using common::v1::ROLE_CITY_SYSTEM;
using common::v1::ROLE_COMMUNITY_STAFF;
using common::v1::ROLE_STREET_STAFF;

namespace {

constexpr int kDefaultLeadMinutes = 30;
constexpr int kDefaultCodePeriod = 30;
// How far back paper records may be entered (RecordPastActivity), and how many riders at once.
constexpr absl::Duration kRecordAfterwardsWithin = absl::Hours(24 * 30);
constexpr int kMaxRecordedRiders = 500;

// Fields an activity's creator sets, checked as CreateActivity and UpdateActivity require.
absl::Status CheckActivityFields(const v1::Activity& a) {
  if (absl::Status s = text::CheckText(a.title(), "activity.title", {.max = 60, .required = true});
      !s.ok())
    return s;
  if (absl::Status s = text::CheckText(a.description(), "activity.description",
                                       {.max = 2000, .lines = text::Lines::kMany});
      !s.ok())
    return s;
  if (a.category() == v1::ACTIVITY_CATEGORY_UNSPECIFIED ||
      !v1::ActivityCategory_IsValid(a.category())) {
    return absl::InvalidArgumentError("activity.category: is unspecified or unknown");
  }
  if (a.place_id().empty()) return absl::InvalidArgumentError("activity.place_id: is required");
  if (!a.has_start_time() || !a.has_end_time()) {
    return absl::InvalidArgumentError("activity.start_time and end_time: are required");
  }
  const absl::Time start = TimeOf(a.start_time()), end = TimeOf(a.end_time());
  if (end <= start)
    return absl::InvalidArgumentError("activity.end_time: must be after start_time");
  if (end - start > absl::Hours(24)) {
    return absl::InvalidArgumentError(
        "activity.end_time: must be at most 24 hours after start_time");
  }
  if (a.has_enrol_close_time() && TimeOf(a.enrol_close_time()) > end) {
    return absl::InvalidArgumentError("activity.enrol_close_time: must be at most end_time");
  }
  if (a.check_in_lead_minutes() < 0 || a.check_in_lead_minutes() > 120) {
    return absl::InvalidArgumentError("activity.check_in_lead_minutes: must be 0–120");
  }
  if (a.capacity() < 1 || a.capacity() > 5000) {
    return absl::InvalidArgumentError(
        absl::StrCat("activity.capacity: must be 1–5000 (got ", a.capacity(), ")"));
  }
  if (a.points() < 0 || a.points() > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("activity.points: must be 0–1000 (got ", a.points(), ")"));
  }
  if (a.check_in_radius_meters() != 0 &&
      (a.check_in_radius_meters() < 20 || a.check_in_radius_meters() > 2000)) {
    return absl::InvalidArgumentError(
        "activity.check_in_radius_meters: must be 20–2000, or 0 for the place's radius");
  }
  if (a.check_in_code_period_seconds() != 0 &&
      (a.check_in_code_period_seconds() < 15 || a.check_in_code_period_seconds() > 300)) {
    return absl::InvalidArgumentError("activity.check_in_code_period_seconds: must be 15–300");
  }
  if (!v1::ActivityAudience_IsValid(a.audience())) {
    return absl::InvalidArgumentError("activity.audience: is unknown");
  }
  return absl::OkStatus();
}

// The place an activity is held at. Errors: NOT_FOUND; FAILED_PRECONDITION (PLACE_RETIRED).
absl::Status CheckPlace(pqxx::transaction_base& tx, const std::string& place_id) {
  absl::StatusOr<v1::Place> place = PgPlaceStore().Load(tx, place_id, /*lock=*/false);
  if (!place.ok()) {
    return absl::NotFoundError(
        absl::StrCat("activity.place_id: place '", place_id, "' does not exist"));
  }
  if (place->status() == v1::PLACE_STATUS_RETIRED) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_PLACE_RETIRED,
                  absl::StrCat("place '", place_id, "' is retired"));
  }
  return absl::OkStatus();
}

absl::Status CheckMaxPoints(const ResolvedRules& rules, int64_t points) {
  const RuleValue max = rules.MaxPointsPerActivity();
  if (points > max.value) {
    return Refuse(
        absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_MAX_POINTS_EXCEEDED,
        absl::StrCat("activity.points: ", points, " exceeds the effective max_points_per_activity ",
                     max.value, " (set at ", max.org_id, ")"),
        {{"max_points", std::to_string(max.value)}, {"set_at", max.org_id}});
  }
  return absl::OkStatus();
}

const char* LevelColumn(common::v1::OrgLevel level) {
  switch (level) {
    case common::v1::ORG_LEVEL_DISTRICT:
      return "a.district_id";
    case common::v1::ORG_LEVEL_STREET:
      return "a.street_id";
    case common::v1::ORG_LEVEL_COMMUNITY:
      return "a.community_id";
    default:
      return nullptr;  // the city: everything
  }
}

}  // namespace

grpc::Status ActivityServiceImpl::CreateActivity(grpc::ServerContext* ctx,
                                                 const v1::CreateActivityRequest* req,
                                                 v1::CreateActivityResponse* resp) {
  return Handle(ctx, "CreateActivity", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    const v1::Activity& a = req->activity();
    if (absl::Status s = CheckActivityFields(a); !s.ok()) return s;
    if (a.organiser_org_id().empty()) {
      return absl::InvalidArgumentError("activity.organiser_org_id: is required");
    }
    if (TimeOf(a.start_time()) < caller.now + min_start_lead_) {
      return absl::InvalidArgumentError(absl::StrCat("activity.start_time: must be at least ",
                                                     absl::FormatDuration(min_start_lead_),
                                                     " ahead, so riders can enrol"));
    }
    absl::StatusOr<OrgInfo> org =
        directory_->Org(a.organiser_org_id(), "activity.organiser_org_id");
    if (!org.ok()) return org.status();
    if (org->level != common::v1::ORG_LEVEL_COMMUNITY &&
        org->level != common::v1::ORG_LEVEL_STREET) {
      return Refuse(absl::StatusCode::kFailedPrecondition,
                    v1::ACTIVITY_ERROR_REASON_WRONG_ORG_LEVEL,
                    absl::StrCat("activity.organiser_org_id: '", org->org_id,
                                 "' is not a community or street"),
                    {{"org_id", org->org_id}, {"level", common::v1::OrgLevel_Name(org->level)}});
    }
    if (absl::Status s =
            CheckCovers(caller.who(), org->path, absl::StrCat("organiser node ", org->org_id),
                        {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF, ROLE_CITY_SYSTEM});
        !s.ok()) {
      return s;
    }
    return Idempotent(
        caller, "CreateActivity", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          if (absl::Status s = CheckPlace(tx, a.place_id()); !s.ok()) return s;
          if (absl::Status s = CheckMaxPoints(ResolvedRules::Read(tx, org->path), a.points());
              !s.ok()) {
            return s;
          }
          v1::Activity draft = a;
          const std::string id = NewId("act");
          draft.set_activity_id(id);
          if (!draft.has_enrol_close_time()) *draft.mutable_enrol_close_time() = a.start_time();
          if (draft.check_in_lead_minutes() == 0) {
            draft.set_check_in_lead_minutes(kDefaultLeadMinutes);
          }
          if (draft.audience() == v1::ACTIVITY_AUDIENCE_UNSPECIFIED) {
            draft.set_audience(v1::ACTIVITY_AUDIENCE_ANY_RIDER);
          }
          if (draft.check_in_code_period_seconds() == 0) {
            draft.set_check_in_code_period_seconds(kDefaultCodePeriod);
          }
          InsertActivityRow(tx, draft, org->org_id, org->path, NewCodeSecret(), caller.id());
          absl::StatusOr<ActivityRow> row = LoadActivity(tx, id, false, caller.now);
          if (!row.ok()) return row.status();
          *resp->mutable_activity() = row->proto;
          return absl::OkStatus();
        });
  });
}

grpc::Status ActivityServiceImpl::RecordPastActivity(grpc::ServerContext* ctx,
                                                     const v1::RecordPastActivityRequest* req,
                                                     v1::RecordPastActivityResponse* resp) {
  return Handle(ctx, "RecordPastActivity", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(text::CheckIdempotencyKey(req->idempotency_key()));
    // What took place: the creator's fields, with the check-in settings that no longer matter
    // left at their defaults and the capacity, if not given, the riders on the sheet.
    v1::Activity draft = req->activity();
    draft.clear_enrol_close_time();
    draft.clear_check_in_lead_minutes();
    draft.clear_check_in_radius_meters();
    draft.clear_check_in_code_period_seconds();
    if (draft.capacity() == 0) draft.set_capacity(std::max(1, req->rider_ids_size()));
    RETURN_IF_ERROR(CheckActivityFields(draft));
    if (draft.organiser_org_id().empty()) {
      return absl::InvalidArgumentError("activity.organiser_org_id: is required");
    }
    if (TimeOf(draft.end_time()) > caller.now) {
      return absl::InvalidArgumentError(
          "activity.end_time: is in the future; record an activity once it is over (or create "
          "it beforehand)");
    }
    if (TimeOf(draft.start_time()) < caller.now - kRecordAfterwardsWithin) {
      return absl::InvalidArgumentError(
          "activity.start_time: is more than 30 days ago; paper records are entered within 30 "
          "days");
    }
    if (req->rider_ids().empty() || req->rider_ids_size() > kMaxRecordedRiders) {
      return absl::InvalidArgumentError(absl::StrCat("rider_ids: must name 1–", kMaxRecordedRiders,
                                                     " riders (got ", req->rider_ids_size(), ")"));
    }
    std::vector<std::string> riders(req->rider_ids().begin(), req->rider_ids().end());
    std::sort(riders.begin(), riders.end());
    if (std::adjacent_find(riders.begin(), riders.end()) != riders.end()) {
      return absl::InvalidArgumentError("rider_ids: repeats a rider");
    }
    if (std::find(riders.begin(), riders.end(), "") != riders.end()) {
      return absl::InvalidArgumentError("rider_ids: holds an empty id");
    }
    if (draft.capacity() < req->rider_ids_size()) {
      return absl::InvalidArgumentError(absl::StrCat("activity.capacity: ", draft.capacity(),
                                                     " is below the ", req->rider_ids_size(),
                                                     " riders on the sign-in sheet"));
    }
    v1::Attachment sheet;
    sheet.set_ref(req->sign_in_sheet_ref());
    RETURN_IF_ERROR(CheckAttachment(sheet, "sign_in_sheet"));
    ASSIGN_OR_RETURN(OrgInfo org,
                     directory_->Org(draft.organiser_org_id(), "activity.organiser_org_id"));
    if (org.level != common::v1::ORG_LEVEL_COMMUNITY && org.level != common::v1::ORG_LEVEL_STREET) {
      return Refuse(absl::StatusCode::kFailedPrecondition,
                    v1::ACTIVITY_ERROR_REASON_WRONG_ORG_LEVEL,
                    absl::StrCat("activity.organiser_org_id: '", org.org_id,
                                 "' is not a community or street"),
                    {{"org_id", org.org_id}, {"level", common::v1::OrgLevel_Name(org.level)}});
    }
    RETURN_IF_ERROR(CheckCovers(caller.who(), org.path, absl::StrCat("organiser node ", org.org_id),
                                {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF}));
    ASSIGN_OR_RETURN(std::vector<RiderInfo> found, directory_->Riders(riders));
    for (const RiderInfo& r : found) {
      if (!r.is_rider) {
        return absl::NotFoundError(absl::StrCat("rider_ids: '", r.rider_id, "' is not a rider"));
      }
    }
    return Idempotent(
        caller, "RecordPastActivity", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          RETURN_IF_ERROR(CheckPlace(tx, draft.place_id()));
          RETURN_IF_ERROR(CheckMaxPoints(ResolvedRules::Read(tx, org.path), draft.points()));
          const std::string id = NewId("act");
          draft.set_activity_id(id);
          *draft.mutable_enrol_close_time() = draft.start_time();
          draft.set_check_in_lead_minutes(0);
          draft.set_audience(v1::ACTIVITY_AUDIENCE_ANY_RIDER);
          draft.set_check_in_code_period_seconds(kDefaultCodePeriod);
          InsertActivityRow(tx, draft, org.org_id, org.path, NewCodeSecret(), caller.id());
          tx.exec_params(
              "UPDATE activities SET recorded_afterwards = true, sign_in_sheet_ref = $2 "
              "WHERE activity_id = $1",
              id, req->sign_in_sheet_ref());
          for (const std::string& rider : riders) {
            attendance_.Enrol(tx, id, rider);
            *resp->add_enrolments() =
                attendance_.MarkCheckedIn(tx, id, rider, v1::CHECK_IN_METHOD_RECORDED_AFTERWARDS,
                                          caller.id(), std::nullopt, /*for_staff=*/true);
          }
          ASSIGN_OR_RETURN(ActivityRow row, LoadActivity(tx, id, false, caller.now));
          *resp->mutable_activity() = std::move(row.proto);
          return absl::OkStatus();
        });
  });
}

grpc::Status ActivityServiceImpl::GetActivity(grpc::ServerContext* ctx,
                                              const v1::GetActivityRequest* req,
                                              v1::GetActivityResponse* resp) {
  return Handle(ctx, "GetActivity", [&](const Caller& caller) -> absl::Status {
    return InReadTx("get activity", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<ActivityRow> a = LoadActivity(tx, req->activity_id(), false, caller.now);
      if (!a.ok()) return a.status();
      *resp->mutable_activity() = a->proto;
      if (caller.is_rider()) {
        if (std::optional<v1::Enrolment> e =
                LoadEnrolment(tx, a->proto.activity_id(), caller.id(), false, false)) {
          *resp->mutable_my_enrolment() = *std::move(e);
        }
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::UpdateActivity(grpc::ServerContext* ctx,
                                                 const v1::UpdateActivityRequest* req,
                                                 v1::UpdateActivityResponse* resp) {
  return Handle(ctx, "UpdateActivity", [&](const Caller& caller) -> absl::Status {
    if (req->activity_id().empty()) return absl::InvalidArgumentError("activity_id: is required");
    if (req->update_mask().paths().empty()) {
      return absl::InvalidArgumentError("update_mask: names no field");
    }
    static const std::set<std::string> kUpdatable = {"title",
                                                     "description",
                                                     "category",
                                                     "place_id",
                                                     "start_time",
                                                     "end_time",
                                                     "enrol_close_time",
                                                     "check_in_lead_minutes",
                                                     "capacity",
                                                     "points",
                                                     "audience",
                                                     "check_in_radius_meters",
                                                     "check_in_code_period_seconds"};
    static const std::set<std::string> kAfterCheckInOpens = {"title", "description", "capacity"};
    for (const std::string& path : req->update_mask().paths()) {
      if (!kUpdatable.count(path)) {
        return absl::InvalidArgumentError(
            absl::StrCat("update_mask: '", path, "' is not a field that can be updated"));
      }
    }
    return InTx("update activity", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<ActivityRow> cur = LoadActivity(tx, req->activity_id(), true, caller.now);
      if (!cur.ok()) return cur.status();
      if (absl::Status s = CheckCovers(caller.who(), cur->proto.org_path(),
                                       absl::StrCat("activity ", cur->proto.activity_id()));
          !s.ok()) {
        return s;
      }
      if (!req->etag().empty() && req->etag() != cur->proto.etag()) {
        return Refuse(absl::StatusCode::kAborted, v1::ACTIVITY_ERROR_REASON_ETAG_MISMATCH,
                      absl::StrCat("etag: the activity changed since '", req->etag(), "' (now ",
                                   cur->proto.etag(), "); read it again"));
      }
      if (cur->cancelled || cur->ended(caller.now)) {
        return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_STATE,
                      absl::StrCat("activity ", cur->proto.activity_id(), " is ",
                                   cur->cancelled ? "cancelled" : "over"));
      }
      v1::Activity next = cur->proto;
      for (const std::string& path : req->update_mask().paths()) {
        if (caller.now >= cur->check_in_open && !kAfterCheckInOpens.count(path)) {
          return Refuse(absl::StatusCode::kFailedPrecondition,
                        v1::ACTIVITY_ERROR_REASON_FIXED_AFTER_CHECK_IN_OPENS,
                        absl::StrCat("update_mask: '", path,
                                     "' cannot change once check-in has opened (only title, "
                                     "description, capacity)"),
                        {{"field", path}});
        }
      }
      google::protobuf::util::FieldMaskUtil::MergeOptions merge;
      merge.set_replace_message_fields(true);
      google::protobuf::util::FieldMaskUtil::MergeMessageTo(req->activity(), req->update_mask(),
                                                            merge, &next);
      if (!next.has_enrol_close_time()) *next.mutable_enrol_close_time() = next.start_time();
      if (next.check_in_lead_minutes() == 0 &&
          std::count(req->update_mask().paths().begin(), req->update_mask().paths().end(),
                     "check_in_lead_minutes") == 0) {
        next.set_check_in_lead_minutes(cur->proto.check_in_lead_minutes());
      }
      if (next.check_in_code_period_seconds() == 0) {
        next.set_check_in_code_period_seconds(kDefaultCodePeriod);
      }
      if (next.audience() == v1::ACTIVITY_AUDIENCE_UNSPECIFIED) {
        next.set_audience(v1::ACTIVITY_AUDIENCE_ANY_RIDER);
      }
      if (absl::Status s = CheckActivityFields(next); !s.ok()) return s;
      if (TimeOf(next.start_time()) != TimeOf(cur->proto.start_time()) &&
          TimeOf(next.start_time()) < caller.now + min_start_lead_) {
        return absl::InvalidArgumentError(absl::StrCat("activity.start_time: must be at least ",
                                                       absl::FormatDuration(min_start_lead_),
                                                       " ahead, so riders can enrol"));
      }
      if (next.capacity() < cur->proto.enrolled_count()) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::ACTIVITY_ERROR_REASON_BELOW_SEATS_TAKEN,
                      absl::StrCat("activity.capacity: ", next.capacity(), " is below the ",
                                   cur->proto.enrolled_count(), " riders already enrolled"),
                      {{"taken", std::to_string(cur->proto.enrolled_count())}});
      }
      if (next.place_id() != cur->proto.place_id()) {
        if (absl::Status s = CheckPlace(tx, next.place_id()); !s.ok()) return s;
      }
      if (next.points() != cur->proto.points()) {
        if (absl::Status s =
                CheckMaxPoints(ResolvedRules::Read(tx, cur->proto.org_path()), next.points());
            !s.ok()) {
          return s;
        }
      }
      UpdateActivityRow(tx, next);
      absl::StatusOr<ActivityRow> row = LoadActivity(tx, next.activity_id(), false, caller.now);
      if (!row.ok()) return row.status();
      *resp->mutable_activity() = row->proto;
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::CancelActivity(grpc::ServerContext* ctx,
                                                 const v1::CancelActivityRequest* req,
                                                 v1::CancelActivityResponse* resp) {
  return Handle(ctx, "CancelActivity", [&](const Caller& caller) -> absl::Status {
    if (req->activity_id().empty()) return absl::InvalidArgumentError("activity_id: is required");
    if (absl::Status s = text::CheckText(
            req->reason(), "reason", {.max = 500, .required = true, .lines = text::Lines::kMany});
        !s.ok())
      return s;
    return InTx("cancel activity", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<ActivityRow> a = LoadActivity(tx, req->activity_id(), true, caller.now);
      if (!a.ok()) return a.status();
      if (absl::Status s = CheckCovers(caller.who(), a->proto.org_path(),
                                       absl::StrCat("activity ", a->proto.activity_id()));
          !s.ok()) {
        return s;
      }
      if (!a->cancelled) {
        RETURN_IF_ERROR(
            CheckCancel(a->proto.activity_id(), a->ended(caller.now), a->proto.confirmed_count()));
        attendance_.Cancel(tx, a->proto.activity_id(), req->reason());
      }
      absl::StatusOr<ActivityRow> row = LoadActivity(tx, req->activity_id(), false, caller.now);
      if (!row.ok()) return row.status();
      *resp->mutable_activity() = row->proto;
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ListActivities(grpc::ServerContext* ctx,
                                                 const v1::ListActivitiesRequest* req,
                                                 v1::ListActivitiesResponse* resp) {
  return Handle(ctx, "ListActivities", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<pg::Paging> paging = pg::StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    absl::StatusOr<OrgInfo> org = directory_->Org(req->org_id(), "org_id");
    if (!org.ok()) return org.status();
    if (caller.is_staff() && !caller.is_rider()) {
      if (absl::Status s =
              CheckCovers(caller.who(), org->path, absl::StrCat("org node ", org->org_id));
          !s.ok()) {
        return s;
      }
    }
    // Unset bounds: 1970 and the year 9999, both inside PostgreSQL's timestamp range.
    int64_t from = 0, to = int64_t{253402300799} * 1000000;
    if (req->has_time_range()) {
      if (req->time_range().has_start_time()) from = Us(TimeOf(req->time_range().start_time()));
      if (req->time_range().has_end_time()) to = Us(TimeOf(req->time_range().end_time()));
      if (from > to) return absl::InvalidArgumentError("time_range: start_time is after end_time");
    }
    if (!v1::ActivityCategory_IsValid(req->category()) ||
        !v1::ActivityStatus_IsValid(req->status())) {
      return absl::InvalidArgumentError("category or status: is unknown");
    }
    const char* column = LevelColumn(org->level);
    return InReadTx("list activities", [&](pqxx::transaction_base& tx) -> absl::Status {
      // Status is derived: cancelled, ended (past end_at) or scheduled.
      pqxx::result rows = tx.exec_params(
          absl::StrCat(
              kActivitySelect, " WHERE ", column ? column : "$1", " = $1",
              " AND ($2 = 0 OR a.category = $2)"
              " AND ($3 = 0 OR ($3 = 2 AND a.cancelled_at IS NOT NULL) OR ($3 = 3 AND "
              "a.cancelled_at IS NULL AND a.end_at <= from_us($7::bigint)) OR ($3 = 1 AND "
              "a.cancelled_at IS NULL AND a.end_at > from_us($7::bigint)))"
              " AND a.end_at > from_us($4::bigint) AND a.start_at < from_us($5::bigint)"
              " AND ($6 = '' OR a.place_id = $6)"
              " AND (NOT $8 OR (a.cancelled_at IS NULL AND a.enrol_close_at > from_us($7::bigint) "
              "AND a.enrolled_count < a.capacity))"
              " AND ($9::bigint = 0 OR (us(a.start_at), a.activity_id) > ($9::bigint, $10))"
              " ORDER BY a.start_at, a.activity_id LIMIT $11"),
          org->org_id, static_cast<int>(req->category()), static_cast<int>(req->status()), from, to,
          req->place_id(), Us(caller.now), req->only_enrollable(), paging->after_us(),
          paging->after_id(), paging->size + 1);
      resp->set_next_page_token(pg::FillPage(rows, *paging, 12, [&](const pqxx::row& row) {
        *resp->add_activities() = ReadActivity(tx, row, caller.now).proto;
      }));
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::EnrolInActivity(grpc::ServerContext* ctx,
                                                  const v1::EnrolInActivityRequest* req,
                                                  v1::EnrolInActivityResponse* resp) {
  return Handle(ctx, "EnrolInActivity", [&](const Caller& caller) -> absl::Status {
    if (req->activity_id().empty()) return absl::InvalidArgumentError("activity_id: is required");
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    // The audience check needs the rider's home community, asked of identity before the
    // transaction (no network call while rows are locked).
    absl::StatusOr<std::vector<RiderInfo>> me = directory_->Riders({caller.id()});
    if (!me.ok()) return me.status();
    const common::v1::OrgPath home = me->empty() ? common::v1::OrgPath() : (*me)[0].home;
    return Idempotent(
        caller, "EnrolInActivity", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          absl::StatusOr<ActivityRow> a = LoadActivity(tx, req->activity_id(), true, caller.now);
          if (!a.ok()) return a.status();
          const std::string& id = a->proto.activity_id();
          std::optional<v1::Enrolment> e = LoadEnrolment(tx, id, caller.id(), true, false);
          RETURN_IF_ERROR(CheckEnrol({.activity_id = id,
                                      .cancelled = a->cancelled,
                                      .ended = a->ended(caller.now),
                                      .enrol_close = a->enrol_close,
                                      .enrolled = a->proto.enrolled_count(),
                                      .capacity = a->proto.capacity()},
                                     CheckAudience(*a, home),
                                     e ? std::optional(e->status()) : std::nullopt, caller.now));
          attendance_.Enrol(tx, id, caller.id());
          *resp->mutable_enrolment() = *LoadEnrolment(tx, id, caller.id(), false, false);
          absl::StatusOr<ActivityRow> after = LoadActivity(tx, id, false, caller.now);
          if (!after.ok()) return after.status();
          *resp->mutable_activity() = after->proto;
          return absl::OkStatus();
        });
  });
}

grpc::Status ActivityServiceImpl::WithdrawEnrolment(grpc::ServerContext* ctx,
                                                    const v1::WithdrawEnrolmentRequest* req,
                                                    v1::WithdrawEnrolmentResponse* resp) {
  return Handle(ctx, "WithdrawEnrolment", [&](const Caller& caller) -> absl::Status {
    return InTx("withdraw enrolment", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<ActivityRow> a = LoadActivity(tx, req->activity_id(), true, caller.now);
      if (!a.ok()) return a.status();
      const std::string& id = a->proto.activity_id();
      std::optional<v1::Enrolment> e = LoadEnrolment(tx, id, caller.id(), true, false);
      if (!e) {
        return absl::NotFoundError(absl::StrCat("you never enrolled in activity ", id));
      }
      ASSIGN_OR_RETURN(const WithdrawEnrolmentStep step,
                       DecideWithdrawEnrolment(id, e->status(), a->ended(caller.now)));
      if (step == WithdrawEnrolmentStep::kAlreadyDone) {
        *resp->mutable_enrolment() = *std::move(e);
        return absl::OkStatus();
      }
      attendance_.Withdraw(tx, id, caller.id());
      *resp->mutable_enrolment() = *LoadEnrolment(tx, id, caller.id(), false, false);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ListEnrolments(grpc::ServerContext* ctx,
                                                 const v1::ListEnrolmentsRequest* req,
                                                 v1::ListEnrolmentsResponse* resp) {
  return Handle(ctx, "ListEnrolments", [&](const Caller& caller) -> absl::Status {
    const bool staff = caller.is_staff();
    absl::StatusOr<pg::Paging> paging = pg::StartPaging(*req, 2, staff ? 500 : 100);
    if (!paging.ok()) return paging.status();
    if (req->activity_id().empty()) return absl::InvalidArgumentError("activity_id: is required");
    const std::string rider = staff ? req->rider_id() : caller.id();
    if (req->activity_id() == "-" && rider.empty()) {
      return absl::InvalidArgumentError("rider_id: is required when activity_id is \"-\"");
    }
    if (!v1::EnrolmentStatus_IsValid(req->status())) {
      return absl::InvalidArgumentError("status: is unknown");
    }
    return InReadTx("list enrolments", [&](pqxx::transaction_base& tx) -> absl::Status {
      if (req->activity_id() != "-") {
        absl::StatusOr<ActivityRow> a = LoadActivity(tx, req->activity_id(), false, caller.now);
        if (!a.ok()) return a.status();
        if (staff) {
          if (absl::Status s = CheckCovers(caller.who(), a->proto.org_path(),
                                           absl::StrCat("activity ", a->proto.activity_id()));
              !s.ok()) {
            return s;
          }
        }
        // The sign-in sheet: in enrolment order.
        pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT ", kEnrolmentColumns,
                         " FROM enrolments WHERE activity_id = $1 AND ($2 = '' OR rider_id = $2) "
                         "AND ($3 = 0 OR status = $3) AND ($4::bigint = 0 OR "
                         "(us(enrolled_at), rider_id) > ($4::bigint, $5)) "
                         "ORDER BY enrolled_at, rider_id LIMIT $6"),
            a->proto.activity_id(), rider, static_cast<int>(req->status()), paging->after_us(),
            paging->after_id(), paging->size + 1);
        resp->set_next_page_token(pg::FillPage(
            rows, *paging,
            [&](const pqxx::row& row) { FillEnrolment(tx, row, staff, resp->add_enrolments()); },
            [](const pqxx::row& last) {
              return std::vector<std::string>{std::to_string(last[3].as<int64_t>()),
                                              last[1].as<std::string>()};
            }));
        return absl::OkStatus();
      }
      // One rider's history, newest first; staff see the activities in their scope.
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT e.", kEnrolmentColumns,
                       ", a.district_id, a.street_id, a.community_id FROM enrolments e JOIN "
                       "activities a USING (activity_id) WHERE e.rider_id = $1 AND ($2 = 0 OR "
                       "e.status = $2) AND ($3::bigint = 0 OR (us(e.enrolled_at), e.activity_id) "
                       "< ($3::bigint, $4)) ORDER BY e.enrolled_at DESC, e.activity_id DESC "
                       "LIMIT $5"),
          rider, static_cast<int>(req->status()), paging->after_us(), paging->after_id(),
          paging->size + 1);
      resp->set_next_page_token(pg::FillPage(
          rows, *paging,
          [&](const pqxx::row& row) {
            common::v1::OrgPath path;
            path.set_district_id(row[12].as<std::string>());
            path.set_street_id(row[13].as<std::string>());
            path.set_community_id(row[14].as<std::string>());
            if (staff && !Covers(caller.who(), path)) return;
            FillEnrolment(tx, row, staff, resp->add_enrolments());
          },
          [](const pqxx::row& last) {
            return std::vector<std::string>{std::to_string(last[3].as<int64_t>()),
                                            last[0].as<std::string>()};
          }));
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::activity
