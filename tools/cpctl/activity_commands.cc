// activity create|list|show|code|checkin|confirm|reject: activities, check-in and attendance.
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

struct CreateOptions {
  std::string organiser, place, title, description, category, start, end, enrol_close, audience,
      key;
  int capacity = 50;
  int64_t points = 0;
};

absl::Status Create(Context& ctx, const CreateOptions& o) {
  av1::CreateActivityRequest req;
  av1::Activity* a = req.mutable_activity();
  absl::StatusOr<av1::ActivityCategory> category =
      ParseEnum<av1::ActivityCategory>(o.category, "--category");
  if (!category.ok()) return category.status();
  a->set_category(*category);
  if (!o.audience.empty()) {
    absl::StatusOr<av1::ActivityAudience> audience =
        ParseEnum<av1::ActivityAudience>(o.audience, "--audience");
    if (!audience.ok()) return audience.status();
    a->set_audience(*audience);
  }
  absl::StatusOr<absl::Time> start = ParseTime(o.start, "--start");
  if (!start.ok()) return start.status();
  absl::StatusOr<absl::Time> end = ParseTime(o.end, "--end");
  if (!end.ok()) return end.status();
  SetTime(*start, a->mutable_start_time());
  SetTime(*end, a->mutable_end_time());
  if (!o.enrol_close.empty()) {
    absl::StatusOr<absl::Time> close = ParseTime(o.enrol_close, "--enrol-close");
    if (!close.ok()) return close.status();
    SetTime(*close, a->mutable_enrol_close_time());
  }
  a->set_title(o.title);
  a->set_description(o.description);
  a->set_place_id(o.place);
  a->set_capacity(o.capacity);
  a->set_points(o.points);
  absl::StatusOr<std::string> organiser = ResolveOrgId(ctx, o.organiser);
  if (!organiser.ok()) return organiser.status();
  a->set_organiser_org_id(*organiser);
  req.set_idempotency_key(o.key.empty() ? NewIdempotencyKey() : o.key);
  av1::CreateActivityResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "CreateActivity"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) {
    std::cout << "created activity " << resp.activity().activity_id() << " "
              << resp.activity().title() << "\n";
  }
  return absl::OkStatus();
}

struct ListOptions {
  std::string org, status, category;
};

absl::Status List(Context& ctx, const ListOptions& o) {
  av1::ListActivitiesRequest req;
  if (!o.status.empty()) {
    absl::StatusOr<av1::ActivityStatus> st = ParseEnum<av1::ActivityStatus>(o.status, "--status");
    if (!st.ok()) return st.status();
    req.set_status(*st);
  }
  if (!o.category.empty()) {
    absl::StatusOr<av1::ActivityCategory> c =
        ParseEnum<av1::ActivityCategory>(o.category, "--category");
    if (!c.ok()) return c.status();
    req.set_category(*c);
  }
  absl::StatusOr<std::string> org = ResolveOrgId(ctx, o.org);
  if (!org.ok()) return org.status();
  req.set_org_id(*org);
  req.set_page_size(100);
  av1::ListActivitiesResponse all;
  do {
    av1::ListActivitiesResponse resp;
    absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "ListActivities"), req, &resp);
    if (!s.ok()) return s;
    for (const av1::Activity& a : resp.activities()) *all.add_activities() = a;
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.PrintJson(all)) return absl::OkStatus();
  Table t(
      {"ID", "START", "TITLE", "CATEGORY", "PLACE", "ENROLLED", "CONFIRMED", "POINTS", "STATUS"},
      {Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight,
       Align::kRight, Align::kRight});
  for (const av1::Activity& a : all.activities()) {
    t.AddRow({a.activity_id(), FormatTime(a.start_time()), a.title(), EnumLabel(a.category()),
              a.place_name(), absl::StrCat(a.enrolled_count(), "/", a.capacity()),
              absl::StrCat(a.confirmed_count()), absl::StrCat(a.effective_points()),
              EnumLabel(a.status())});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

absl::Status Show(Context& ctx, const std::string& id) {
  av1::GetActivityRequest req;
  req.set_activity_id(id);
  av1::GetActivityResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "GetActivity"), req, &resp);
  if (!s.ok()) return s;
  av1::ListEnrolmentsRequest lreq;
  lreq.set_activity_id(id);
  lreq.set_page_size(100);
  av1::ListEnrolmentsResponse all;
  do {
    av1::ListEnrolmentsResponse page;
    s = ctx.client().Call(absl::StrCat(kActivity, "ListEnrolments"), lreq, &page);
    if (!s.ok()) return s;
    for (const av1::Enrolment& e : page.enrolments()) *all.add_enrolments() = e;
    lreq.set_page_token(page.next_page_token());
  } while (!lreq.page_token().empty());
  if (ctx.json) {
    ctx.PrintJson(resp);
    ctx.PrintJson(all);
    return absl::OkStatus();
  }
  PrintRecord(resp.activity(), std::cout);
  std::cout << "\n";
  std::vector<std::string> riders;
  for (const av1::Enrolment& e : all.enrolments()) riders.push_back(e.rider_id());
  std::map<std::string, std::string> names = PeopleNames(ctx, riders);
  Table t({"RIDER", "NAME", "STATUS", "CHECKED IN", "BY"});
  for (const av1::Enrolment& e : all.enrolments()) {
    t.AddRow({e.rider_id(), names[e.rider_id()], EnumLabel(e.status()),
              FormatTime(e.check_in_time()), EnumLabel(e.check_in_method())});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

absl::Status Code(Context& ctx, const std::string& id) {
  av1::GetCheckInCodeRequest req;
  req.set_activity_id(id);
  av1::GetCheckInCodeResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "GetCheckInCode"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) {
    std::cout << resp.code() << "  (rotates at " << FormatTime(resp.rotate_time())
              << ", accepted until " << FormatTime(resp.accept_until()) << ")\n";
  }
  return absl::OkStatus();
}

