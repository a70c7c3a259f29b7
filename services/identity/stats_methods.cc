// Dashboard statistics: the identity side of a node's figures, rolled up over its subtree, and
// the same figures for each child of a node. Riders are counted only when they consented to
// aggregate statistics at registration.
#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/identity/identity_service.h"
#include "services/identity/records.h"
#include "services/identity/service_support.h"

namespace civicpoints::identity {
namespace {

// Days are Asia/Shanghai calendar days; China keeps UTC+8 all year.
const absl::TimeZone kShanghai = absl::FixedTimeZone(8 * 3600);
constexpr char kShanghaiDay[] =
    "to_char((%s AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD')";

std::string DayOf(const std::string& column) {
  return absl::StrReplaceAll(kShanghaiDay, {{"%s", column}});
}

struct Figures {
  int64_t registered = 0, checked_in = 0, active = 0, pending = 0, staff = 0;
  std::map<std::pair<int, std::string>, int64_t> platforms;
  std::map<int, int64_t> roles;
};

// The figures of `scope`'s subtree, one entry per value of the org-node column `group` ("" for
// the whole subtree, keyed "").
std::map<std::string, Figures> Compute(pqxx::transaction_base& tx, const OrgRow& scope,
                                       const std::string& group, int window_days, absl::Time now) {
  std::map<std::string, Figures> out;
  const auto key = [&](const std::string& table) {
    return group.empty() ? std::string("''") : absl::StrCat(table, ".", group);
  };
  const std::string riders_from =
      "FROM people p LEFT JOIN check_ins h ON h.person_id = p.person_id AND h.status = "
      "check_in_status('ACTIVE') "
      "LEFT JOIN org_nodes oc ON oc.org_id = coalesce(h.community_id, p.origin_community_id) "
      "WHERE p.is_rider AND p.status <> person_status('CLOSED') AND p.counted_in_stats AND " +
      InSubtree(scope, "oc.org_id", "oc.district_id", "oc.street_id", 1);
  const std::string ci_key = group == "community_id" ? "ci.community_id" : key("ci");
  for (const auto& row : tx.exec_params(
           absl::StrCat("SELECT ", key("oc"),
                        ", count(*), count(h.check_in_id), "
                        "count(h.check_in_id) FILTER (WHERE p.last_active_at >= from_us($2)) ",
                        riders_from, " GROUP BY 1"),
           scope.org_id, Us(now - absl::Hours(24) * window_days))) {
    if (row[0].is_null()) continue;
    Figures& f = out[row[0].as<std::string>()];
    f.registered = row[1].as<int64_t>();
    f.checked_in = row[2].as<int64_t>();
    f.active = row[3].as<int64_t>();
  }
  for (const auto& row : tx.exec_params(
           absl::StrCat("SELECT ", key("oc"),
                        ", pa.platform, pa.platform_name, "
                        "count(DISTINCT p.person_id) ",
                        absl::StrReplaceAll(riders_from, {{"WHERE",
                                                           "JOIN platform_accounts pa ON "
                                                           "pa.person_id = p.person_id WHERE"}}),
                        " GROUP BY 1, 2, 3 ORDER BY 4 DESC, 2"),
           scope.org_id)) {
    if (row[0].is_null()) continue;
    out[row[0].as<std::string>()].platforms[{row[1].as<int>(), row[2].as<std::string>()}] =
        row[3].as<int64_t>();
  }
  for (const auto& row : tx.exec_params(
           absl::StrCat(
               "SELECT ", ci_key,
               ", count(*) FROM check_ins ci WHERE ci.status = check_in_status('PENDING') AND ",
               InSubtree(scope, "ci.community_id", "ci.district_id", "ci.street_id", 1),
               " GROUP BY 1"),
           scope.org_id)) {
    if (row[0].is_null()) continue;
    out[row[0].as<std::string>()].pending = row[1].as<int64_t>();
  }
  const std::string staff_from =
      "FROM role_grants g JOIN org_nodes o ON o.org_id = g.org_id JOIN people p ON "
      "p.person_id = g.person_id WHERE g.revoked_at IS NULL AND g.role IN "
      "(role('COMMUNITY_STAFF'), "
      "role('STREET_STAFF'), role('STATION_KEEPER'), role('MERCHANT'), role('DISTRICT_ADMIN')) AND "
      "p.status = person_status('ACTIVE') AND " +
      InSubtree(scope, "o.org_id", "o.district_id", "o.street_id", 1);
  for (const auto& row :
       tx.exec_params(absl::StrCat("SELECT ", key("o"), ", g.role, count(DISTINCT g.person_id) ",
                                   staff_from, " GROUP BY 1, 2"),
                      scope.org_id)) {
    if (row[0].is_null()) continue;
    out[row[0].as<std::string>()].roles[row[1].as<int>()] = row[2].as<int64_t>();
  }
  for (const auto& row :
       tx.exec_params(absl::StrCat("SELECT ", key("o"), ", count(DISTINCT g.person_id) ",
                                   staff_from, " GROUP BY 1"),
                      scope.org_id)) {
    if (row[0].is_null()) continue;
    out[row[0].as<std::string>()].staff = row[1].as<int64_t>();
  }
  return out;
}

void FillFigures(const OrgRow& org, const Figures& f, int window_days, absl::Time now,
                 v1::OrgStats* stats) {
  stats->set_org_id(org.org_id);
  stats->set_org_code(org.code);
  stats->set_org_name(org.name);
  stats->set_org_level(org.level);
  stats->set_riders_registered(f.registered);
  stats->set_riders_checked_in(f.checked_in);
  stats->set_riders_active(f.active);
  stats->set_active_window_days(window_days);
  stats->set_pending_check_in_requests(f.pending);
  for (const auto& [platform, riders] : f.platforms) {
    v1::PlatformCount* c = stats->add_riders_by_platform();
    c->set_platform(static_cast<v1::DeliveryPlatform>(platform.first));
    c->set_platform_name(platform.second);
    c->set_riders(riders);
  }
  stats->set_staff_count(f.staff);
  for (const auto& [role, people] : f.roles) {
    v1::RoleCount* c = stats->add_staff_by_role();
    c->set_role(static_cast<common::v1::Role>(role));
    c->set_people(people);
  }
  SetTime(stats->mutable_as_of_time(), Us(now));
}

absl::StatusOr<int> WindowDays(int32_t requested) {
  if (requested == 0) return 30;
  if (requested < 1 || requested > 365) {
    return absl::InvalidArgumentError("active_window_days: must be 1-365");
  }
  return requested;
}

absl::StatusOr<absl::Time> ParseDay(const std::string& day, const char* field) {
  absl::Time t;
  std::string err;
  if (day.size() != 10 || !absl::ParseTime("%Y-%m-%d", day, kShanghai, &t, &err)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", day, "' is not YYYY-MM-DD"));
  }
  return t;
}

std::string FormatDay(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, kShanghai); }

// Fills one DailyCount per day of [start, end] from (day, count) rows, zeros where none.
void FillSeries(const pqxx::result& rows, absl::Time start, absl::Time end,
                google::protobuf::RepeatedPtrField<common::v1::DailyCount>* series) {
  std::map<std::string, int64_t> by_day;
  for (const auto& row : rows) by_day[row[0].as<std::string>()] = row[1].as<int64_t>();
  for (absl::Time d = start; d <= end; d += absl::Hours(24)) {
    common::v1::DailyCount* c = series->Add();
    c->set_day(FormatDay(d));
    auto it = by_day.find(c->day());
    c->set_value(it == by_day.end() ? 0 : it->second);
  }
}

int64_t OrderValue(const v1::OrgStats& s, v1::OrgStatsOrder order) {
  switch (order) {
    case v1::ORG_STATS_ORDER_RIDERS_REGISTERED:
      return s.riders_registered();
    case v1::ORG_STATS_ORDER_RIDERS_ACTIVE:
      return s.riders_active();
    case v1::ORG_STATS_ORDER_STAFF_COUNT:
      return s.staff_count();
    case v1::ORG_STATS_ORDER_CODE:
      return 0;
    default:
      return s.riders_checked_in();
  }
}

}  // namespace

