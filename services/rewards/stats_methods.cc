// Dashboard statistics: GetRedemptionStats. Orders count on the Shanghai day they reached their
// final state; READY orders count only in ready_now.
#include <pqxx/pqxx>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "services/rewards/access.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_service.h"

namespace civicpoints::rewards {

namespace {

absl::StatusOr<absl::CivilDay> ParseDay(const std::string& text, const char* field) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be a day as YYYY-MM-DD"));
  }
  return day;
}

struct Cell {
  std::string gift_id, gift_name, station_id, day;
  v1::RedemptionFigures f;
};

void Add(v1::RedemptionFigures* to, int state, int64_t orders, int64_t items, int64_t points) {
  switch (state) {
    case v1::REDEMPTION_STATE_FULFILLED:
      to->set_fulfilled_orders(to->fulfilled_orders() + orders);
      to->set_items_handed_out(to->items_handed_out() + items);
      to->set_points_spent(to->points_spent() + points);
      break;
    case v1::REDEMPTION_STATE_CANCELLED:
      to->set_cancelled_orders(to->cancelled_orders() + orders);
      break;
    case v1::REDEMPTION_STATE_EXPIRED:
      to->set_expired_orders(to->expired_orders() + orders);
      break;
    case v1::REDEMPTION_STATE_FAILED:
      to->set_failed_orders(to->failed_orders() + orders);
      break;
    case v1::REDEMPTION_STATE_READY:
      to->set_ready_now(to->ready_now() + orders);
      break;
    default:
      break;
  }
}

}  // namespace

