// Community check-in (社区报到): codes shown at stations, check-in by code or by approved
// request, one home community per rider with its history.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/base/text.h"
#include "common/pg/sql_values.h"
#include "common/status/refusal.h"
#include "services/identity/identity_events.h"
#include "services/identity/identity_service.h"
#include "services/identity/input_rules.h"
#include "services/identity/records.h"
#include "services/identity/service_support.h"

namespace civicpoints::identity {
namespace {

// A replaced code keeps working this long, so riders mid-scan are not turned away.
constexpr absl::Duration kReplacedCodeGrace = absl::Minutes(10);
constexpr int kWrongCodesPerRider = 10;
constexpr absl::Duration kWrongCodeWindow = absl::Hours(1);

absl::StatusOr<OrgRow> LoadCommunity(pqxx::transaction_base& tx, const std::string& id,
                                     const char* field, RowLock lock = RowLock::kNone) {
  absl::StatusOr<OrgRow> org = LoadOrg(tx, id, field, lock);
  if (!org.ok()) return org.status();
  if (org->level != common::v1::ORG_LEVEL_COMMUNITY) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", id, "' is not a community"));
  }
  return org;
}

absl::Status FailIfRetired(const OrgRow& org) {
  if (!org.retired) return absl::OkStatus();
  return Refuse(absl::StatusCode::kFailedPrecondition, v1::IDENTITY_ERROR_REASON_ORG_NODE_RETIRED,
                absl::StrCat("community ", org.org_id, " (", org.name, ") is retired"));
}

void FillCode(const pqxx::row& row, v1::CheckInCode* code) {
  code->set_community_id(row[0].as<std::string>());
  code->set_code(row[1].as<std::string>());
  SetTime(code->mutable_issue_time(), row[2]);
  if (!row[3].is_null()) SetTime(code->mutable_expire_time(), row[3]);
}

// A community the caller's grants cover and that is not retired (for its check-in code).
absl::StatusOr<OrgRow> LoadOpenCommunity(pqxx::transaction_base& tx, const auth::Principal& who,
                                         const std::string& id) {
  absl::StatusOr<OrgRow> community = LoadCommunity(tx, id, "org_id");
  if (!community.ok()) return community.status();
  if (absl::Status s = CheckCoversOrg(who, *community, "community " + community->org_id); !s.ok()) {
    return s;
  }
  if (absl::Status s = FailIfRetired(*community); !s.ok()) return s;
  return community;
}

constexpr char kCodeColumns[] = "community_id, code, us(issued_at), us(expires_at)";

bool OnlyRider(const auth::Principal& who) {
  return std::all_of(who.roles.begin(), who.roles.end(),
                     [](const auth::RoleGrant& g) { return g.role == common::v1::ROLE_RIDER; });
}

}  // namespace

absl::StatusOr<std::string> IdentityServiceImpl::CommunityForCode(pqxx::transaction_base& tx,
                                                                  const std::string& code,
                                                                  absl::Time now) {
  pqxx::result r = tx.exec_params(
      "SELECT community_id FROM check_in_codes WHERE code = $1 AND "
      "(expires_at IS NULL OR expires_at > from_us($2)) AND "
      "(replaced_at IS NULL OR replaced_at > from_us($3))",
      code, Us(now), Us(now - kReplacedCodeGrace));
  if (r.empty()) {
    return absl::NotFoundError("code: no community has this check-in code (or it has expired)");
  }
  return r[0][0].as<std::string>();
}

