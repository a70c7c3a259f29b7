// The first exchange: the street worker puts the story's gifts in the catalog, the community
// worker stocks them at 清远西街小哥驿站 and opens an exchange window for the community's top 15.
// Then the next activities are scheduled, with riders enrolled, for staff to run live.
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status/status_macros.h"
#include "tools/demo/loader.h"

namespace civicpoints::demo {
namespace {

namespace av1 = activity::v1;
namespace rv1 = rewards::v1;

constexpr char kWindowTitle[] = "清远西街社区首次积分兑换";

void SetTime(google::protobuf::Timestamp* out, absl::Time t) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

struct UpcomingActivity {
  std::string key;
  std::string title;
  std::string description;
  av1::ActivityCategory category;
  int days_ahead;
  int hour;
  int capacity;
  int first_rider, riders;  // who enrols: riders [first_rider, first_rider + riders)
};

const std::vector<UpcomingActivity>& Upcoming() {
  static const auto* list = new std::vector<UpcomingActivity>{
      {"cleanup-2", "大西街一号小区环境整治和垃圾分类宣传（第二期）",
       "继续走进大西街一号小区，开展环境整治和生活垃圾分类宣传，助力全国文明城市创建。",
       av1::ACTIVITY_CATEGORY_ENVIRONMENTAL_CLEANUP, 1, 9, 30, 0, 12},
      {"civility-ride", "“文明创城 你我同行”骑行宣传",
       "从清远西街小哥驿站出发，沿路宣传创城工作：摆放共享单车、随手捡垃圾、擦拭公交站牌。",
       av1::ACTIVITY_CATEGORY_CIVILISATION_CAMPAIGN, 2, 15, 20, 20, 8},
  };
  return *list;
}

}  // namespace

absl::Status DemoLoader::LoadRewards() {
  const std::string& station = place_ids_.at(0);  // 清远西街小哥驿站
  rv1::ListStationStockRequest list_stock;
  list_stock.set_station_id(station);
  list_stock.set_page_size(100);
  rv1::ListStationStockResponse stocked;
  RETURN_IF_ERROR(
      gw_->Call(&RewardsStub::ListStationStock, community_.token, list_stock, &stocked));
  std::set<std::string> held;
  for (const rv1::StationStock& s : stocked.stock()) held.insert(s.gift_id());

  std::vector<std::string> gift_ids;
  for (const GiftSpec& spec : StoryGifts()) {
    rv1::CreateGiftRequest req;
    req.set_name(spec.name);
    req.set_description(spec.description);
    req.set_category(spec.category);
    req.set_points_cost(spec.points_cost);
    req.set_owner_org_id(Street());
    req.set_idempotency_key(absl::StrCat("demo-gift-", spec.key));
    rv1::CreateGiftResponse resp;
    absl::Status created = gw_->Call(&RewardsStub::CreateGift, street_.token, req, &resp);
    std::string gift_id = resp.gift().gift_id();
    if (created.code() == absl::StatusCode::kAlreadyExists) {  // made in the console
      rv1::ListGiftsRequest find;
      find.set_owner_org_id(Street());
      find.set_name_contains(spec.name);
      find.set_include_inactive(true);
      rv1::ListGiftsResponse found;
      RETURN_IF_ERROR(gw_->Call(&RewardsStub::ListGifts, street_.token, find, &found));
      for (const rv1::Gift& g : found.gifts()) {
        if (g.name() == spec.name) gift_id = g.gift_id();
      }
    } else if (!created.ok()) {
      return created;
    }
    gift_ids.push_back(gift_id);
    // Stock arrives once: a station that ever held the gift is not stocked again.
    if (held.count(gift_id)) continue;
    rv1::AddStationStockRequest add;
    add.set_station_id(station);
    add.set_gift_id(gift_id);
    add.set_quantity(spec.stock);
    add.set_reason("清远街道配送首次积分兑换礼品");
    add.set_idempotency_key(absl::StrCat("demo-stock-", spec.key));
    rv1::AddStationStockResponse added;
    RETURN_IF_ERROR(gw_->Call(&RewardsStub::AddStationStock, community_.token, add, &added));
  }

  rv1::ListExchangeWindowsRequest list;
  list.set_owner_org_id(Community());
  list.set_page_size(100);
  rv1::ListExchangeWindowsResponse windows;
  RETURN_IF_ERROR(gw_->Call(&RewardsStub::ListExchangeWindows, community_.token, list, &windows));
  rv1::ExchangeWindow window;
  for (const rv1::ExchangeWindow& w : windows.windows()) {
    if (w.title() == kWindowTitle) window = w;
  }
  if (window.window_id().empty()) {
    rv1::CreateExchangeWindowRequest req;
    rv1::ExchangeWindow* w = req.mutable_window();
    w->set_title(kWindowTitle);
    w->set_description(
        "以服务换积分，以积分换实物：积分排名前 15 名的小哥到清远西街社区小哥驿站兑换礼品。");
    w->set_owner_org_id(Community());
    w->add_station_ids(station);
    const absl::Time now = absl::Now();
    SetTime(w->mutable_start_time(), now + absl::Minutes(1));
    SetTime(w->mutable_end_time(), now + absl::Hours(24 * 7));
    for (const std::string& id : gift_ids) {
      rv1::WindowGift* g = w->add_gifts();
      g->set_gift_id(id);
      g->set_max_per_rider(1);
    }
    rv1::RankingRule* rule = w->mutable_eligibility()->mutable_ranking();
    rule->mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
    rule->mutable_scope()->set_org_id(Community());
    rule->mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
    rule->set_top_n(kExchangeTopN);
    w->set_max_items_per_rider(2);
    req.set_idempotency_key(absl::StrCat("demo-window-", absl::ToUnixSeconds(anchor_)));
    rv1::CreateExchangeWindowResponse created;
    RETURN_IF_ERROR(gw_->Call(&RewardsStub::CreateExchangeWindow, community_.token, req, &created));
    window = created.window();
  }
  if (window.state() == rv1::EXCHANGE_WINDOW_STATE_SCHEDULED) {
    rv1::OpenExchangeWindowRequest open;
    open.set_window_id(window.window_id());
    rv1::OpenExchangeWindowResponse opened;
    RETURN_IF_ERROR(gw_->Call(&RewardsStub::OpenExchangeWindow, community_.token, open, &opened));
  }
  return absl::OkStatus();
}

absl::Status DemoLoader::LoadUpcomingActivities() {
  av1::ListActivitiesRequest list;
  list.set_org_id(Community());
  list.set_page_size(100);
  std::map<std::string, av1::Activity> existing;
  do {
    av1::ListActivitiesResponse page;
    RETURN_IF_ERROR(gw_->Call(&ActivityStub::ListActivities, community_.token, list, &page));
    for (const av1::Activity& a : page.activities()) existing[a.title()] = a;
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());

  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), shanghai);
  for (const UpcomingActivity& plan : Upcoming()) {
    av1::Activity activity;
    if (auto it = existing.find(plan.title); it != existing.end()) {
      activity = it->second;
      if (activity.enrolled_count() >= plan.riders ||
          activity.status() != av1::ACTIVITY_STATUS_SCHEDULED) {
        continue;
      }
    } else {
      const absl::CivilDay day = today + plan.days_ahead;
      const absl::Time start =
          absl::FromCivil(absl::CivilHour(day.year(), day.month(), day.day(), plan.hour), shanghai);
      av1::CreateActivityRequest req;
      av1::Activity* a = req.mutable_activity();
      a->set_title(plan.title);
      a->set_description(plan.description);
      a->set_category(plan.category);
      a->set_place_id(plan.key == "cleanup-2" ? venue_id_ : place_ids_.at(0));
      a->set_organiser_org_id(Community());
      SetTime(a->mutable_start_time(), start);
      SetTime(a->mutable_end_time(), start + absl::Hours(2));
      a->set_capacity(plan.capacity);
      a->set_audience(av1::ACTIVITY_AUDIENCE_CHECKED_IN_RIDERS);
      req.set_idempotency_key(absl::StrFormat("demo-activity-%s-%04d%02d%02d", plan.key, day.year(),
                                              day.month(), day.day()));
      av1::CreateActivityResponse created;
      RETURN_IF_ERROR(gw_->Call(&ActivityStub::CreateActivity, community_.token, req, &created));
      activity = created.activity();
    }
    RETURN_IF_ERROR(ForEach(plan.riders, [&](int k) -> absl::Status {
      const int i = plan.first_rider + k;
      ASSIGN_OR_RETURN(std::string token, RiderToken(i));
      av1::EnrolInActivityRequest enrol;
      enrol.set_activity_id(activity.activity_id());
      enrol.set_idempotency_key(
          absl::StrCat("demo-enrol-", activity.activity_id(), "-", StoryRiders()[i].phone));
      av1::EnrolInActivityResponse enrolled;
      absl::Status s = gw_->Call(&ActivityStub::EnrolInActivity, token, enrol, &enrolled);
      return s.code() == absl::StatusCode::kAlreadyExists ? absl::OkStatus() : s;
    }));
  }
  return absl::OkStatus();
}

}  // namespace civicpoints::demo
