// case list|show|assign|progress|close: problem cases (问题整改) from a verified report to the fix.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/activity_service.pb.h"
#include "tools/cpctl/commands.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/format.h"
#include "tools/cpctl/lookups.h"
#include "tools/cpctl/table.h"

namespace civicpoints::cpctl {
namespace {

namespace av1 = activity::v1;
constexpr char kActivity[] = "civicpoints.activity.v1.ActivityService.";

struct ListOptions {
  std::string org, department;
  bool open = false, overdue = false;
};

absl::Status List(Context& ctx, const ListOptions& o) {
  if (o.org.empty() && o.department.empty()) {
    return absl::InvalidArgumentError("give --org or --department");
  }
  av1::ListProblemCasesRequest req;
  if (!o.org.empty()) {
    absl::StatusOr<std::string> org = ResolveOrgId(ctx, o.org);
    if (!org.ok()) return org.status();
    req.set_org_id(*org);
  }
  if (!o.department.empty()) {
    absl::StatusOr<std::string> dep = ResolveOrgId(ctx, o.department);
    if (!dep.ok()) return dep.status();
    req.set_department_id(*dep);
  }
  if (o.open) {
    req.add_statuses(av1::PROBLEM_CASE_STATUS_OPEN);
    req.add_statuses(av1::PROBLEM_CASE_STATUS_ASSIGNED);
  }
  req.set_overdue_only(o.overdue);
  req.set_page_size(100);
  av1::ListProblemCasesResponse all;
  do {
    av1::ListProblemCasesResponse resp;
    absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "ListProblemCases"), req, &resp);
    if (!s.ok()) return s;
    for (const av1::ProblemCase& c : resp.problem_cases()) *all.add_problem_cases() = c;
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.PrintJson(all)) return absl::OkStatus();
  Table t({"ID", "OPENED", "KIND", "STATUS", "REPORTS", "DEPARTMENT", "DEADLINE", "OVERDUE",
           "ADDRESS"});
  for (const av1::ProblemCase& c : all.problem_cases()) {
    t.AddRow({c.case_id(), FormatTime(c.create_time()), EnumLabel(c.kind()), EnumLabel(c.status()),
              absl::StrCat(c.report_count()), c.department_id(), FormatTime(c.deadline()),
              c.overdue() ? "yes" : "", c.address()});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

// Prints the case (as JSON when asked) and its history.
void PrintCase(Context& ctx, const av1::ProblemCase& c) {
  if (ctx.PrintJson(c)) return;
  std::cout << "problem case " << c.case_id() << ": " << EnumLabel(c.status());
  if (c.status() == av1::PROBLEM_CASE_STATUS_CLOSED)
    std::cout << " (" << EnumLabel(c.outcome()) << ")";
  if (c.overdue()) std::cout << ", overdue";
  std::cout << "\n";
  for (const av1::ProblemCaseStep& step : c.steps()) {
    std::cout << "  " << FormatTime(step.create_time()) << "  " << EnumLabel(step.kind());
    if (!step.subject_id().empty()) std::cout << " " << step.subject_id();
    if (!step.note().empty()) std::cout << ": " << step.note();
    std::cout << "\n";
  }
  if (c.has_bonus()) {
    std::cout << "  bonus: " << c.bonus().points() << " points to " << c.bonus().rider_id() << " ("
              << EnumLabel(c.bonus().status()) << ")\n";
  }
}

absl::Status Show(Context& ctx, const std::string& id) {
  av1::GetProblemCaseRequest req;
  req.set_case_id(id);
  av1::GetProblemCaseResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "GetProblemCase"), req, &resp);
  if (!s.ok()) return s;
  PrintCase(ctx, resp.problem_case());
  return absl::OkStatus();
}

struct AssignOptions {
  std::string id, department, notice, deadline, note;
};

absl::Status Assign(Context& ctx, const AssignOptions& o) {
  av1::AssignProblemCaseRequest req;
  req.set_case_id(o.id);
  absl::StatusOr<std::string> dep = ResolveOrgId(ctx, o.department);
  if (!dep.ok()) return dep.status();
  req.set_department_id(*dep);
  req.set_notice_number(o.notice);
  absl::StatusOr<absl::Time> deadline = ParseTime(o.deadline, "--deadline");
  if (!deadline.ok()) return deadline.status();
  SetTime(*deadline, req.mutable_deadline());
  req.set_note(o.note);
  av1::AssignProblemCaseResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "AssignProblemCase"), req, &resp);
  if (!s.ok()) return s;
  PrintCase(ctx, resp.problem_case());
  return absl::OkStatus();
}