absl::Status IdentityServiceImpl::CheckInNow(
    pqxx::transaction_base& tx, const std::string& person_id, const std::string& community_id,
    v1::CheckInMethod method, const std::string& existing_check_in_id,
    const std::string& decided_by, absl::Time now, v1::CheckIn* check_in, v1::CheckIn* ended) {
  // The rider's row serialises their check-ins: one home community at a time.
  tx.exec_params("SELECT 1 FROM people WHERE person_id = $1 FOR UPDATE", person_id);
  absl::StatusOr<OrgRow> community =
      LoadCommunity(tx, community_id, "community_id", RowLock::kShare);
  if (!community.ok()) return community.status();
  if (absl::Status s = FailIfRetired(*community); !s.ok()) return s;
  pqxx::result active = tx.exec_params(
      "SELECT check_in_id, community_id FROM check_ins WHERE person_id = $1 AND status = "
      "check_in_status('ACTIVE')",
      person_id);
  if (!active.empty() && active[0][1].as<std::string>() == community_id) {
    return absl::AlreadyExistsError(
        absl::StrCat("community ", community->name, " is already the rider's home community"));
  }
  const std::string id = existing_check_in_id.empty() ? NewId("ci") : existing_check_in_id;
  if (!active.empty()) {
    tx.exec_params(
        "UPDATE check_ins SET status = check_in_status('ENDED'), ended_at = from_us($2), "
        "superseded_by = $3 "
        "WHERE check_in_id = $1",
        active[0][0].as<std::string>(), Us(now), id);
  }
  if (existing_check_in_id.empty()) {
    tx.exec_params(
        "UPDATE check_ins SET status = check_in_status('CANCELLED'), decided_at = from_us($2) "
        "WHERE "
        "person_id = $1 AND status = check_in_status('PENDING')",
        person_id, Us(now));
    tx.exec_params(
        "INSERT INTO check_ins (check_in_id, person_id, community_id, street_id, district_id, "
        "method, status, created_at, started_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, check_in_status('ACTIVE'), from_us($7), from_us($7))",
        id, person_id, community_id, community->street_id, community->district_id,
        static_cast<int>(method), Us(now));
  } else {
    tx.exec_params(
        "UPDATE check_ins SET status = check_in_status('ACTIVE'), decided_at = from_us($2), "
        "decided_by = $3, "
        "started_at = from_us($2) WHERE check_in_id = $1",
        id, Us(now), decided_by);
  }
  tx.exec_params(
      "UPDATE people SET origin_community_id = coalesce(origin_community_id, $2) "
      "WHERE person_id = $1",
      person_id, community_id);
  absl::StatusOr<v1::CheckIn> made = LoadCheckIn(tx, id);
  if (!made.ok()) return made.status();
  if (absl::Status s = RecordRiderCheckedIn(tx, person_id, id, PathOf(*community),
                                            active.empty() ? "" : active[0][1].as<std::string>());
      !s.ok()) {
    return s;
  }
  *check_in = *std::move(made);
  if (ended != nullptr && !active.empty()) {
    absl::StatusOr<v1::CheckIn> old = LoadCheckIn(tx, active[0][0].as<std::string>());
    if (!old.ok()) return old.status();
    *ended = *std::move(old);
  }
  return absl::OkStatus();
}