grpc::Status RewardsServiceImpl::GetRedemptionStats(grpc::ServerContext* ctx,
                                                    const v1::GetRedemptionStatsRequest* req,
                                                    v1::GetRedemptionStatsResponse* resp) {
  return Handle(ctx, "GetRedemptionStats", [&](const Caller& caller) -> absl::Status {
    const auto& scope = req->scope();
    if (scope.level() == common::v1::ORG_LEVEL_UNSPECIFIED ||
        !common::v1::OrgLevel_IsValid(scope.level())) {
      return absl::InvalidArgumentError("scope: is required, with its level");
    }
    if (scope.level() != common::v1::ORG_LEVEL_CITY) {
      RETURN_IF_ERROR(CheckId(scope.org_id(), "scope.org_id"));
    }
    ASSIGN_OR_RETURN(absl::CivilDay start, ParseDay(req->start_day(), "start_day"));
    ASSIGN_OR_RETURN(absl::CivilDay end, ParseDay(req->end_day(), "end_day"));
    if (end < start) return absl::InvalidArgumentError("end_day: is before start_day");
    if (end - start > 366) {
      return absl::InvalidArgumentError("end_day: must be at most 366 days after start_day");
    }
    std::set<int> dims;
    for (int d : req->group_by()) {
      if (d == v1::STATS_DIMENSION_UNSPECIFIED || !v1::StatsDimension_IsValid(d)) {
        return absl::InvalidArgumentError("group_by: holds an unspecified or unknown dimension");
      }
      if (!dims.insert(d).second) {
        return absl::InvalidArgumentError("group_by: names a dimension twice");
      }
    }
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 4));
    common::v1::OrgPath path;
    if (scope.level() != common::v1::ORG_LEVEL_CITY) {
      absl::StatusOr<OrgInfo> org = directory_->GetOrg(scope.org_id());
      if (!org.ok()) {
        if (org.status().code() == absl::StatusCode::kNotFound) {
          return absl::NotFoundError(
              absl::StrCat("scope.org_id: ", scope.org_id(), " is not an org node"));
        }
        return org.status();
      }
      path = org->path;
    }
    RETURN_IF_ERROR(CheckCovers(caller.who(), path, "scope"));

    const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
    const int64_t from = Us(absl::FromCivil(start, shanghai));
    const int64_t to = Us(absl::FromCivil(end + 1, shanghai));
    const bool by_gift = dims.count(v1::STATS_DIMENSION_GIFT) > 0;
    const bool by_station = dims.count(v1::STATS_DIMENSION_STATION) > 0;
    const bool by_day = dims.count(v1::STATS_DIMENSION_DAY) > 0;
    std::map<std::tuple<std::string, std::string, std::string>, Cell> cells;
    v1::RedemptionFigures totals;
    RETURN_IF_ERROR(InReadTx("GetRedemptionStats", [&](pqxx::transaction_base& tx) {
      const std::string filters =
          "($1::int = 1 OR (CASE $1::int WHEN 2 THEN district_id WHEN 3 THEN street_id ELSE "
          "community_id END) = $2) AND ($3 = '' OR window_id = $3) AND ($4 = '' OR gift_id = $4) "
          "AND ($5 = '' OR station_id = $5)";
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT gift_id, max(gift_name), station_id, to_char((ended_at AT TIME "
                       "ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD'), state, count(*), "
                       "sum(quantity), sum(points) FROM redemptions WHERE ",
                       filters,
                       " AND state IN (redemption_state('FULFILLED'), "
                       "redemption_state('CANCELLED'), redemption_state('EXPIRED'), "
                       "redemption_state('FAILED')) AND ended_at >= from_us($6::bigint) AND "
                       "ended_at < from_us($7::bigint) GROUP BY 1, 3, 4, 5 "
                       "UNION ALL SELECT gift_id, max(gift_name), station_id, '', "
                       "redemption_state('READY'), count(*), "
                       "sum(quantity), sum(points) FROM redemptions WHERE ",
                       filters, " AND state = redemption_state('READY') GROUP BY 1, 3"),
          static_cast<int>(scope.level()), scope.org_id(), req->window_id(), req->gift_id(),
          req->station_id(), from, to);
      for (const auto& row : rows) {
        const int state = row[4].as<int>();
        const int64_t orders = row[5].as<int64_t>(), items = row[6].as<int64_t>(),
                      points = row[7].as<int64_t>();
        Add(&totals, state, orders, items, points);
        if (dims.empty() || (by_day && state == v1::REDEMPTION_STATE_READY)) continue;
        Cell key;
        if (by_gift)
          key.gift_id = row[0].as<std::string>(), key.gift_name = row[1].as<std::string>();
        if (by_station) key.station_id = row[2].as<std::string>();
        if (by_day) key.day = row[3].as<std::string>();
        Cell& cell = cells[{key.gift_id, key.station_id, key.day}];
        cell.gift_id = key.gift_id, cell.gift_name = key.gift_name;
        cell.station_id = key.station_id, cell.day = key.day;
        Add(&cell.f, state, orders, items, points);
      }
      return absl::OkStatus();
    }));
    *resp->mutable_totals() = totals;
    SetTime(resp->mutable_compute_time(), Us(caller.now));

    // Rows in the order of group_by: days ascending, gifts and stations by points spent, most
    // first (then by id).
    std::vector<Cell> sorted;
    for (auto& [k, c] : cells) sorted.push_back(c);
    auto less = [&](const Cell& a, const Cell& b) {
      for (int d : req->group_by()) {
        if (d == v1::STATS_DIMENSION_DAY) {
          if (a.day != b.day) return a.day < b.day;
          continue;
        }
        if (a.f.points_spent() != b.f.points_spent()) {
          return a.f.points_spent() > b.f.points_spent();
        }
        const std::string& ka = d == v1::STATS_DIMENSION_GIFT ? a.gift_id : a.station_id;
        const std::string& kb = d == v1::STATS_DIMENSION_GIFT ? b.gift_id : b.station_id;
        if (ka != kb) return ka < kb;
      }
      return false;
    };
    std::sort(sorted.begin(), sorted.end(), less);
    size_t begin = 0;
    if (!paging.after.empty()) {
      Cell last;
      int64_t points = 0;
      (void)absl::SimpleAtoi(paging.after[0], &points);
      last.f.set_points_spent(points);
      last.gift_id = paging.after[1], last.station_id = paging.after[2], last.day = paging.after[3];
      begin = static_cast<size_t>(std::upper_bound(sorted.begin(), sorted.end(), last, less) -
                                  sorted.begin());
    }
    const size_t stop = std::min(sorted.size(), begin + static_cast<size_t>(paging.size));
    for (size_t i = begin; i < stop; ++i) {
      v1::RedemptionStatsRow* row = resp->add_rows();
      row->set_gift_id(sorted[i].gift_id);
      row->set_gift_name(sorted[i].gift_name);
      row->set_station_id(sorted[i].station_id);
      row->set_day(sorted[i].day);
      *row->mutable_figures() = sorted[i].f;
    }
    if (stop < sorted.size() && stop > begin) {
      const Cell& last = sorted[stop - 1];
      resp->set_next_page_token(EncodePageToken(
          paging.tag,
          {std::to_string(last.f.points_spent()), last.gift_id, last.station_id, last.day}));
    }
    return absl::OkStatus();
  });
}

}  // namespace civicpoints::rewards
