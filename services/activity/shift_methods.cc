// Duty shifts: a rider on a post logs a stretch of duty; staff confirm it (writing its one award
// and outbox row in the same transaction) or reject it.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "common/pg/paging.h"
#include "common/pg/sql_values.h"
#include "services/activity/activity_service.h"
#include "services/activity/awards.h"
#include "services/activity/directory.h"
#include "services/activity/points_rules.h"
#include "services/activity/post_records.h"

namespace civicpoints::activity {

using common::v1::ROLE_COMMUNITY_STAFF;
using common::v1::ROLE_STREET_STAFF;

namespace {

constexpr absl::Duration kMinShift = absl::Minutes(30);
constexpr absl::Duration kMaxShift = absl::Hours(12);
constexpr absl::Duration kLogWindow = absl::Hours(24 * 7);
constexpr int kMaxAttachments = 9;
constexpr int64_t kEndOfTime = 253402300799000000;

absl::Status CheckShiftIds(const std::string& post_id, const std::string& shift_id) {
  if (post_id.empty()) return absl::InvalidArgumentError("post_id: is required");
  if (shift_id.empty()) return absl::InvalidArgumentError("shift_id: is required");
  return absl::OkStatus();
}

absl::Status NoSuchShift(const std::string& post_id, const std::string& shift_id) {
  return absl::NotFoundError(
      absl::StrCat("shift '", shift_id, "' does not exist on post '", post_id, "'"));
}

absl::Status CheckShiftScope(const Caller& caller, const v1::Post& post) {
  return CheckCovers(caller.who(), post.org_path(), absl::StrCat("post ", post.post_id()),
                     {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF});
}

absl::Status CheckLog(const v1::LogDutyShiftRequest& req, absl::Time now) {
  if (req.post_id().empty()) return absl::InvalidArgumentError("post_id: is required");
  if (!req.has_start_time() || !req.has_end_time()) {
    return absl::InvalidArgumentError("start_time and end_time: are required");
  }
  const absl::Time start = TimeOf(req.start_time()), end = TimeOf(req.end_time());
  if (end - start < kMinShift || end - start > kMaxShift) {
    return absl::InvalidArgumentError(
        absl::StrCat("end_time: must be 30 minutes to 12 hours after start_time (got ",
                     absl::FormatDuration(end - start), ")"));
  }
  if (end > now) return absl::InvalidArgumentError("end_time: is in the future");
  if (start < now - kLogWindow) {
    return absl::InvalidArgumentError(
        "start_time: is more than 7 days ago; shifts are logged within a week");
  }
  if (absl::Status s = text::CheckText(req.summary(), "summary",
                                       {.max = 500, .required = true, .lines = text::Lines::kMany});
      !s.ok())
    return s;
  if (req.has_location()) {
    if (absl::Status s = CheckPoint(req.location(), "location"); !s.ok()) return s;
  }
  if (req.attachment_refs_size() > kMaxAttachments) {
    return absl::InvalidArgumentError(absl::StrCat("attachment_refs: at most ", kMaxAttachments,
                                                   " (got ", req.attachment_refs_size(), ")"));
  }
  for (int i = 0; i < req.attachment_refs_size(); ++i) {
    if (absl::Status s =
            text::CheckText(req.attachment_refs(i), absl::StrCat("attachment_refs[", i, "]"),
                            {.max = 512, .required = true});
        !s.ok()) {
      return s;
    }
  }
  return text::CheckIdempotencyKey(req.idempotency_key());
}

}  // namespace

grpc::Status ActivityServiceImpl::LogDutyShift(grpc::ServerContext* ctx,
                                               const v1::LogDutyShiftRequest* req,
                                               v1::LogDutyShiftResponse* resp) {
  return Handle(ctx, "LogDutyShift", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = CheckLog(*req, caller.now); !s.ok()) return s;
    const int64_t start = Us(TimeOf(req->start_time())), end = Us(TimeOf(req->end_time()));
    return Idempotent(
        caller, "LogDutyShift", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          absl::StatusOr<v1::Post> post = LoadPost(tx, req->post_id(), false);
          if (!post.ok()) return post.status();
          const std::string& id = post->post_id();
          // Shared lock: a withdrawal of the claim waits for this shift, or this sees it gone.
          pqxx::result held = tx.exec_params(
              "SELECT claim_id, status FROM post_claims WHERE post_id = $1 AND rider_id = $2 "
              "AND status IN (duty_shift_status('SUBMITTED'), duty_shift_status('CONFIRMED')) FOR "
              "SHARE",
              id, caller.id());
          if (held.empty() || held[0][1].as<int>() != v1::POST_CLAIM_STATUS_APPROVED) {
            return Refuse(absl::StatusCode::kFailedPrecondition,
                          v1::ACTIVITY_ERROR_REASON_CLAIM_NOT_APPROVED,
                          absl::StrCat("you do not hold post ", id,
                                       held.empty() ? " (no claim)" : " (claim still pending)"));
          }
          const std::string claim_id = held[0][0].as<std::string>();
          // One rider's shifts are logged one at a time, so two overlapping ones cannot both pass.
          tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                         absl::StrCat("duty-shift:", caller.id()));
          pqxx::result overlap = tx.exec_params(
              "SELECT shift_id, post_id FROM duty_shifts WHERE rider_id = $1 AND status IN "
              "(duty_shift_status('SUBMITTED'), duty_shift_status('CONFIRMED')) "
              "AND start_at < from_us($3::bigint) AND end_at > from_us($2::bigint) "
              "ORDER BY start_at LIMIT 1",
              caller.id(), start, end);
          if (!overlap.empty()) {
            return Refuse(
                absl::StatusCode::kAlreadyExists, v1::ACTIVITY_ERROR_REASON_SHIFT_OVERLAP,
                absl::StrCat("the shift overlaps your shift ", overlap[0][0].as<std::string>(),
                             " on post ", overlap[0][1].as<std::string>()));
          }
          const std::string shift_id = NewId("shift");
          std::vector<std::string> refs(req->attachment_refs().begin(),
                                        req->attachment_refs().end());
          const bool located = req->has_location();
          tx.exec_params(
              "INSERT INTO duty_shifts (shift_id, post_id, claim_id, rider_id, start_at, end_at, "
              "summary, latitude, longitude, attachment_refs, status, created_at) VALUES ($1, $2, "
              "$3, $4, from_us($5::bigint), from_us($6::bigint), $7, "
              "CASE WHEN $8 THEN $9::double precision END, "
              "CASE WHEN $8 THEN $10::double precision END, $11::text[], "
              "duty_shift_status('SUBMITTED'), "
              "from_us($12::bigint))",
              shift_id, id, claim_id, caller.id(), start, end, req->summary(), located,
              req->location().latitude(), req->location().longitude(), pg::TextArray(refs),
              Us(caller.now));
          *resp->mutable_shift() = *LoadShift(tx, id, shift_id, false, false);
          return absl::OkStatus();
        });
  });
}

