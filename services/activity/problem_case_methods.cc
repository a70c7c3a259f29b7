// Problem cases (问题整改): a verified problem report opens a case, or joins an open one of the
// same kind within 50 m and 24 h; street staff assign it to a responsible department with a
// rectification notice and a deadline; the department records progress and closes it, and a
// close as fixed writes the first reporter's bonus and its outbox row in the same transaction.
// The rules are problem_case_rules.h's; the SQL is PgProblemCaseStore's.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "common/pg/paging.h"
#include "common/status/status_macros.h"
#include "services/activity/activity_service.h"
#include "services/activity/attachments.h"
#include "services/activity/awards.h"
#include "services/activity/directory.h"
#include "services/activity/points_rules.h"

namespace civicpoints::activity {

using common::v1::ROLE_DEPARTMENT_STAFF;
using common::v1::ROLE_DISTRICT_ADMIN;
using common::v1::ROLE_STREET_STAFF;

namespace {

// The statement text of the first reporter's bonus.
constexpr char kBonusReason[] = "上报问题整改完成奖励";

// Whether the caller holds ROLE_DEPARTMENT_STAFF at `department_id`.
bool OfDepartment(const auth::Principal& who, const std::string& department_id) {
  if (department_id.empty()) return false;
  for (const auth::RoleGrant& g : who.roles) {
    if (g.role == ROLE_DEPARTMENT_STAFF && g.org_id == department_id) return true;
  }
  return false;
}

// The case's street, for checks that want a street grant (a community's is not enough).
common::v1::OrgPath StreetOf(const common::v1::OrgPath& path) {
  common::v1::OrgPath street = path;
  street.clear_community_id();
  return street;
}

// Department staff of the case's department, or street staff over its street, may work on it.
absl::Status CheckMayWork(const Caller& caller, const v1::ProblemCase& c) {
  if (OfDepartment(caller.who(), c.department_id()) ||
      Covers(caller.who(), StreetOf(c.org_path()), {ROLE_STREET_STAFF})) {
    return absl::OkStatus();
  }
  return OutsideScope(absl::StrCat("problem case ", c.case_id(), " (department ",
                                   c.department_id().empty() ? "none" : c.department_id(), ")"));
}

absl::Status Closed(const v1::ProblemCase& c) {
  return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_CASE_CLOSED,
                absl::StrCat("problem case ", c.case_id(),
                             " is closed; a closed case is final (report the problem anew)"));
}

absl::Status NotAssigned(const v1::ProblemCase& c) {
  return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_CASE_NOT_ASSIGNED,
                absl::StrCat("problem case ", c.case_id(),
                             " has no department yet; the street assigns it first"));
}

}  // namespace

absl::Status ActivityServiceImpl::OpenOrJoinCase(pqxx::transaction_base& tx, const Caller& caller,
                                                 const v1::ServiceRecord& record, absl::Time seen) {
  if (!IsProblemKind(record.kind())) return absl::OkStatus();
  cases_.LockKind(tx, record.kind());
  const std::optional<std::string> join =
      CaseToJoin(cases_.Candidates(tx, record.kind(), seen), record.location().latitude(),
                 record.location().longitude(), seen);
  if (join) {
    cases_.Link(tx, *join, record.service_record_id(), caller.id());
  } else {
    cases_.Open(tx, record, seen, caller.id());
  }
  return absl::OkStatus();
}

void ActivityServiceImpl::FillCaseFor(pqxx::transaction_base& tx, const Caller& caller,
                                      PgProblemCaseStore::Row row, bool with_steps,
                                      v1::ProblemCase* out) {
  v1::ProblemCase& c = row.proto;
  const bool reporter = c.reporter_id() == caller.id();
  const bool staff = caller.is_staff();
  // Who reported it is for the area's staff and the reporter: neither another reporter of the
  // same problem nor the department (a property company, say) is told.
  const bool area_staff = staff && Covers(caller.who(), c.org_path());
  if (area_staff || reporter) {
    if (std::optional<v1::Award> bonus = FindAward(tx, v1::AWARD_SOURCE_KIND_PROBLEM_CASE,
                                                   c.case_id(), c.reporter_id(), area_staff)) {
      *c.mutable_bonus() = *std::move(bonus);
    }
  } else {
    c.clear_reporter_id();
  }
  if (with_steps) cases_.FillSteps(tx, &c);
  if (!staff) {
    // Riders see what happened, not which staff member did it.
    c.clear_assigned_by();
    c.clear_closed_by();
    for (v1::ProblemCaseStep& step : *c.mutable_steps()) step.clear_actor_id();
  }
  *out = std::move(c);
}