struct ProgressOptions {
  std::string id, note, key;
  std::vector<std::string> photos;
};

absl::Status Progress(Context& ctx, const ProgressOptions& o) {
  av1::RecordProblemCaseProgressRequest req;
  req.set_case_id(o.id);
  req.set_note(o.note);
  for (const std::string& ref : o.photos) req.add_attachments()->set_ref(ref);
  req.set_idempotency_key(o.key.empty() ? NewIdempotencyKey() : o.key);
  av1::RecordProblemCaseProgressResponse resp;
  absl::Status s =
      ctx.client().Call(absl::StrCat(kActivity, "RecordProblemCaseProgress"), req, &resp);
  if (!s.ok()) return s;
  PrintCase(ctx, resp.problem_case());
  return absl::OkStatus();
}

struct CloseOptions {
  std::string id, note, photo;
  bool not_fixed = false;
};

absl::Status Close(Context& ctx, const CloseOptions& o) {
  av1::CloseProblemCaseRequest req;
  req.set_case_id(o.id);
  req.set_outcome(o.not_fixed ? av1::PROBLEM_CASE_OUTCOME_NOT_FIXED
                              : av1::PROBLEM_CASE_OUTCOME_FIXED);
  req.set_note(o.note);
  if (!o.photo.empty()) req.mutable_after_photo()->set_ref(o.photo);
  av1::CloseProblemCaseResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "CloseProblemCase"), req, &resp);
  if (!s.ok()) return s;
  PrintCase(ctx, resp.problem_case());
  return absl::OkStatus();
}

}  // namespace

void AddCaseCommands(CLI::App& app, Context& ctx) {
  CLI::App* cases =
      app.add_subcommand("case", "problem cases: verified problem reports followed to the fix");
  cases->require_subcommand(1);

  auto lo = std::make_shared<ListOptions>();
  CLI::App* list = cases->add_subcommand("list", "list the cases of a node or a department");
  list->add_option("--org", lo->org, "org node id or code (its subtree)");
  list->add_option("--department", lo->department, "department id or code (its queue)");
  list->add_flag("--open", lo->open, "only cases not closed");
  list->add_flag("--overdue", lo->overdue, "only cases past their deadline");
  list->callback([&ctx, lo] { ctx.Run([&ctx, lo] { return List(ctx, *lo); }); });

  auto id = std::make_shared<std::string>();
  CLI::App* show = cases->add_subcommand("show", "show a case with its history");
  show->add_option("case_id", *id, "problem case id")->required();
  show->callback([&ctx, id] { ctx.Run([&ctx, id] { return Show(ctx, *id); }); });

  auto ao = std::make_shared<AssignOptions>();
  CLI::App* assign =
      cases->add_subcommand("assign", "hand a case to a department of its street or district");
  assign->add_option("case_id", ao->id, "problem case id")->required();
  assign->add_option("--department", ao->department, "department id or code")->required();
  assign->add_option("--notice", ao->notice, "rectification notice number")->required();
  assign->add_option("--deadline", ao->deadline, "when the fix is due (e.g. +3d, 2026-12-10 18:00)")
      ->required();
  assign->add_option("--note", ao->note, "a note for the department");
  assign->callback([&ctx, ao] { ctx.Run([&ctx, ao] { return Assign(ctx, *ao); }); });

  auto po = std::make_shared<ProgressOptions>();
  CLI::App* progress = cases->add_subcommand("progress", "record what the department did");
  progress->add_option("case_id", po->id, "problem case id")->required();
  progress->add_option("--note", po->note, "what was done")->required();
  progress->add_option("--photo", po->photos, "an uploaded photo's reference (repeatable)");
  progress->add_option("--key", po->key, "idempotency key (default: a fresh one)");
  progress->callback([&ctx, po] { ctx.Run([&ctx, po] { return Progress(ctx, *po); }); });

  auto co = std::make_shared<CloseOptions>();
  CLI::App* close = cases->add_subcommand(
      "close", "close a case: fixed (with an after-photo; the reporter earns the bonus) or not");
  close->add_option("case_id", co->id, "problem case id")->required();
  close->add_option("--note", co->note, "what was done, or why nothing could be")->required();
  close->add_option("--photo", co->photo, "the after-photo's reference (required when fixed)");
  close->add_flag("--not-fixed", co->not_fixed, "closed without a fix");
  close->callback([&ctx, co] { ctx.Run([&ctx, co] { return Close(ctx, *co); }); });
}

}  // namespace civicpoints::cpctl
