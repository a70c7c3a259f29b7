// Duty shifts: a rider on a post logs a stretch of duty; staff confirm it (writing its one award
// and outbox row in the same transaction, duty_shifts.cc) or reject it. The SQL is PgShiftStore's
// and post_records.h's.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "common/pg/paging.h"
#include "common/pg/sql_values.h"
#include "common/status/status_macros.h"
#include "services/activity/activity_service.h"
#include "services/activity/directory.h"
#include "services/activity/post_records.h"

namespace civicpoints::activity {

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
    return Idempotent(
        caller, "LogDutyShift", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          ASSIGN_OR_RETURN(const v1::Post post, LoadPost(tx, req->post_id(), false));
          const std::string& id = post.post_id();
          // Share-locked: a withdrawal of the claim waits for this shift, or this sees it gone.
          const std::optional<LiveClaim> claim =
              posts_.LiveClaimOf(tx, id, caller.id(), /*share_lock=*/true);
          if (!claim || claim->status != v1::POST_CLAIM_STATUS_APPROVED) {
            return Refuse(absl::StatusCode::kFailedPrecondition,
                          v1::ACTIVITY_ERROR_REASON_CLAIM_NOT_APPROVED,
                          absl::StrCat("you do not hold post ", id,
                                       claim ? " (claim still pending)" : " (no claim)"));
          }
          const absl::Time start = TimeOf(req->start_time()), end = TimeOf(req->end_time());
          shifts_.LockRiderShifts(tx, caller.id());
          if (auto overlap = shifts_.Overlapping(tx, caller.id(), start, end)) {
            return Refuse(absl::StatusCode::kAlreadyExists, v1::ACTIVITY_ERROR_REASON_SHIFT_OVERLAP,
                          absl::StrCat("the shift overlaps your shift ", overlap->first,
                                       " on post ", overlap->second));
          }
          PgShiftStore::NewShift shift{
              .shift_id = NewId("shift"),
              .post_id = id,
              .claim_id = claim->claim_id,
              .rider_id = caller.id(),
              .start = start,
              .end = end,
              .created = caller.now,
              .summary = req->summary(),
              .attachment_refs = {req->attachment_refs().begin(), req->attachment_refs().end()}};
          if (req->has_location()) {
            common::v1::GeoPoint at = req->location();
            RETURN_IF_ERROR(NormalizePoint(&at, "location"));
            shift.location = {at.latitude(), at.longitude()};
          }
          shifts_.Insert(tx, shift);
          *resp->mutable_shift() = *LoadShift(tx, id, shift.shift_id, false, false);
          return absl::OkStatus();
        });
  });
}

grpc::Status ActivityServiceImpl::ConfirmDutyShift(grpc::ServerContext* ctx,
                                                   const v1::ConfirmDutyShiftRequest* req,
                                                   v1::ConfirmDutyShiftResponse* resp) {
  return Handle(ctx, "ConfirmDutyShift", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckShiftIds(req->post_id(), req->shift_id()));
    // Where the award counts and whose caps apply is asked of identity before the transaction;
    // the rider of a shift never changes.
    ASSIGN_OR_RETURN(common::v1::OrgPath home,
                     HomeOfShiftRider(caller, req->post_id(), req->shift_id()));
    const ShiftReview review{.post_id = req->post_id(),
                             .shift_id = req->shift_id(),
                             .outcome = v1::DUTY_SHIFT_STATUS_CONFIRMED,
                             .rider_home = std::move(home)};
    bool confirmed_now = false;
    absl::Status done = InTx("confirm duty shift", [&](pqxx::transaction_base& tx) {
      return ReviewShift(tx, caller, review, resp->mutable_shift(), &confirmed_now);
    });
    if (done.ok() && confirmed_now) NudgeRelay();
    return done;
  });
}

grpc::Status ActivityServiceImpl::RejectDutyShift(grpc::ServerContext* ctx,
                                                  const v1::RejectDutyShiftRequest* req,
                                                  v1::RejectDutyShiftResponse* resp) {
  return Handle(ctx, "RejectDutyShift", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckShiftIds(req->post_id(), req->shift_id()));
    RETURN_IF_ERROR(text::CheckText(req->reason(), "reason",
                                    {.max = 500, .required = true, .lines = text::Lines::kMany}));
    const ShiftReview review{.post_id = req->post_id(),
                             .shift_id = req->shift_id(),
                             .outcome = v1::DUTY_SHIFT_STATUS_REJECTED,
                             .reject_reason = req->reason()};
    bool rejected_now = false;
    return InTx("reject duty shift", [&](pqxx::transaction_base& tx) {
      return ReviewShift(tx, caller, review, resp->mutable_shift(), &rejected_now);
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