grpc::Status IdentityServiceImpl::GetCheckInCode(grpc::ServerContext* ctx,
                                                 const v1::GetCheckInCodeRequest* req,
                                                 v1::GetCheckInCodeResponse* resp) {
  return Handle(ctx, "GetCheckInCode", [&](const Caller& caller) -> absl::Status {
    return InTx("get check-in code", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> community = LoadOpenCommunity(tx, caller.who(), req->org_id());
      if (!community.ok()) return community.status();
      // A code past its expiry counts as replaced; the first read of a community makes its code.
      tx.exec_params(
          "UPDATE check_in_codes SET replaced_at = expires_at WHERE community_id = $1 "
          "AND replaced_at IS NULL AND expires_at <= from_us($2)",
          community->org_id, Us(caller.now));
      tx.exec_params(
          "INSERT INTO check_in_codes (code, community_id, issued_at) VALUES ($1, $2, from_us($3)) "
          "ON CONFLICT DO NOTHING",
          NewCheckInCode(), community->org_id, Us(caller.now));
      pqxx::result r = tx.exec_params(
          absl::StrCat("SELECT ", kCodeColumns,
                       " FROM check_in_codes WHERE community_id = $1 AND replaced_at IS NULL"),
          community->org_id);
      if (r.empty()) return absl::AbortedError("check-in code changed meanwhile; retry");
      FillCode(r[0], resp->mutable_code());
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::RotateCheckInCode(grpc::ServerContext* ctx,
                                                    const v1::RotateCheckInCodeRequest* req,
                                                    v1::RotateCheckInCodeResponse* resp) {
  return Handle(ctx, "RotateCheckInCode", [&](const Caller& caller) -> absl::Status {
    if (req->org_id().empty()) return absl::InvalidArgumentError("org_id: is required");
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    std::optional<absl::Time> expiry;
    if (req->has_expire_time()) {
      expiry = TimeOf(req->expire_time());
      if (*expiry <= caller.now) return absl::InvalidArgumentError("expire_time: is in the past");
      if (*expiry > caller.now + absl::Hours(24 * 366)) {
        return absl::InvalidArgumentError("expire_time: is more than a year ahead");
      }
    }
    return Idempotent(
        absl::StrCat("RotateCheckInCode:", req->org_id(), ":", caller.who().subject),
        req->idempotency_key(), *req, resp, [&](pqxx::transaction_base& tx) -> absl::Status {
          absl::StatusOr<OrgRow> community = LoadOpenCommunity(tx, caller.who(), req->org_id());
          if (!community.ok()) return community.status();
          tx.exec_params(
              "UPDATE check_in_codes SET replaced_at = from_us($2) WHERE community_id = $1 "
              "AND replaced_at IS NULL",
              community->org_id, Us(caller.now));
          pqxx::result r = tx.exec_params(
              absl::StrCat("INSERT INTO check_in_codes (code, community_id, issued_at, expires_at) "
                           "VALUES ($1, $2, from_us($3), from_us($4)) RETURNING ",
                           kCodeColumns),
              NewCheckInCode(), community->org_id, Us(caller.now),
              expiry.has_value() ? std::optional<int64_t>(Us(*expiry)) : std::nullopt);
          tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $3)",
                         caller.who().subject, "rotate_check_in_code", community->org_id);
          FillCode(r[0], resp->mutable_code());
          return absl::OkStatus();
        });
  });
}

grpc::Status IdentityServiceImpl::CheckInWithCode(grpc::ServerContext* ctx,
                                                  const v1::CheckInWithCodeRequest* req,
                                                  v1::CheckInWithCodeResponse* resp) {
  return Handle(ctx, "CheckInWithCode", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    absl::StatusOr<std::string> code = NormalizeCheckInCode(req->code(), "code");
    if (!code.ok()) return code.status();
    const std::string& me = caller.who().subject;
    const std::string bucket = "wrong-code:" + me;
    if (absl::Status s = TakeThrottle(bucket, kWrongCodesPerRider, kWrongCodeWindow, caller.now);
        !s.ok()) {
      return s;
    }
    // The QR form and the typed form are the same request.
    v1::CheckInWithCodeRequest normalized = *req;
    normalized.set_code(*code);
    absl::Status done = Idempotent(
        absl::StrCat("CheckInWithCode:", me), req->idempotency_key(), normalized, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          absl::StatusOr<std::string> community = CommunityForCode(tx, *code, caller.now);
          if (!community.ok()) return community.status();
          v1::CheckIn ended;
          absl::Status s = CheckInNow(tx, me, *community, v1::CHECK_IN_METHOD_CODE, "", "",
                                      caller.now, resp->mutable_check_in(), &ended);
          if (!ended.check_in_id().empty()) *resp->mutable_ended_check_in() = std::move(ended);
          return s;
        });
    // Only wrong codes count against the rider, and any code tried under a key already used for
    // another request: that body ran and was rolled back (pg::RunIdempotent), so its answer says
    // nothing, but a refund there would make the key a way to guess without limit.
    const bool key_reused =
        ReasonOf<v1::IdentityErrorReason>(done) == v1::IDENTITY_ERROR_REASON_IDEMPOTENCY_KEY_REUSED;
    if (done.code() != absl::StatusCode::kNotFound && !key_reused) RefundThrottle(bucket);
    return done;
  });
}