grpc::Status ActivityServiceImpl::GetProblemCase(grpc::ServerContext* ctx,
                                                 const v1::GetProblemCaseRequest* req,
                                                 v1::GetProblemCaseResponse* resp) {
  return Handle(ctx, "GetProblemCase", [&](const Caller& caller) -> absl::Status {
    return InReadTx("get problem case", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(PgProblemCaseStore::Row row,
                       cases_.Load(tx, req->case_id(), false, caller.now));
      const v1::ProblemCase& c = row.proto;
      if (!caller.is_staff()) {
        // A case the rider reported nothing of is as good as absent.
        if (!cases_.Reported(tx, c.case_id(), caller.id())) {
          return absl::NotFoundError(
              absl::StrCat("problem case '", req->case_id(), "' does not exist"));
        }
      } else if (!OfDepartment(caller.who(), c.department_id())) {
        RETURN_IF_ERROR(
            CheckCovers(caller.who(), c.org_path(), absl::StrCat("problem case ", c.case_id())));
      }
      FillCaseFor(tx, caller, std::move(row), true, resp->mutable_problem_case());
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ListProblemCases(grpc::ServerContext* ctx,
                                                   const v1::ListProblemCasesRequest* req,
                                                   v1::ListProblemCasesResponse* resp) {
  return Handle(ctx, "ListProblemCases", [&](const Caller& caller) -> absl::Status {
    ASSIGN_OR_RETURN(pg::Paging paging, pg::StartPaging(*req, 2));
    PgProblemCaseStore::Filter filter{.overdue_only = req->overdue_only(),
                                      .after_us = paging.after_us(),
                                      .after_id = paging.after_id(),
                                      .limit = paging.size + 1};
    for (int s : req->statuses()) {
      if (s == 0 || !v1::ProblemCaseStatus_IsValid(s)) {
        return absl::InvalidArgumentError("statuses: holds an unspecified or unknown status");
      }
      filter.statuses.push_back(s);
    }
    if (!caller.is_staff()) {
      filter.reporter_id = caller.id();
    } else {
      if (req->org_id().empty() && req->department_id().empty()) {
        return absl::InvalidArgumentError(
            "org_id: is required for staff and city systems (or department_id for a "
            "department's queue)");
      }
      if (!req->department_id().empty()) {
        ASSIGN_OR_RETURN(OrgInfo dep,
                         directory_->Department(req->department_id(), "department_id"));
        // Alone, a department's whole queue: its staff's, or staff over the area it serves. With
        // org_id, a filter within that node, whose scope is checked below.
        if (req->org_id().empty() && !OfDepartment(caller.who(), dep.org_id) &&
            !Covers(caller.who(), dep.path)) {
          return OutsideScope(absl::StrCat("department ", dep.org_id));
        }
        filter.department_id = dep.org_id;
      }
      if (!req->org_id().empty()) {
        ASSIGN_OR_RETURN(OrgInfo org, directory_->Org(req->org_id(), "org_id"));
        RETURN_IF_ERROR(CheckCovers(caller.who(), org.path, absl::StrCat("org node ", org.org_id)));
        switch (org.level) {
          case common::v1::ORG_LEVEL_DISTRICT:
            filter.org_column = "district_id";
            break;
          case common::v1::ORG_LEVEL_STREET:
            filter.org_column = "street_id";
            break;
          case common::v1::ORG_LEVEL_COMMUNITY:
            filter.org_column = "community_id";
            break;
          default:
            break;  // the city: everything
        }
        if (filter.org_column != "''") filter.org_id = org.org_id;
      }
    }
    return InReadTx("list problem cases", [&](pqxx::transaction_base& tx) -> absl::Status {
      std::vector<PgProblemCaseStore::Row> rows = cases_.List(tx, filter, caller.now);
      resp->set_next_page_token(pg::TrimPage(rows, paging, [](const PgProblemCaseStore::Row& r) {
        return std::vector<std::string>{std::to_string(Us(TimeOf(r.proto.create_time()))),
                                        r.proto.case_id()};
      }));
      for (PgProblemCaseStore::Row& row : rows) {
        FillCaseFor(tx, caller, std::move(row), false, resp->add_problem_cases());
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::AssignProblemCase(grpc::ServerContext* ctx,
                                                    const v1::AssignProblemCaseRequest* req,
                                                    v1::AssignProblemCaseResponse* resp) {
  return Handle(ctx, "AssignProblemCase", [&](const Caller& caller) -> absl::Status {
    if (req->case_id().empty()) return absl::InvalidArgumentError("case_id: is required");
    if (req->department_id().empty()) {
      return absl::InvalidArgumentError("department_id: is required");
    }
    RETURN_IF_ERROR(
        text::CheckText(req->notice_number(), "notice_number", {.max = 64, .required = true}));
    RETURN_IF_ERROR(
        text::CheckText(req->note(), "note", {.max = 500, .lines = text::Lines::kMany}));
    if (!req->has_deadline()) return absl::InvalidArgumentError("deadline: is required");
    // Kept to the microsecond, as stored, so a repeat compares equal.
    const absl::Time deadline = FromUs(Us(TimeOf(req->deadline())));
    if (deadline <= caller.now) return absl::InvalidArgumentError("deadline: is in the past");
    if (deadline > caller.now + kMaxCaseDeadlineAhead) {
      return absl::InvalidArgumentError("deadline: is more than 90 days ahead");
    }
    ASSIGN_OR_RETURN(OrgInfo dep, directory_->Department(req->department_id(), "department_id"));
    return InTx("assign problem case", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(PgProblemCaseStore::Row row,
                       cases_.Load(tx, req->case_id(), true, caller.now));
      const v1::ProblemCase& c = row.proto;
      RETURN_IF_ERROR(CheckCovers(caller.who(), StreetOf(c.org_path()),
                                  absl::StrCat("street ", c.org_path().street_id()),
                                  {ROLE_STREET_STAFF, ROLE_DISTRICT_ADMIN}));
      if (!DepartmentServes(dep.path, c.org_path())) {
        return Refuse(
            absl::StatusCode::kFailedPrecondition,
            v1::ACTIVITY_ERROR_REASON_DEPARTMENT_OUTSIDE_STREET,
            absl::StrCat("department_id: department ", dep.org_id, " serves ", PathText(dep.path),
                         ", not the case's street ", PathText(StreetOf(c.org_path()))),
            {{"department_id", dep.org_id}});
      }
      switch (DecideAssign(row.state, dep.org_id, req->notice_number(), deadline)) {
        case CaseStep::kClosed:
          return Closed(c);
        case CaseStep::kApply:
          cases_.Assign(tx, c.case_id(), dep.org_id, req->notice_number(), deadline, req->note(),
                        caller.id());
          break;
        default:
          break;  // a repeat: answered with the case as it is
      }
      ASSIGN_OR_RETURN(PgProblemCaseStore::Row after,
                       cases_.Load(tx, c.case_id(), false, caller.now));
      FillCaseFor(tx, caller, std::move(after), true, resp->mutable_problem_case());
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::RecordProblemCaseProgress(
    grpc::ServerContext* ctx, const v1::RecordProblemCaseProgressRequest* req,
    v1::RecordProblemCaseProgressResponse* resp) {
  return Handle(ctx, "RecordProblemCaseProgress", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(text::CheckIdempotencyKey(req->idempotency_key()));
    if (req->case_id().empty()) return absl::InvalidArgumentError("case_id: is required");
    RETURN_IF_ERROR(text::CheckText(req->note(), "note",
                                    {.max = 500, .required = true, .lines = text::Lines::kMany}));
    RETURN_IF_ERROR(CheckAttachments(req->attachments(), "attachments"));
    return Idempotent(
        caller, "RecordProblemCaseProgress", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          ASSIGN_OR_RETURN(PgProblemCaseStore::Row row,
                           cases_.Load(tx, req->case_id(), true, caller.now));
          RETURN_IF_ERROR(CheckMayWork(caller, row.proto));
          switch (DecideProgress(row.state)) {
            case CaseStep::kClosed:
              return Closed(row.proto);
            case CaseStep::kNotAssigned:
              return NotAssigned(row.proto);
            default:
              break;
          }
          cases_.AddProgress(tx, row.proto.case_id(), req->note(), req->attachments(), caller.id());
          ASSIGN_OR_RETURN(PgProblemCaseStore::Row after,
                           cases_.Load(tx, row.proto.case_id(), false, caller.now));
          FillCaseFor(tx, caller, std::move(after), true, resp->mutable_problem_case());
          return absl::OkStatus();
        });
  });
}

grpc::Status ActivityServiceImpl::CloseProblemCase(grpc::ServerContext* ctx,
                                                   const v1::CloseProblemCaseRequest* req,
                                                   v1::CloseProblemCaseResponse* resp) {
  return Handle(ctx, "CloseProblemCase", [&](const Caller& caller) -> absl::Status {
    if (req->case_id().empty()) return absl::InvalidArgumentError("case_id: is required");
    if (req->outcome() == v1::PROBLEM_CASE_OUTCOME_UNSPECIFIED ||
        !v1::ProblemCaseOutcome_IsValid(req->outcome())) {
      return absl::InvalidArgumentError("outcome: is unspecified or unknown");
    }
    RETURN_IF_ERROR(text::CheckText(req->note(), "note",
                                    {.max = 500, .required = true, .lines = text::Lines::kMany}));
    const bool fixed = req->outcome() == v1::PROBLEM_CASE_OUTCOME_FIXED;
    if (req->has_after_photo() || fixed) {
      if (fixed && req->after_photo().ref().empty()) {
        return absl::InvalidArgumentError(
            "after_photo: is required when the outcome is FIXED (a photo of the fixed place)");
      }
      RETURN_IF_ERROR(CheckAttachment(req->after_photo(), "after_photo"));
    }
    // Where a fix's bonus counts (the reporter's home community) is asked of identity first, once
    // the caller and the case's state are known to allow the close (checked again below).
    common::v1::OrgPath reporter_path;
    if (fixed) {
      std::string first_record;
      bool closing = false;
      RETURN_IF_ERROR(InTx("check problem case", [&](pqxx::transaction_base& tx) -> absl::Status {
        ASSIGN_OR_RETURN(PgProblemCaseStore::Row row,
                         cases_.Load(tx, req->case_id(), false, caller.now));
        RETURN_IF_ERROR(CheckMayWork(caller, row.proto));
        switch (DecideClose(row.state, req->outcome(), req->note(), req->after_photo().ref())) {
          case CaseStep::kClosed:
            return Closed(row.proto);
          case CaseStep::kNotAssigned:
            return NotAssigned(row.proto);
          case CaseStep::kApply:
            closing = true;
            break;
          case CaseStep::kAlreadyDone:
            break;
        }
        first_record = row.proto.first_record_id();
        return absl::OkStatus();
      }));
      if (closing) {
        ASSIGN_OR_RETURN(reporter_path, RiderPathOfRecord(first_record));
      }
    }
    bool awarded = false;
    absl::Status done = InTx("close problem case", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(PgProblemCaseStore::Row row,
                       cases_.Load(tx, req->case_id(), true, caller.now));
      const v1::ProblemCase& c = row.proto;
      RETURN_IF_ERROR(CheckMayWork(caller, c));
      switch (DecideClose(row.state, req->outcome(), req->note(), req->after_photo().ref())) {
        case CaseStep::kClosed:
          return Closed(c);
        case CaseStep::kNotAssigned:
          return NotAssigned(c);
        case CaseStep::kAlreadyDone:
          break;
        case CaseStep::kApply:
          cases_.Close(tx, c.case_id(), req->outcome(), req->note(), req->after_photo(),
                       caller.id());
          if (fixed) {
            ASSIGN_OR_RETURN(
                v1::Award bonus,
                CreateAward(
                    tx,
                    AwardSource{
                        .kind = v1::AWARD_SOURCE_KIND_PROBLEM_CASE,
                        .source_id = c.case_id(),
                        .rider_id = c.reporter_id(),
                        .rule = ResolvedRules::Read(tx, c.org_path()).ProblemFixedBonusPoints(),
                        .verified_by = caller.id(),
                        .occur = caller.now,
                        .reason = kBonusReason,
                        .rider_path = reporter_path},
                    ResolvedRules::Read(tx, reporter_path), caller.now));
            awarded = bonus.status() == v1::AWARD_STATUS_PENDING;
          }
          break;
      }
      ASSIGN_OR_RETURN(PgProblemCaseStore::Row after,
                       cases_.Load(tx, c.case_id(), false, caller.now));
      FillCaseFor(tx, caller, std::move(after), true, resp->mutable_problem_case());
      return absl::OkStatus();
    });
    if (done.ok() && awarded) NudgeRelay();
    return done;
  });
}

}  // namespace civicpoints::activity