grpc::Status ActivityServiceImpl::ConfirmDutyShift(grpc::ServerContext* ctx,
                                                   const v1::ConfirmDutyShiftRequest* req,
                                                   v1::ConfirmDutyShiftResponse* resp) {
  return Handle(ctx, "ConfirmDutyShift", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = CheckShiftIds(req->post_id(), req->shift_id()); !s.ok()) return s;
    // The rider's home community (where the award counts and whose caps apply) is asked of
    // identity before the transaction; the rider of a shift never changes.
    std::string rider;
    absl::Status read = InReadTx("read shift", [&](pqxx::transaction_base& tx) {
      pqxx::result r =
          tx.exec_params("SELECT rider_id FROM duty_shifts WHERE post_id = $1 AND shift_id = $2",
                         req->post_id(), req->shift_id());
      if (!r.empty()) rider = r[0][0].as<std::string>();
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
    common::v1::OrgPath home;
    if (!rider.empty() && rider != caller.id()) {
      absl::StatusOr<std::vector<RiderInfo>> riders = directory_->Riders({rider});
      if (!riders.ok() && riders.status().code() != absl::StatusCode::kNotFound) {
        return riders.status();
      }
      if (riders.ok() && !riders->empty()) home = (*riders)[0].home;
    }
    bool confirmed_now = false;
    absl::Status done = InTx("confirm duty shift", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::Post> post = LoadPost(tx, req->post_id(), false);
      if (!post.ok()) return post.status();
      if (absl::Status s = CheckShiftScope(caller, *post); !s.ok()) return s;
      std::optional<v1::DutyShift> shift =
          LoadShift(tx, post->post_id(), req->shift_id(), true, true);
      if (!shift) return NoSuchShift(post->post_id(), req->shift_id());
      if (shift->rider_id() == caller.id()) {
        return Refuse(absl::StatusCode::kPermissionDenied,
                      v1::ACTIVITY_ERROR_REASON_SELF_CONFIRMATION,
                      "staff cannot confirm their own shift");
      }
      if (shift->status() == v1::DUTY_SHIFT_STATUS_CONFIRMED) {
        *resp->mutable_shift() = *std::move(shift);
        return absl::OkStatus();
      }
      if (shift->status() != v1::DUTY_SHIFT_STATUS_SUBMITTED) {
        return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_STATE,
                      absl::StrCat("shift ", shift->shift_id(), " was rejected"));
      }
      tx.exec_params(
          "UPDATE duty_shifts SET status = duty_shift_status('CONFIRMED'), reviewed_by = $2, "
          "reviewed_at = from_us($3::bigint) "
          "WHERE shift_id = $1",
          shift->shift_id(), caller.id(), Us(caller.now));
      // Priced where the duty was done; counted (and capped) where the rider lives, or where the
      // duty was done for a rider checked in nowhere.
      const RuleValue price =
          ResolvedRules::Read(tx, post->org_path()).PostShiftPoints(post->kind());
      const common::v1::OrgPath rider_path = home.community_id().empty() ? post->org_path() : home;
      absl::StatusOr<v1::Award> award =
          CreateAward(tx,
                      AwardSource{.kind = v1::AWARD_SOURCE_KIND_POST_SHIFT,
                                  .source_id = shift->shift_id(),
                                  .rider_id = shift->rider_id(),
                                  .rule = price,
                                  .verified_by = caller.id(),
                                  .occur = TimeOf(shift->start_time()),
                                  .reason = post->title(),
                                  .rider_path = rider_path},
                      ResolvedRules::Read(tx, rider_path), caller.now);
      if (!award.ok()) return award.status();
      *resp->mutable_shift() = *LoadShift(tx, post->post_id(), shift->shift_id(), false, true);
      confirmed_now = true;
      return absl::OkStatus();
    });
    if (done.ok() && confirmed_now) NudgeRelay();
    return done;
  });
}