grpc::Status IdentityServiceImpl::RequestCheckIn(grpc::ServerContext* ctx,
                                                 const v1::RequestCheckInRequest* req,
                                                 v1::RequestCheckInResponse* resp) {
  return Handle(ctx, "RequestCheckIn", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    if (req->community_id().empty()) return absl::InvalidArgumentError("community_id: is required");
    if (absl::Status s = text::CheckText(req->note(), "note", {.max = 200}); !s.ok()) return s;
    const std::string& me = caller.who().subject;
    return Idempotent(
        absl::StrCat("RequestCheckIn:", me), req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          tx.exec_params("SELECT 1 FROM people WHERE person_id = $1 FOR UPDATE", me);
          absl::StatusOr<OrgRow> community =
              LoadCommunity(tx, req->community_id(), "community_id", RowLock::kShare);
          if (!community.ok()) return community.status();
          if (!tx.exec_params("SELECT 1 FROM check_ins WHERE person_id = $1 AND status = "
                              "check_in_status('ACTIVE') "
                              "AND community_id = $2",
                              me, community->org_id)
                   .empty()) {
            return absl::AlreadyExistsError(
                absl::StrCat("community ", community->name, " is already your home community"));
          }
          if (absl::Status s = FailIfRetired(*community); !s.ok()) return s;
          pqxx::result pending = tx.exec_params(
              "SELECT check_in_id FROM check_ins WHERE person_id = $1 AND status = "
              "check_in_status('PENDING')",
              me);
          if (!pending.empty()) {
            return Refuse(absl::StatusCode::kFailedPrecondition,
                          v1::IDENTITY_ERROR_REASON_CHECK_IN_EXISTS,
                          absl::StrCat("you already have a pending request (",
                                       pending[0][0].as<std::string>(), "); cancel it first"),
                          {{"check_in_id", pending[0][0].as<std::string>()}});
          }
          const std::string id = NewId("ci");
          tx.exec_params(
              "INSERT INTO check_ins (check_in_id, person_id, community_id, street_id, "
              "district_id, method, status, note, created_at) "
              "VALUES ($1, $2, $3, $4, $5, check_in_method('REQUEST'), check_in_status('PENDING'), "
              "$6, "
              "from_us($7))",
              id, me, community->org_id, community->street_id, community->district_id, req->note(),
              Us(caller.now));
          absl::StatusOr<v1::CheckIn> made = LoadCheckIn(tx, id);
          if (!made.ok()) return made.status();
          *resp->mutable_check_in() = *std::move(made);
          return absl::OkStatus();
        });
  });
}

grpc::Status IdentityServiceImpl::CancelCheckInRequest(grpc::ServerContext* ctx,
                                                       const v1::CancelCheckInRequestRequest* req,
                                                       v1::CancelCheckInRequestResponse* resp) {
  return Handle(ctx, "CancelCheckInRequest", [&](const Caller& caller) -> absl::Status {
    return InTx("cancel check-in request", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::CheckIn> c = LoadCheckIn(tx, req->check_in_id(), /*lock=*/true);
      if (!c.ok()) return c.status();
      if (c->person_id() != caller.who().subject) {
        return absl::NotFoundError(absl::StrCat("no check-in '", req->check_in_id(), "'"));
      }
      if (c->status() == v1::CHECK_IN_STATUS_PENDING) {
        tx.exec_params(
            "UPDATE check_ins SET status = check_in_status('CANCELLED'), decided_at = from_us($2) "
            "WHERE "
            "check_in_id = $1",
            c->check_in_id(), Us(caller.now));
        c = LoadCheckIn(tx, c->check_in_id());
        if (!c.ok()) return c.status();
      } else if (c->status() != v1::CHECK_IN_STATUS_CANCELLED) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_CHECK_IN_NOT_PENDING,
                      absl::StrCat("check-in ", c->check_in_id(), " was already ",
                                   v1::CheckInStatus_Name(c->status())));
      }
      *resp->mutable_check_in() = *std::move(c);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ApproveCheckIn(grpc::ServerContext* ctx,
                                                 const v1::ApproveCheckInRequest* req,
                                                 v1::ApproveCheckInResponse* resp) {
  return Handle(ctx, "ApproveCheckIn", [&](const Caller& caller) -> absl::Status {
    return InTx("approve check-in", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::CheckIn> c = LoadCheckIn(tx, req->check_in_id());
      if (!c.ok()) return c.status();
      absl::StatusOr<OrgRow> community = LoadOrg(tx, c->community_id(), "community_id");
      if (!community.ok()) return community.status();
      if (absl::Status s =
              CheckCoversOrg(caller.who(), *community, "community " + community->org_id);
          !s.ok()) {
        return s;
      }
      // Lock in the order CheckInNow does (person, then check-ins) before reading the status.
      tx.exec_params("SELECT 1 FROM people WHERE person_id = $1 FOR UPDATE", c->person_id());
      c = LoadCheckIn(tx, req->check_in_id(), /*lock=*/true);
      if (!c.ok()) return c.status();
      // Approved before (and perhaps since ended by a later move): unchanged.
      if (c->status() == v1::CHECK_IN_STATUS_ACTIVE ||
          (c->status() == v1::CHECK_IN_STATUS_ENDED &&
           c->method() == v1::CHECK_IN_METHOD_REQUEST)) {
        *resp->mutable_check_in() = *std::move(c);
        return absl::OkStatus();
      }
      if (c->status() != v1::CHECK_IN_STATUS_PENDING) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_CHECK_IN_NOT_PENDING,
                      absl::StrCat("check-in ", c->check_in_id(), " is ",
                                   v1::CheckInStatus_Name(c->status()), ", not pending"));
      }
      v1::CheckIn ended;
      absl::Status done = CheckInNow(
          tx, c->person_id(), c->community_id(), v1::CHECK_IN_METHOD_REQUEST, c->check_in_id(),
          caller.who().subject, caller.now, resp->mutable_check_in(), &ended);
      if (!ended.check_in_id().empty()) *resp->mutable_ended_check_in() = std::move(ended);
      if (done.code() == absl::StatusCode::kAlreadyExists) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_CHECK_IN_EXISTS,
                      absl::StrCat("the rider is already checked in at ", community->name,
                                   "; reject or let them cancel the request"));
      }
      return done;
    });
  });
}