struct RiderOptions {
  std::string activity, rider, reason, key;
  std::vector<std::string> riders;
  bool enrol = false, all = false;
};

absl::Status CheckIn(Context& ctx, const RiderOptions& o) {
  av1::CheckInRiderRequest req;
  req.set_activity_id(o.activity);
  req.set_rider_id(o.rider);
  req.set_enrol_if_needed(o.enrol);
  req.set_idempotency_key(o.key.empty() ? absl::StrCat("cpctl-checkin-", o.activity, "-", o.rider)
                                        : o.key);
  av1::CheckInRiderResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "CheckInRider"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) {
    std::cout << "rider " << o.rider << " is " << EnumLabel(resp.enrolment().status()) << "\n";
  }
  return absl::OkStatus();
}

absl::Status Confirm(Context& ctx, const RiderOptions& o) {
  if (o.all == !o.riders.empty()) {
    return absl::InvalidArgumentError("give either --all or one or more --rider");
  }
  av1::ConfirmAttendanceRequest req;
  req.set_activity_id(o.activity);
  req.set_all_checked_in(o.all);
  for (const std::string& r : o.riders) req.add_rider_ids(r);
  av1::ConfirmAttendanceResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "ConfirmAttendance"), req, &resp);
  if (!s.ok()) return s;
  if (ctx.PrintJson(resp)) return absl::OkStatus();
  std::cout << "confirmed " << resp.confirmed_size() << ", already confirmed "
            << resp.already_confirmed_rider_ids_size() << ", skipped " << resp.skipped_size()
            << "\n";
  if (resp.skipped_size() > 0) {
    Table t({"SKIPPED RIDER", "REASON"});
    for (const av1::SkippedRider& r : resp.skipped()) {
      t.AddRow({r.rider_id(), EnumLabel(r.reason())});
    }
    t.Print(std::cout);
  }
  return absl::OkStatus();
}