grpc::Status IdentityServiceImpl::GetOrgStats(grpc::ServerContext* ctx,
                                              const v1::GetOrgStatsRequest* req,
                                              v1::GetOrgStatsResponse* resp) {
  return Handle(ctx, "GetOrgStats", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<int> window = WindowDays(req->active_window_days());
    if (!window.ok()) return window.status();
    absl::Time end = absl::FromCivil(absl::ToCivilDay(caller.now, kShanghai), kShanghai);
    if (!req->end_day().empty()) {
      absl::StatusOr<absl::Time> parsed = ParseDay(req->end_day(), "end_day");
      if (!parsed.ok()) return parsed.status();
      end = *parsed;
    }
    absl::Time start = end - absl::Hours(24 * 29);
    if (!req->start_day().empty()) {
      absl::StatusOr<absl::Time> parsed = ParseDay(req->start_day(), "start_day");
      if (!parsed.ok()) return parsed.status();
      start = *parsed;
    }
    if (end < start) return absl::InvalidArgumentError("start_day: is after end_day");
    if (end - start >= absl::Hours(24 * 366)) {
      return absl::InvalidArgumentError("start_day: the range is longer than 366 days");
    }
    return InReadTx("org stats", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> org = LoadOrg(tx, req->org_id(), "org_id");
      if (!org.ok()) return org.status();
      if (absl::Status s = CheckCoversOrg(caller.who(), *org, "org node " + org->org_id); !s.ok())
        return s;
      std::map<std::string, Figures> figures = Compute(tx, *org, "", *window, caller.now);
      v1::OrgStats* stats = resp->mutable_stats();
      FillFigures(*org, figures[""], *window, caller.now, stats);
      const int64_t from = Us(start), to = Us(end + absl::Hours(24));
      FillSeries(
          tx.exec_params(
              absl::StrCat("SELECT ", DayOf("p.registered_at"),
                           ", count(*) FROM people p "
                           "LEFT JOIN check_ins h ON h.person_id = p.person_id AND h.status = "
                           "check_in_status('ACTIVE') "
                           "LEFT JOIN org_nodes oc ON oc.org_id = "
                           "coalesce(h.community_id, p.origin_community_id) WHERE p.is_rider AND "
                           "p.counted_in_stats AND p.registered_at >= from_us($2) AND "
                           "p.registered_at < from_us($3) AND ",
                           InSubtree(*org, "oc.org_id", "oc.district_id", "oc.street_id", 1),
                           " GROUP BY 1"),
              org->org_id, from, to),
          start, end, stats->mutable_registrations_daily());
      FillSeries(
          tx.exec_params(
              absl::StrCat("SELECT ", DayOf("ci.started_at"),
                           ", count(*) FROM check_ins ci WHERE ci.status IN "
                           "(check_in_status('ACTIVE'), check_in_status('ENDED')) AND "
                           "ci.started_at >= from_us($2) AND ci.started_at < from_us($3) AND ",
                           InSubtree(*org, "ci.community_id", "ci.district_id", "ci.street_id", 1),
                           " GROUP BY 1"),
              org->org_id, from, to),
          start, end, stats->mutable_check_ins_daily());
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ListChildOrgStats(grpc::ServerContext* ctx,
                                                    const v1::ListChildOrgStatsRequest* req,
                                                    v1::ListChildOrgStatsResponse* resp) {
  return Handle(ctx, "ListChildOrgStats", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<int> window = WindowDays(req->active_window_days());
    if (!window.ok()) return window.status();
    if (!v1::OrgStatsOrder_IsValid(req->order_by())) {
      return absl::InvalidArgumentError("order_by: is not a known order");
    }
    absl::StatusOr<Paging> paging = StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    return InReadTx("child org stats", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> parent = LoadOrg(tx, req->org_id(), "org_id");
      if (!parent.ok()) return parent.status();
      if (absl::Status s = CheckCoversOrg(caller.who(), *parent, "org node " + parent->org_id);
          !s.ok()) {
        return s;
      }
      static constexpr const char* kChildColumn[] = {"", "district_id", "street_id",
                                                     "community_id"};
      // A community has no children in the tree, and a department none at all.
      if (parent->level >= common::v1::ORG_LEVEL_COMMUNITY) return absl::OkStatus();
      const char* column = kChildColumn[parent->level];
      std::map<std::string, Figures> figures = Compute(tx, *parent, column, *window, caller.now);
      std::vector<v1::OrgStats> rows;
      for (const auto& row : tx.exec_params(
               absl::StrCat("SELECT ", kOrgColumns,
                            " FROM org_nodes WHERE parent_id = $1 AND ($2 OR retired_at IS NULL) "
                            "AND level <> org_level('DEPARTMENT')"),
               parent->org_id, req->include_retired())) {
        const OrgRow child = ReadOrg(row);
        v1::OrgStats s;
        FillFigures(child, figures[child.org_id], *window, caller.now, &s);
        rows.push_back(std::move(s));
      }
      const v1::OrgStatsOrder order = req->order_by();
      std::sort(rows.begin(), rows.end(), [&](const v1::OrgStats& a, const v1::OrgStats& b) {
        const int64_t va = OrderValue(a, order), vb = OrderValue(b, order);
        return va != vb ? va > vb : a.org_code() < b.org_code();
      });
      int64_t after_value = 0;
      const bool paged = !paging->after.empty() && absl::SimpleAtoi(paging->after[0], &after_value);
      for (const v1::OrgStats& s : rows) {
        if (paged) {
          const int64_t v = OrderValue(s, order);
          if (v > after_value || (v == after_value && s.org_code() <= paging->after[1])) continue;
        }
        if (resp->stats_size() == paging->size) {
          const v1::OrgStats& last = *resp->stats().rbegin();
          resp->set_next_page_token(EncodePageToken(
              paging->tag, {std::to_string(OrderValue(last, order)), last.org_code()}));
          break;
        }
        *resp->add_stats() = s;
      }
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::identity
