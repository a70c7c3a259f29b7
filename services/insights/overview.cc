#include "services/insights/overview.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "civicpoints/insights/v1/errors.pb.h"
#include "common/base/time_units.h"
#include "common/status/refusal.h"

namespace civicpoints::insights {
namespace {

constexpr int kDefaultDays = 30;
constexpr int kMaxDays = 366;

absl::StatusOr<absl::CivilDay> ParseDay(const std::string& text, absl::string_view field) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) {
    return Refuse(absl::StatusCode::kInvalidArgument, v1::INSIGHTS_ERROR_REASON_BAD_DATE_RANGE,
                  absl::StrCat(field, ": '", text, "' is not a day as YYYY-MM-DD"),
                  {{"field", std::string(field)}});
  }
  return day;
}

// Every day of the range in order.
std::vector<std::string> Days(const DayRange& range) {
  absl::CivilDay from, to;
  std::vector<std::string> out;
  if (!absl::ParseCivilTime(range.from_day, &from) || !absl::ParseCivilTime(range.to_day, &to)) {
    return out;
  }
  for (absl::CivilDay d = from; d <= to; ++d) out.push_back(absl::FormatCivilTime(d));
  return out;
}

template <typename Series>
std::map<std::string, int64_t> ByDay(const Series& series) {
  std::map<std::string, int64_t> out;
  for (const auto& d : series) out[d.day()] += d.value();
  return out;
}

// Every day of `days` with its value in `values` (0 where absent).
void DenseCounts(const std::vector<std::string>& days, const std::map<std::string, int64_t>& values,
                 google::protobuf::RepeatedPtrField<common::v1::DailyCount>* out) {
  for (const std::string& day : days) {
    common::v1::DailyCount* c = out->Add();
    c->set_day(day);
    const auto found = values.find(day);
    c->set_value(found == values.end() ? 0 : found->second);
  }
}

void DenseFigures(const std::vector<std::string>& days,
                  const std::map<std::string, int64_t>& values, const SmallCellRule& rule,
                  google::protobuf::RepeatedPtrField<v1::DailyFigure>* out) {
  std::vector<v1::Figure*> group;
  for (const std::string& day : days) {
    v1::DailyFigure* d = out->Add();
    d->set_day(day);
    const auto found = values.find(day);
    *d->mutable_figure() = MakeFigure(found == values.end() ? 0 : found->second, rule);
    group.push_back(d->mutable_figure());
  }
  ProtectGroup(group, rule);
}

// The identity side of one node.
void FillRiders(const identity::v1::OrgStats& s, const SmallCellRule& rule, v1::NodeFigures* out) {
  out->set_org_id(s.org_id());
  out->set_org_name(s.org_name());
  out->set_org_level(s.org_level());
  *out->mutable_riders_registered() = MakeFigure(s.riders_registered(), rule);
  *out->mutable_riders_checked_in() = MakeFigure(s.riders_checked_in(), rule);
  *out->mutable_riders_active() = MakeFigure(s.riders_active(), rule);
  for (const identity::v1::PlatformCount& p : s.riders_by_platform()) {
    v1::PlatformFigure* f = out->add_riders_by_platform();
    f->set_platform(p.platform());
    f->set_platform_name(p.platform_name());
    *f->mutable_riders() = MakeFigure(p.riders(), rule);
  }
}

// The activity side of one node.
void FillActivity(const activity::v1::ActivityStats& s, const SmallCellRule& rule,
                  v1::NodeFigures* out) {
  out->set_posts_open(s.posts_open());
  *out->mutable_post_seats_filled() = MakeFigure(s.post_seats_filled(), rule);
  out->set_activities_held(s.activities_held());
  *out->mutable_attendances_confirmed() = MakeFigure(s.attendances_confirmed(), rule);
  *out->mutable_distinct_participants() = MakeFigure(s.distinct_participants(), rule);
  std::vector<v1::Figure*> records;
  for (const activity::v1::ServiceRecordCount& c : s.service_records()) {
    v1::ServiceRecordFigure* f = out->add_service_records();
    f->set_kind(c.kind());
    f->set_status(c.status());
    *f->mutable_records() = MakeFigure(c.count(), rule);
    records.push_back(f->mutable_records());
  }
  ProtectGroup(records, rule);
  *out->mutable_review_backlog() = MakeFigure(s.review_backlog(), rule);
  if (s.has_review_backlog_oldest_time()) {
    *out->mutable_review_backlog_oldest_time() = s.review_backlog_oldest_time();
  }
}

void FillPoints(const ledger::v1::OrgNodeStatistics& s, const SmallCellRule& rule,
                v1::NodeFigures* out) {
  out->set_points_issued(s.points_issued());
  out->set_points_redeemed(s.points_redeemed());
  out->set_points_outstanding(s.points_outstanding());
  *out->mutable_riders_awarded() = MakeFigure(s.riders_awarded(), rule);
}