absl::Status Reject(Context& ctx, const RiderOptions& o) {
  av1::RejectAttendanceRequest req;
  req.set_activity_id(o.activity);
  req.set_rider_id(o.rider);
  req.set_reason(o.reason);
  av1::RejectAttendanceResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "RejectAttendance"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) {
    std::cout << "rider " << o.rider << " is " << EnumLabel(resp.enrolment().status()) << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddActivityCommands(CLI::App& app, Context& ctx) {
  CLI::App* act = app.add_subcommand("activity", "activities, check-in and attendance");
  act->require_subcommand(1);
  const std::string time_help = "time: \"2026-11-29 10:00\" (Asia/Shanghai), RFC 3339, or +2h";

  auto co = std::make_shared<CreateOptions>();
  CLI::App* create = act->add_subcommand("create", "publish an activity at a place");
  create->add_option("--organiser", co->organiser, "organising org node id or code")->required();
  create->add_option("--place", co->place, "place id")->required();
  create->add_option("--title", co->title, "title, up to 60 characters")->required();
  create->add_option("--category", co->category, EnumChoicesOf<av1::ActivityCategory>())
      ->required();
  create
      ->add_option("--start", co->start,
                   "start " + time_help +
                       " (at least the service's start lead ahead: 10 minutes unless set)")
      ->required();
  create->add_option("--end", co->end, "end " + time_help)->required();
  create->add_option("--enrol-close", co->enrol_close, "enrolment closes " + time_help);
  create->add_option("--capacity", co->capacity, "riders, 1-5000")->capture_default_str();
  create->add_option("--points", co->points, "points per confirmed rider (0: the rule's default)");
  create->add_option("--audience", co->audience, EnumChoicesOf<av1::ActivityAudience>());
  create->add_option("--description", co->description, "free text");
  create->add_option("--key", co->key, "idempotency key (default: random)");
  create->callback([&ctx, co] { ctx.Run([&ctx, co] { return Create(ctx, *co); }); });

  auto lo = std::make_shared<ListOptions>();
  CLI::App* list = act->add_subcommand("list", "list activities organised in an org subtree");
  list->add_option("--org", lo->org, "org node id or code")->required();
  list->add_option("--status", lo->status, EnumChoicesOf<av1::ActivityStatus>());
  list->add_option("--category", lo->category, EnumChoicesOf<av1::ActivityCategory>());
  list->callback([&ctx, lo] { ctx.Run([&ctx, lo] { return List(ctx, *lo); }); });

  auto id = std::make_shared<std::string>();
  CLI::App* show = act->add_subcommand("show", "show an activity and its enrolments");
  show->add_option("activity_id", *id, "activity id")->required();
  show->callback([&ctx, id] { ctx.Run([&ctx, id] { return Show(ctx, *id); }); });

  auto cid = std::make_shared<std::string>();
  CLI::App* code = act->add_subcommand("code", "the current rotating check-in code to show riders");
  code->add_option("activity_id", *cid, "activity id")->required();
  code->callback([&ctx, cid] { ctx.Run([&ctx, cid] { return Code(ctx, *cid); }); });

  auto ci = std::make_shared<RiderOptions>();
  CLI::App* checkin = act->add_subcommand("checkin", "check a rider in by staff");
  checkin->add_option("activity_id", ci->activity, "activity id")->required();
  checkin->add_option("--rider", ci->rider, "rider's person id")->required();
  checkin->add_flag("--enrol", ci->enrol, "enrol the rider first when not enrolled (walk-in)");
  checkin->add_option("--key", ci->key, "idempotency key (default: from activity and rider)");
  checkin->callback([&ctx, ci] { ctx.Run([&ctx, ci] { return CheckIn(ctx, *ci); }); });

  auto cf = std::make_shared<RiderOptions>();
  CLI::App* confirm = act->add_subcommand(
      "confirm", "confirm attendance (each confirmed rider is awarded the activity's points)");
  confirm->add_option("activity_id", cf->activity, "activity id")->required();
  confirm->add_flag("--all", cf->all, "every checked-in rider");
  confirm->add_option("--rider", cf->riders, "a rider's person id (repeatable)");
  confirm->callback([&ctx, cf] { ctx.Run([&ctx, cf] { return Confirm(ctx, *cf); }); });

  auto rj = std::make_shared<RiderOptions>();
  CLI::App* reject = act->add_subcommand("reject", "reject a rider's check-in");
  reject->add_option("activity_id", rj->activity, "activity id")->required();
  reject->add_option("--rider", rj->rider, "rider's person id")->required();
  reject->add_option("--reason", rj->reason, "why (shown to the rider)")->required();
  reject->callback([&ctx, rj] { ctx.Run([&ctx, rj] { return Reject(ctx, *rj); }); });
}

}  // namespace civicpoints::cpctl
