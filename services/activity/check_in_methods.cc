// At the activity: the rotating code on the staff device, riders checking in with it (or staff
// checking them in), and staff confirming attendance — which writes each rider's award and its
// outbox row in the same transaction. The rules are check_in_rules.h's and attendance_rules.h's;
// the SQL is PgAttendanceStore's.
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/text.h"
#include "common/status/status_macros.h"
#include "services/activity/activity_records.h"
#include "services/activity/activity_service.h"
#include "services/activity/attendance_rules.h"
#include "services/activity/awards.h"
#include "services/activity/check_in_code.h"
#include "services/activity/check_in_rules.h"
#include "services/activity/directory.h"
#include "services/activity/points_rules.h"

namespace civicpoints::activity {
namespace {

constexpr int kWrongCodesAllowed = 5;
constexpr absl::Duration kWrongCodeWindow = absl::Minutes(10);
constexpr int kMaxAccuracyMeters = 5000;

// Check-in is open during [start - lead, end) of an activity that is not cancelled.
absl::Status CheckCheckInOpen(const ActivityRow& a, absl::Time now) {
  return CheckCheckInWindow(a.proto.activity_id(), a.cancelled, a.check_in_open, a.end, now);
}

}  // namespace

grpc::Status ActivityServiceImpl::GetCheckInCode(grpc::ServerContext* ctx,
                                                 const v1::GetCheckInCodeRequest* req,
                                                 v1::GetCheckInCodeResponse* resp) {
  return Handle(ctx, "GetCheckInCode", [&](const Caller& caller) -> absl::Status {
    return InReadTx("get check-in code", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<ActivityRow> a = LoadActivity(tx, req->activity_id(), false, caller.now);
      if (!a.ok()) return a.status();
      if (absl::Status s = CheckCovers(caller.who(), a->proto.org_path(),
                                       absl::StrCat("activity ", a->proto.activity_id()));
          !s.ok()) {
        return s;
      }
      if (absl::Status s = CheckCheckInOpen(*a, caller.now); !s.ok()) return s;
      const int period = a->proto.check_in_code_period_seconds();
      const int64_t index = CodePeriod(caller.now, period);
      resp->set_code(CheckInCode(a->code_secret, index));
      resp->set_qr_payload(absl::StrCat("cpcheckin:", a->proto.activity_id(), ":", resp->code()));
      SetTime(resp->mutable_valid_from(), index * period * 1000000);
      SetTime(resp->mutable_rotate_time(), (index + 1) * period * 1000000);
      SetTime(resp->mutable_accept_until(), ((index + 1) * period + kCodeGraceSeconds) * 1000000);
      resp->set_period_seconds(period);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::CheckInToActivity(grpc::ServerContext* ctx,
                                                    const v1::CheckInToActivityRequest* req,
                                                    v1::CheckInToActivityResponse* resp) {
  return Handle(ctx, "CheckInToActivity", [&](const Caller& caller) -> absl::Status {
    if (req->activity_id().empty()) return absl::InvalidArgumentError("activity_id: is required");
    if (!req->has_location()) {
      return Refuse(absl::StatusCode::kInvalidArgument,
                    v1::ACTIVITY_ERROR_REASON_COORDINATES_OUT_OF_RANGE,
                    "location: is required (the phone's position)");
    }
    common::v1::GeoPoint here = req->location();
    if (absl::Status s = NormalizePoint(&here, "location"); !s.ok()) return s;
    if (req->location_accuracy_meters() < 0 ||
        req->location_accuracy_meters() > kMaxAccuracyMeters) {
      return absl::InvalidArgumentError("location_accuracy_meters: must be 0–5000");
    }
    if (req->code().size() != 6 ||
        req->code().find_first_not_of("0123456789") != std::string::npos) {
      return absl::InvalidArgumentError("code: must be the 6 digits shown on the staff device");
    }
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    // One transaction, one commit: the rider's attempts at this activity take their turn under
    // the throttle bucket's lock, so the count read next is exact and parallel guesses cannot
    // all slip under the limit; a wrong code is counted in the commit that answers it, a right
    // one counts nothing.
    const pg::Throttle::Limit code_limit{
        .bucket = absl::StrCat("check-in-code:", req->activity_id(), ":", caller.id()),
        .limit = kWrongCodesAllowed,
        .window = kWrongCodeWindow};
    return Idempotent(
        caller, "CheckInToActivity", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          pg::Throttle::LockIn(tx, code_limit.bucket);
          absl::StatusOr<CheckInRead> read =
              LoadForCheckIn(tx, req->activity_id(), caller.id(), code_limit, caller.now);
          if (!read.ok()) return read.status();
          if (read->code_wait > absl::ZeroDuration()) return throttle_.Refused(read->code_wait);
          const ActivityRow* a = &read->activity;
          const std::optional<v1::Enrolment>& e = read->enrolment;
          const std::string& id = a->proto.activity_id();
          if (absl::Status s = CheckCheckInOpen(*a, caller.now); !s.ok()) return s;
          RETURN_IF_ERROR(CheckRiderMayCheckIn(id, e ? std::optional(e->status()) : std::nullopt));
          switch (JudgeCode(req->code(), caller.now, a->proto.check_in_code_period_seconds(),
                            [&](int64_t index) { return CheckInCode(a->code_secret, index); })) {
            case CodeVerdict::kMatch:
              break;
            case CodeVerdict::kRotatedAway:
              // A code from the last few minutes was seen on the device: stale, not mistyped.
              return Refuse(absl::StatusCode::kFailedPrecondition,
                            v1::ACTIVITY_ERROR_REASON_CHECK_IN_CODE_EXPIRED,
                            "code: has rotated away; enter the code the device shows now");
            case CodeVerdict::kWrong:
              pg::Throttle::CountIn(tx, code_limit.bucket, caller.now);
              return pg::CommitAndRefuse(Refuse(
                  absl::StatusCode::kInvalidArgument, v1::ACTIVITY_ERROR_REASON_CHECK_IN_CODE_WRONG,
                  "code: does not match the code on the staff device"));
          }
          const double distance =
              DistanceMeters(here.latitude(), here.longitude(), a->place_lat, a->place_lon);
          RETURN_IF_ERROR(CheckPosition(req->location_accuracy_meters(), distance, a->radius(),
                                        a->proto.place_name()));
          *resp->mutable_enrolment() =
              attendance_.MarkCheckedIn(tx, id, caller.id(), v1::CHECK_IN_METHOD_CODE, caller.id(),
                                        static_cast<int>(distance), false);
          resp->set_distance_meters(static_cast<int32_t>(distance));
          resp->set_geofence_radius_meters(a->radius());
          return absl::OkStatus();
        });
  });
}

grpc::Status ActivityServiceImpl::CheckInRider(grpc::ServerContext* ctx,
                                               const v1::CheckInRiderRequest* req,
                                               v1::CheckInRiderResponse* resp) {
  return Handle(ctx, "CheckInRider", [&](const Caller& caller) -> absl::Status {
    if (req->activity_id().empty()) return absl::InvalidArgumentError("activity_id: is required");
    if (req->rider_id().empty()) return absl::InvalidArgumentError("rider_id: is required");
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    if (req->rider_id() == caller.id()) {
      return Refuse(absl::StatusCode::kPermissionDenied,
                    v1::ACTIVITY_ERROR_REASON_SELF_CONFIRMATION,
                    "staff cannot check themselves in; ask another staff member");
    }
    absl::StatusOr<std::vector<RiderInfo>> rider = directory_->Riders({req->rider_id()});
    if (!rider.ok()) return rider.status();
    if (rider->empty() || !(*rider)[0].is_rider) {
      return absl::NotFoundError(absl::StrCat("rider_id: '", req->rider_id(), "' is not a rider"));
    }
    const common::v1::OrgPath home = (*rider)[0].home;
    return Idempotent(
        caller, "CheckInRider", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          absl::StatusOr<ActivityRow> a = LoadActivity(tx, req->activity_id(), true, caller.now);
          if (!a.ok()) return a.status();
          const std::string& id = a->proto.activity_id();
          if (absl::Status s =
                  CheckCovers(caller.who(), a->proto.org_path(), absl::StrCat("activity ", id));
              !s.ok()) {
            return s;
          }
          if (absl::Status s = CheckCheckInOpen(*a, caller.now); !s.ok()) return s;
          std::optional<v1::Enrolment> e = LoadEnrolment(tx, id, req->rider_id(), true, true);
          const bool enrolled = e && e->status() != v1::ENROLMENT_STATUS_WITHDRAWN;
          if (enrolled && e->status() != v1::ENROLMENT_STATUS_ENROLLED) {
            return Refuse(absl::StatusCode::kAlreadyExists,
                          v1::ACTIVITY_ERROR_REASON_ALREADY_CHECKED_IN,
                          absl::StrCat("rider ", req->rider_id(), " is already checked in (",
                                       v1::EnrolmentStatus_Name(e->status()), ")"));
          }
          if (!enrolled) {
            if (!req->enrol_if_needed()) {
              return Refuse(absl::StatusCode::kFailedPrecondition,
                            v1::ACTIVITY_ERROR_REASON_NOT_ENROLLED,
                            absl::StrCat("rider ", req->rider_id(), " is not enrolled in activity ",
                                         id, "; set enrol_if_needed for a walk-in"));
            }
            if (absl::Status s = CheckAudience(*a, home); !s.ok()) return s;
            if (a->proto.enrolled_count() >= a->proto.capacity()) {
              return Refuse(absl::StatusCode::kResourceExhausted,
                            v1::ACTIVITY_ERROR_REASON_ACTIVITY_FULL,
                            absl::StrCat("activity ", id, " is full"));
            }
            attendance_.Enrol(tx, id, req->rider_id());
          }
          *resp->mutable_enrolment() = attendance_.MarkCheckedIn(
              tx, id, req->rider_id(), v1::CHECK_IN_METHOD_STAFF, caller.id(), std::nullopt, true);
          return absl::OkStatus();
        });
  });
}

grpc::Status ActivityServiceImpl::ConfirmAttendance(grpc::ServerContext* ctx,
                                                    const v1::ConfirmAttendanceRequest* req,
                                                    v1::ConfirmAttendanceResponse* resp) {
  return Handle(ctx, "ConfirmAttendance", [&](const Caller& caller) -> absl::Status {
    ASSIGN_OR_RETURN(const std::vector<std::string> named, CheckConfirmRequest(*req));
    // Whose home communities to ask of identity, outside the transaction; the transaction
    // re-checks every state under the activity's lock.
    std::vector<std::string> riders = named;
    if (req->all_checked_in()) {
      RETURN_IF_ERROR(InReadTx("read attendance", [&](pqxx::transaction_base& tx) {
        riders = attendance_.CheckedIn(tx, req->activity_id(), /*lock=*/false);
        return absl::OkStatus();
      }));
    }
    std::erase(riders, caller.id());
    ASSIGN_OR_RETURN(const RiderHomes homes, HomesOf(riders));
    RETURN_IF_ERROR(InTx("confirm attendance", [&](pqxx::transaction_base& tx) {
      return ConfirmIn(tx, caller, *req, named, homes, resp);
    }));
    if (resp->confirmed_size() > 0) NudgeRelay();
    return absl::OkStatus();
  });
}

grpc::Status ActivityServiceImpl::RejectAttendance(grpc::ServerContext* ctx,
                                                   const v1::RejectAttendanceRequest* req,
                                                   v1::RejectAttendanceResponse* resp) {
  return Handle(ctx, "RejectAttendance", [&](const Caller& caller) -> absl::Status {
    if (req->activity_id().empty()) return absl::InvalidArgumentError("activity_id: is required");
    if (req->rider_id().empty()) return absl::InvalidArgumentError("rider_id: is required");
    if (absl::Status s = text::CheckText(
            req->reason(), "reason", {.max = 500, .required = true, .lines = text::Lines::kMany});
        !s.ok())
      return s;
    return InTx("reject attendance", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<ActivityRow> a = LoadActivity(tx, req->activity_id(), true, caller.now);
      if (!a.ok()) return a.status();
      const std::string& id = a->proto.activity_id();
      if (absl::Status s =
              CheckCovers(caller.who(), a->proto.org_path(), absl::StrCat("activity ", id));
          !s.ok()) {
        return s;
      }
      if (req->rider_id() == caller.id()) {
        return Refuse(absl::StatusCode::kPermissionDenied,
                      v1::ACTIVITY_ERROR_REASON_SELF_CONFIRMATION,
                      "staff cannot review their own attendance");
      }
      std::optional<v1::Enrolment> e = LoadEnrolment(tx, id, req->rider_id(), true, true);
      if (!e) {
        return absl::NotFoundError(
            absl::StrCat("rider ", req->rider_id(), " never enrolled in activity ", id));
      }
      if (e->status() == v1::ENROLMENT_STATUS_ATTENDANCE_REJECTED) {
        *resp->mutable_enrolment() = *std::move(e);
        return absl::OkStatus();
      }
      if (e->status() != v1::ENROLMENT_STATUS_CHECKED_IN) {
        return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_STATE,
                      e->status() == v1::ENROLMENT_STATUS_CONFIRMED
                          ? std::string("attendance is confirmed; correct the award with a ledger "
                                        "reversal instead")
                          : absl::StrCat("rider ", req->rider_id(), " is not checked in (",
                                         v1::EnrolmentStatus_Name(e->status()), ")"));
      }
      // The rider keeps the seat (they came); only the award is refused.
      attendance_.MarkRejected(tx, id, req->rider_id(), caller.id(), req->reason());
      *resp->mutable_enrolment() = *LoadEnrolment(tx, id, req->rider_id(), false, true);
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::activity