grpc::Status ActivityServiceImpl::RejectDutyShift(grpc::ServerContext* ctx,
                                                  const v1::RejectDutyShiftRequest* req,
                                                  v1::RejectDutyShiftResponse* resp) {
  return Handle(ctx, "RejectDutyShift", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = CheckShiftIds(req->post_id(), req->shift_id()); !s.ok()) return s;
    if (absl::Status s = text::CheckText(
            req->reason(), "reason", {.max = 500, .required = true, .lines = text::Lines::kMany});
        !s.ok())
      return s;
    return InTx("reject duty shift", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::Post> post = LoadPost(tx, req->post_id(), false);
      if (!post.ok()) return post.status();
      if (absl::Status s = CheckShiftScope(caller, *post); !s.ok()) return s;
      std::optional<v1::DutyShift> shift =
          LoadShift(tx, post->post_id(), req->shift_id(), true, true);
      if (!shift) return NoSuchShift(post->post_id(), req->shift_id());
      if (shift->rider_id() == caller.id()) {
        return Refuse(absl::StatusCode::kPermissionDenied,
                      v1::ACTIVITY_ERROR_REASON_SELF_CONFIRMATION,
                      "staff cannot review their own shift");
      }
      if (shift->status() == v1::DUTY_SHIFT_STATUS_REJECTED) {
        *resp->mutable_shift() = *std::move(shift);
        return absl::OkStatus();
      }
      if (shift->status() != v1::DUTY_SHIFT_STATUS_SUBMITTED) {
        return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_STATE,
                      absl::StrCat("shift ", shift->shift_id(),
                                   " is confirmed; correct its award with a ledger reversal "
                                   "instead"));
      }
      tx.exec_params(
          "UPDATE duty_shifts SET status = duty_shift_status('REJECTED'), reject_reason = $2, "
          "reviewed_by = $3, "
          "reviewed_at = from_us($4::bigint) WHERE shift_id = $1",
          shift->shift_id(), req->reason(), caller.id(), Us(caller.now));
      *resp->mutable_shift() = *LoadShift(tx, post->post_id(), shift->shift_id(), false, true);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ListDutyShifts(grpc::ServerContext* ctx,
                                                 const v1::ListDutyShiftsRequest* req,
                                                 v1::ListDutyShiftsResponse* resp) {
  return Handle(ctx, "ListDutyShifts", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<pg::Paging> paging = pg::StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    if (req->post_id().empty()) return absl::InvalidArgumentError("post_id: is required");
    const bool staff = caller.is_staff();
    const std::string rider = staff ? req->rider_id() : caller.id();
    const bool any_post = req->post_id() == "-";
    if (any_post && req->org_id().empty() && rider.empty()) {
      return absl::InvalidArgumentError("org_id or rider_id: is required when post_id is \"-\"");
    }
    if (!v1::DutyShiftStatus_IsValid(req->status())) {
      return absl::InvalidArgumentError("status: is unknown");
    }
    // Unset bounds: the epoch and the end of year 9999 (both within PostgreSQL's timestamps).
    int64_t from = 0, to = kEndOfTime;
    if (req->has_time_range()) {
      if (req->time_range().has_start_time()) from = Us(TimeOf(req->time_range().start_time()));
      if (req->time_range().has_end_time()) to = Us(TimeOf(req->time_range().end_time()));
      if (from > to) return absl::InvalidArgumentError("time_range: start_time is after end_time");
    }
    absl::StatusOr<std::optional<OrgInfo>> org =
        PostListingOrg(*directory_, caller, any_post, req->org_id());
    if (!org.ok()) return org.status();
    return InReadTx("list duty shifts", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<PostListingFilter> filter =
          PostListingWhere(tx, caller, req->post_id(), *org, "s.post_id");
      if (!filter.ok()) return filter.status();
      pqxx::result rows = tx.exec_params(
          absl::StrCat(kShiftSelect, " WHERE ", filter->where,
                       " AND ($2 = '' OR s.rider_id = $2) AND ($3 = 0 OR s.status = $3)"
                       " AND ($4 OR p.district_id = ANY($5::text[]) OR"
                       " p.street_id = ANY($5::text[]) OR p.community_id = ANY($5::text[]))"
                       " AND s.start_at >= from_us($6::bigint) AND s.start_at < from_us($7::bigint)"
                       " AND ($8::bigint = 0 OR (us(s.start_at), s.shift_id) < ($8::bigint, $9))"
                       " ORDER BY s.start_at DESC, s.shift_id DESC LIMIT $10"),
          filter->first_param, rider, static_cast<int>(req->status()), !filter->scope.has_value(),
          pg::TextArray(filter->scope.value_or(std::vector<std::string>{})), from, to,
          paging->after_us(), paging->after_id(), paging->size + 1);
      resp->set_next_page_token(pg::FillPage(rows, *paging, 8, [&](const pqxx::row& row) {
        FillShift(tx, row, staff, resp->add_shifts());
      }));
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::activity
