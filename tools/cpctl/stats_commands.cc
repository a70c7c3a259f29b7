// stats export: per-day statistics of an org node (and its children) as CSV on stdout.
#include <iostream>
#include <map>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "civicpoints/activity/v1/activity_service.pb.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "civicpoints/ledger/v1/ledger_service.pb.h"
#include "tools/cpctl/commands.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/csv.h"
#include "tools/cpctl/format.h"
#include "tools/cpctl/lookups.h"

namespace civicpoints::cpctl {
namespace {

namespace av1 = activity::v1;
namespace idv1 = identity::v1;
namespace lv1 = ledger::v1;
using DailyCounts = google::protobuf::RepeatedPtrField<common::v1::DailyCount>;

const std::vector<std::string> kColumns = {"day",
                                           "org_id",
                                           "org_code",
                                           "org_name",
                                           "level",
                                           "points_issued",
                                           "points_corrected",
                                           "points_redeemed",
                                           "activities_held",
                                           "attendances_confirmed",
                                           "service_records_submitted",
                                           "service_records_verified",
                                           "active_riders"};

struct ExportOptions {
  std::string node, from, to;
  bool children = false;
};

// One node's figures per day: column index (from 5) → value.
using DayFigures = std::map<std::string, std::vector<int64_t>>;

void Add(DayFigures& days, const DailyCounts& counts, size_t column) {
  for (const common::v1::DailyCount& c : counts) {
    std::vector<int64_t>& row = days[c.day()];
    row.resize(kColumns.size() - 5);
    row[column] += c.value();
  }
}

absl::Status ExportNode(Context& ctx, const idv1::OrgNode& node, const std::string& from,
                        const std::string& to, std::string* csv) {
  lv1::GetOrgStatisticsRequest lreq;
  lreq.mutable_scope()->set_level(node.level());
  lreq.mutable_scope()->set_org_id(node.org_id());
  lreq.set_start_day(from);
  lreq.set_end_day(to);
  lv1::GetOrgStatisticsResponse lresp;
  absl::Status s =
      ctx.client().Call("civicpoints.ledger.v1.LedgerService.GetOrgStatistics", lreq, &lresp);
  if (!s.ok()) return s;
  av1::GetActivityStatsRequest areq;
  areq.set_org_id(node.org_id());
  areq.set_from_day(from);
  areq.set_to_day(to);
  av1::GetActivityStatsResponse aresp;
  s = ctx.client().Call("civicpoints.activity.v1.ActivityService.GetActivityStats", areq, &aresp);
  if (!s.ok()) return s;
  DayFigures days;
  Add(days, lresp.points_issued_per_day(), 0);
  Add(days, lresp.points_corrected_per_day(), 1);
  Add(days, lresp.points_redeemed_per_day(), 2);
  const av1::ActivityStats& a = aresp.stats();
  Add(days, a.activities_held_per_day(), 3);
  Add(days, a.attendances_confirmed_per_day(), 4);
  Add(days, a.service_records_submitted_per_day(), 5);
  Add(days, a.service_records_verified_per_day(), 6);
  Add(days, a.active_riders_per_day(), 7);
  // Every day of the range gets a row, with zeros where nothing happened.
  absl::CivilDay day, last;
  if (!absl::ParseCivilTime(from, &day) || !absl::ParseCivilTime(to, &last)) {
    return absl::InvalidArgumentError("--from/--to: not days");
  }
  for (; day <= last; ++day) {
    const std::string key = absl::FormatCivilTime(day);
    std::vector<int64_t> figures = days[key];
    figures.resize(kColumns.size() - 5);
    std::vector<std::string> row = {key, node.org_id(), node.code(), node.name(),
                                    EnumLabel(node.level())};
    for (int64_t v : figures) row.push_back(absl::StrCat(v));
    *csv += CsvLine(row);
  }
  return absl::OkStatus();
}

absl::Status Export(Context& ctx, const ExportOptions& o) {
  absl::StatusOr<std::string> from = ParseDay(o.from, "--from");
  if (!from.ok()) return from.status();
  absl::StatusOr<std::string> to = ParseDay(o.to, "--to");
  if (!to.ok()) return to.status();
  if (*to < *from) return absl::InvalidArgumentError("--to: is before --from");
  absl::StatusOr<idv1::OrgNode> node = ResolveOrg(ctx, o.node);
  if (!node.ok()) return node.status();
  std::vector<idv1::OrgNode> nodes = {*node};
  if (o.children) {
    idv1::ListOrgChildrenRequest req;
    req.set_org_id(node->org_id());
    req.set_page_size(100);
    do {
      idv1::ListOrgChildrenResponse resp;
      absl::Status s =
          ctx.client().Call("civicpoints.identity.v1.IdentityService.ListOrgChildren", req, &resp);
      if (!s.ok()) return s;
      for (const idv1::OrgNode& n : resp.children()) nodes.push_back(n);
      req.set_page_token(resp.next_page_token());
    } while (!req.page_token().empty());
  }
  // Written only when every node's figures came back, so a failed export leaves no partial file.
  std::string csv = CsvLine(kColumns);
  for (const idv1::OrgNode& n : nodes) {
    if (absl::Status s = ExportNode(ctx, n, *from, *to, &csv); !s.ok()) return s;
  }
  std::cout << csv;
  std::cout.flush();
  return absl::OkStatus();
}

}  // namespace

void AddStatsCommands(CLI::App& app, Context& ctx) {
  CLI::App* stats = app.add_subcommand("stats", "statistics for dashboards and reports");
  stats->require_subcommand(1);
  auto o = std::make_shared<ExportOptions>();
  CLI::App* exp = stats->add_subcommand(
      "export",
      "per-day figures of an org node as CSV on stdout: one row per day and node with points "
      "issued, corrected and redeemed (ledger) and activities held, attendances confirmed, "
      "service records submitted and verified, active riders (activity)");
  exp->add_option("--node", o->node, "org node id or code")->required();
  exp->add_option("--from", o->from, "first day YYYY-MM-DD (Asia/Shanghai)")->required();
  exp->add_option("--to", o->to, "last day YYYY-MM-DD, inclusive (at most 366 days)")->required();
  exp->add_flag("--children", o->children, "also a row per day for each direct child node");
  exp->callback([&ctx, o] { ctx.Run([&ctx, o] { return Export(ctx, *o); }); });
}

}  // namespace civicpoints::cpctl