grpc::Status IdentityServiceImpl::RejectCheckIn(grpc::ServerContext* ctx,
                                                const v1::RejectCheckInRequest* req,
                                                v1::RejectCheckInResponse* resp) {
  return Handle(ctx, "RejectCheckIn", [&](const Caller& caller) -> absl::Status {
    if (req->check_in_id().empty()) return absl::InvalidArgumentError("check_in_id: is required");
    if (absl::Status s = text::CheckText(req->reason(), "reason", {.max = 200, .required = true});
        !s.ok())
      return s;
    return InTx("reject check-in", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::CheckIn> c = LoadCheckIn(tx, req->check_in_id(), /*lock=*/true);
      if (!c.ok()) return c.status();
      absl::StatusOr<OrgRow> community = LoadOrg(tx, c->community_id(), "community_id");
      if (!community.ok()) return community.status();
      if (absl::Status s =
              CheckCoversOrg(caller.who(), *community, "community " + community->org_id);
          !s.ok()) {
        return s;
      }
      if (c->status() == v1::CHECK_IN_STATUS_PENDING) {
        tx.exec_params(
            "UPDATE check_ins SET status = check_in_status('REJECTED'), decided_at = from_us($2), "
            "decided_by = $3, "
            "reject_reason = $4 WHERE check_in_id = $1",
            c->check_in_id(), Us(caller.now), caller.who().subject, req->reason());
        c = LoadCheckIn(tx, c->check_in_id());
        if (!c.ok()) return c.status();
      } else if (c->status() != v1::CHECK_IN_STATUS_REJECTED) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_CHECK_IN_NOT_PENDING,
                      absl::StrCat("check-in ", c->check_in_id(), " is ",
                                   v1::CheckInStatus_Name(c->status()), ", not pending"));
      }
      *resp->mutable_check_in() = *std::move(c);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::GetCheckIn(grpc::ServerContext* ctx,
                                             const v1::GetCheckInRequest* req,
                                             v1::GetCheckInResponse* resp) {
  return Handle(ctx, "GetCheckIn", [&](const Caller& caller) -> absl::Status {
    return InReadTx("get check-in", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::CheckIn> c = LoadCheckIn(tx, req->check_in_id());
      if (!c.ok()) return c.status();
      const auth::Principal& who = caller.who();
      if (c->person_id() != who.subject) {
        if (OnlyRider(who)) {
          return absl::NotFoundError(absl::StrCat("no check-in '", req->check_in_id(), "'"));
        }
        absl::StatusOr<OrgRow> community = LoadOrg(tx, c->community_id(), "community_id");
        if (!community.ok()) return community.status();
        if (absl::Status s = CheckCoversOrg(who, *community, "check-in " + c->check_in_id());
            !s.ok()) {
          return s;
        }
      }
      *resp->mutable_check_in() = *std::move(c);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ListCheckIns(grpc::ServerContext* ctx,
                                               const v1::ListCheckInsRequest* req,
                                               v1::ListCheckInsResponse* resp) {
  return Handle(ctx, "ListCheckIns", [&](const Caller& caller) -> absl::Status {
    std::vector<std::string> statuses;
    for (int s : req->statuses()) {
      if (s == v1::CHECK_IN_STATUS_UNSPECIFIED || !v1::CheckInStatus_IsValid(s)) {
        return absl::InvalidArgumentError("statuses: holds CHECK_IN_STATUS_UNSPECIFIED or unknown");
      }
      statuses.push_back(std::to_string(s));
    }
    if (!v1::CheckInMethod_IsValid(req->method())) {
      return absl::InvalidArgumentError("method: is not a known check-in method");
    }
    int64_t from_us = 0, to_us = 0;
    if (req->has_time_range()) {
      if (req->time_range().has_start_time()) from_us = Us(TimeOf(req->time_range().start_time()));
      if (req->time_range().has_end_time()) to_us = Us(TimeOf(req->time_range().end_time()));
      if (from_us && to_us && to_us < from_us) {
        return absl::InvalidArgumentError("time_range: ends before it starts");
      }
    }
    absl::StatusOr<Paging> paging = StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    return InReadTx("list check-ins", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> org = LoadOrg(tx, req->org_id(), "org_id");
      if (!org.ok()) return org.status();
      if (absl::Status s = CheckCoversOrg(caller.who(), *org, "org node " + org->org_id); !s.ok())
        return s;
      pqxx::result rows = tx.exec_params(
          absl::StrCat(
              "SELECT ", kCheckInColumns, " FROM ", kCheckInFrom, " WHERE ",
              InSubtree(*org, "ci.community_id", "ci.district_id", "ci.street_id", 1),
              " AND (cardinality($2::smallint[]) = 0 OR ci.status = ANY($2::smallint[]))"
              " AND ($3::int = 0 OR ci.method = $3::int) AND ($4 = '' OR ci.person_id = $4)"
              " AND ($5::bigint = 0 OR ci.created_at >= from_us($5))"
              " AND ($6::bigint = 0 OR ci.created_at < from_us($6))"
              " AND ($7::bigint = 0 OR (us(ci.created_at), ci.check_in_id) < ($7, $8))"
              " ORDER BY ci.created_at DESC, ci.check_in_id DESC LIMIT $9"),
          org->org_id, pg::TextArray(statuses), static_cast<int>(req->method()), req->person_id(),
          from_us, to_us, paging->after_us(), paging->after_id(), paging->size + 1);
      resp->set_next_page_token(FillPage(rows, *paging, 11, [&](const pqxx::row& row) {
        FillCheckIn(row, resp->add_check_ins());
      }));
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ListMyCheckIns(grpc::ServerContext* ctx,
                                                 const v1::ListMyCheckInsRequest* req,
                                                 v1::ListMyCheckInsResponse* resp) {
  return Handle(ctx, "ListMyCheckIns", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<Paging> paging = StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    return InReadTx("list my check-ins", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kCheckInColumns, " FROM ", kCheckInFrom,
                       " WHERE ci.person_id = $1 AND ($2::bigint = 0 OR "
                       "(us(ci.created_at), ci.check_in_id) < ($2, $3)) "
                       "ORDER BY ci.created_at DESC, ci.check_in_id DESC LIMIT $4"),
          caller.who().subject, paging->after_us(), paging->after_id(), paging->size + 1);
      resp->set_next_page_token(FillPage(rows, *paging, 11, [&](const pqxx::row& row) {
        FillCheckIn(row, resp->add_check_ins());
      }));
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::identity