void FillCoverage(const activity::v1::PlaceCoverage& c, v1::NodeFigures* out) {
  out->set_rider_stations(c.rider_stations());
  out->set_love_corners(c.love_corners());
  out->set_communities_covered(c.communities_covered());
  out->set_communities_total(c.communities_total());
}

// Whether `path` lies in the node `org_id`.
bool PathIn(const common::v1::OrgPath& path, const std::string& org_id) {
  return path.district_id() == org_id || path.street_id() == org_id ||
         path.community_id() == org_id;
}

// The Figure fields of NodeFigures that sum over children to the node's own.
using FigureField = v1::Figure* (v1::NodeFigures::*)();
constexpr FigureField kAdditiveFigures[] = {
    &v1::NodeFigures::mutable_riders_registered,     &v1::NodeFigures::mutable_riders_checked_in,
    &v1::NodeFigures::mutable_riders_active,         &v1::NodeFigures::mutable_post_seats_filled,
    &v1::NodeFigures::mutable_attendances_confirmed, &v1::NodeFigures::mutable_review_backlog,
    &v1::NodeFigures::mutable_gifts_handed_out,
};

}  // namespace

absl::StatusOr<DayRange> ResolveRange(const std::string& from_day, const std::string& to_day,
                                      absl::Time now) {
  absl::CivilDay to = absl::ToCivilDay(now, times::Shanghai());
  if (!to_day.empty()) {
    absl::StatusOr<absl::CivilDay> t = ParseDay(to_day, "to_day");
    if (!t.ok()) return t.status();
    to = *t;
  }
  absl::CivilDay from = to - (kDefaultDays - 1);
  if (!from_day.empty()) {
    absl::StatusOr<absl::CivilDay> f = ParseDay(from_day, "from_day");
    if (!f.ok()) return f.status();
    from = *f;
  }
  if (from > to) {
    return Refuse(absl::StatusCode::kInvalidArgument, v1::INSIGHTS_ERROR_REASON_BAD_DATE_RANGE,
                  absl::StrCat("from_day: ", absl::FormatCivilTime(from), " is after to_day ",
                               absl::FormatCivilTime(to)),
                  {{"field", "from_day"}});
  }
  if (to - from >= kMaxDays) {
    return Refuse(absl::StatusCode::kInvalidArgument, v1::INSIGHTS_ERROR_REASON_BAD_DATE_RANGE,
                  absl::StrCat("to_day: the range from ", absl::FormatCivilTime(from), " to ",
                               absl::FormatCivilTime(to), " is over ", kMaxDays, " days"),
                  {{"field", "to_day"}});
  }
  return DayRange{absl::FormatCivilTime(from), absl::FormatCivilTime(to)};
}

