// record pending|verify|reject: service records (a service done, a problem found) awaiting review.
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

struct PendingOptions {
  std::string org, kind;
};

absl::Status Pending(Context& ctx, const PendingOptions& o) {
  av1::ListServiceRecordsRequest req;
  if (!o.kind.empty()) {
    absl::StatusOr<av1::ServiceRecordKind> k = ParseEnum<av1::ServiceRecordKind>(o.kind, "--kind");
    if (!k.ok()) return k.status();
    req.add_kinds(*k);
  }
  absl::StatusOr<std::string> org = ResolveOrgId(ctx, o.org);
  if (!org.ok()) return org.status();
  req.set_org_id(*org);
  req.add_statuses(av1::SERVICE_RECORD_STATUS_SUBMITTED);
  req.set_page_size(100);
  av1::ListServiceRecordsResponse all;
  do {
    av1::ListServiceRecordsResponse resp;
    absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "ListServiceRecords"), req, &resp);
    if (!s.ok()) return s;
    for (const av1::ServiceRecord& r : resp.service_records()) *all.add_service_records() = r;
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.PrintJson(all)) return absl::OkStatus();
  std::vector<std::string> riders;
  for (const av1::ServiceRecord& r : all.service_records()) riders.push_back(r.rider_id());
  std::map<std::string, std::string> names = PeopleNames(ctx, riders);
  Table t({"ID", "OCCURRED", "KIND", "RIDER", "NAME", "DESCRIPTION"});
  for (const av1::ServiceRecord& r : all.service_records()) {
    t.AddRow({r.service_record_id(), FormatTime(r.occur_time()), EnumLabel(r.kind()), r.rider_id(),
              names[r.rider_id()], r.description()});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

struct DecideOptions {
  std::string id, text;
};

absl::Status Decide(Context& ctx, const DecideOptions& o, bool verify) {
  av1::ServiceRecord record;
  absl::Status s;
  if (verify) {
    av1::VerifyServiceRecordRequest req;
    req.set_service_record_id(o.id);
    req.set_note(o.text);
    av1::VerifyServiceRecordResponse resp;
    s = ctx.client().Call(absl::StrCat(kActivity, "VerifyServiceRecord"), req, &resp);
    record = resp.service_record();
  } else {
    av1::RejectServiceRecordRequest req;
    req.set_service_record_id(o.id);
    req.set_reason(o.text);
    av1::RejectServiceRecordResponse resp;
    s = ctx.client().Call(absl::StrCat(kActivity, "RejectServiceRecord"), req, &resp);
    record = resp.service_record();
  }
  if (!s.ok()) return s;
  if (!ctx.PrintJson(record)) {
    std::cout << "service record " << record.service_record_id() << " is "
              << EnumLabel(record.status()) << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddRecordCommands(CLI::App& app, Context& ctx) {
  CLI::App* rec = app.add_subcommand("record", "service records riders submit for review");
  rec->require_subcommand(1);

  auto po = std::make_shared<PendingOptions>();
  CLI::App* pending = rec->add_subcommand("pending", "list records waiting for review");
  pending->add_option("--org", po->org, "org node id or code")->required();
  pending->add_option("--kind", po->kind, EnumChoicesOf<av1::ServiceRecordKind>());
  pending->callback([&ctx, po] { ctx.Run([&ctx, po] { return Pending(ctx, *po); }); });

  auto vo = std::make_shared<DecideOptions>();
  CLI::App* verify = rec->add_subcommand(
      "verify", "verify a record (the rider is awarded the record kind's points)");
  verify->add_option("record_id", vo->id, "service record id")->required();
  verify->add_option("--note", vo->text, "review note");
  verify->callback([&ctx, vo] { ctx.Run([&ctx, vo] { return Decide(ctx, *vo, true); }); });

  auto ro = std::make_shared<DecideOptions>();
  CLI::App* reject = rec->add_subcommand("reject", "reject a record (the rider may appeal once)");
  reject->add_option("record_id", ro->id, "service record id")->required();
  reject->add_option("--reason", ro->text, "why (shown to the rider)")->required();
  reject->callback([&ctx, ro] { ctx.Run([&ctx, ro] { return Decide(ctx, *ro, false); }); });
}

}  // namespace civicpoints::cpctl