v1::GetOrgOverviewResponse BuildOverview(const OverviewInputs& in, const SmallCellRule& rule) {
  v1::GetOrgOverviewResponse out;
  out.set_from_day(in.range.from_day);
  out.set_to_day(in.range.to_day);
  out.mutable_small_cell_rule()->set_threshold(rule.threshold);
  out.mutable_small_cell_rule()->set_applied(rule.applied);
  *out.mutable_org_path() = in.node.path();
  times::SetTime(out.mutable_as_of_time(), times::Us(in.now));

  // The node.
  v1::NodeFigures* node = out.mutable_node();
  FillRiders(in.org_stats, rule, node);
  node->set_org_id(in.node.org_id());
  node->set_org_name(in.node.name());
  node->set_org_level(in.node.level());
  FillActivity(in.activity.stats(), rule, node);
  FillPoints(in.points.total(), rule, node);
  *node->mutable_gifts_handed_out() = MakeFigure(in.by_gift.totals().items_handed_out(), rule);
  const bool community = in.node.level() == common::v1::ORG_LEVEL_COMMUNITY;
  if (community) {
    for (const activity::v1::PlaceCoverage& c : in.coverage.communities()) {
      if (c.scope().org_id() == in.node.org_id()) FillCoverage(c, node);
    }
  } else {
    FillCoverage(in.coverage.total(), node);
  }

  // Its children, in identity's order (by org id).
  std::map<std::string, const activity::v1::ActivityStats*> activity_of;
  for (const auto& c : in.activity.children()) activity_of[c.scope().org_id()] = &c;
  std::map<std::string, const ledger::v1::OrgNodeStatistics*> points_of;
  for (const auto& c : in.points.children()) points_of[c.scope().org_id()] = &c;
  for (const identity::v1::OrgStats& s : in.child_org_stats) {
    v1::NodeFigures* child = out.add_children();
    FillRiders(s, rule, child);
    if (auto a = activity_of.find(s.org_id()); a != activity_of.end()) {
      FillActivity(*a->second, rule, child);
    } else {
      FillActivity(activity::v1::ActivityStats(), rule, child);
    }
    if (auto p = points_of.find(s.org_id()); p != points_of.end()) {
      FillPoints(*p->second, rule, child);
    } else {
      FillPoints(ledger::v1::OrgNodeStatistics(), rule, child);
    }
    const auto r = in.child_redemptions.find(s.org_id());
    *child->mutable_gifts_handed_out() =
        MakeFigure(r == in.child_redemptions.end() ? 0 : r->second.items_handed_out(), rule);
    activity::v1::PlaceCoverage sum;
    for (const activity::v1::PlaceCoverage& c : in.coverage.communities()) {
      if (!PathIn(c.org_path(), s.org_id())) continue;
      sum.set_rider_stations(sum.rider_stations() + c.rider_stations());
      sum.set_love_corners(sum.love_corners() + c.love_corners());
      sum.set_communities_covered(sum.communities_covered() + c.communities_covered());
      sum.set_communities_total(sum.communities_total() + c.communities_total());
    }
    FillCoverage(sum, child);
  }
  for (FigureField field : kAdditiveFigures) {
    std::vector<v1::Figure*> group;
    for (v1::NodeFigures& child : *out.mutable_children()) group.push_back((child.*field)());
    ProtectGroup(group, rule);
  }

  // The daily series.
  const std::vector<std::string> days = Days(in.range);
  v1::DailySeries* daily = out.mutable_daily();
  DenseCounts(days, ByDay(in.points.points_issued_per_day()), daily->mutable_points_issued());
  DenseCounts(days, ByDay(in.points.points_redeemed_per_day()), daily->mutable_points_redeemed());
  const activity::v1::ActivityStats& a = in.activity.stats();
  DenseCounts(days, ByDay(a.activities_held_per_day()), daily->mutable_activities_held());
  DenseFigures(days, ByDay(a.attendances_confirmed_per_day()), rule,
               daily->mutable_attendances_confirmed());
  DenseFigures(days, ByDay(a.service_records_submitted_per_day()), rule,
               daily->mutable_service_records_submitted());
  DenseFigures(days, ByDay(a.service_records_verified_per_day()), rule,
               daily->mutable_service_records_verified());
  DenseFigures(days, ByDay(in.org_stats.check_ins_daily()), rule, daily->mutable_check_ins());
  std::map<std::string, int64_t> handed_out;
  for (const rewards::v1::RedemptionStatsRow& row : in.by_day) {
    handed_out[row.day()] += row.figures().items_handed_out();
  }
  DenseFigures(days, handed_out, rule, daily->mutable_gifts_handed_out());

  // Gifts and stations, most points first (as rewards orders them).
  std::vector<v1::Figure*> gifts, stations;
  for (const rewards::v1::RedemptionStatsRow& row : in.by_gift.rows()) {
    v1::GiftFigure* g = out.add_gifts();
    g->set_gift_id(row.gift_id());
    g->set_gift_name(row.gift_name());
    *g->mutable_items_handed_out() = MakeFigure(row.figures().items_handed_out(), rule);
    g->set_points_spent(row.figures().points_spent());
    gifts.push_back(g->mutable_items_handed_out());
  }
  for (const rewards::v1::RedemptionStatsRow& row : in.by_station.rows()) {
    v1::StationFigure* st = out.add_stations();
    st->set_station_id(row.station_id());
    const auto name = in.station_names.find(row.station_id());
    if (name != in.station_names.end()) st->set_station_name(name->second);
    *st->mutable_items_handed_out() = MakeFigure(row.figures().items_handed_out(), rule);
    st->set_points_spent(row.figures().points_spent());
    stations.push_back(st->mutable_items_handed_out());
  }
  ProtectGroup(gifts, rule);
  ProtectGroup(stations, rule);

  // Coverage per community.
  for (const activity::v1::PlaceCoverage& c : in.coverage.communities()) {
    if (community && c.scope().org_id() != in.node.org_id()) continue;
    v1::CommunityCoverage* row = out.add_coverage();
    row->set_org_id(c.scope().org_id());
    const auto name = in.community_names.find(c.scope().org_id());
    if (name != in.community_names.end()) row->set_org_name(name->second);
    row->set_rider_stations(c.rider_stations());
    row->set_love_corners(c.love_corners());
  }

  // The month's top, under the names the riders chose for rankings.
  *out.mutable_top_riders_period() = in.top.period();
  for (const ledger::v1::RankingEntry& e : in.top.entries()) {
    v1::RankedRider* r = out.add_top_riders();
    r->set_rank(e.rank());
    r->set_display_name(e.display_name());
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    r->set_masked_name(e.display_name());
#pragma GCC diagnostic pop
    r->set_score(e.score());
  }
  return out;
}

}  // namespace civicpoints::insights
