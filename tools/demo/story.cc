#include "tools/demo/story.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace civicpoints::demo {
namespace {

using activity::v1::OpeningHours;
using activity::v1::Place;
using activity::v1::PlaceServiceType;
using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;
namespace av1 = activity::v1;

// Riders' names: common names of the region, none of them a real person of the story (the page
// names no rider).
constexpr std::array<const char*, kRiderCount> kRiderNames = {
    "王建军", "李志强", "张伟", "刘洋", "陈磊", "杨帆", "赵鹏", "黄勇", "周杰", "吴涛",
    "徐斌",   "孙浩",   "马超", "朱明", "胡军", "郭亮", "何平", "高峰", "林强", "罗刚",
    "郑凯",   "梁辉",   "谢飞", "宋涛", "唐亮", "韩冰", "冯斌", "于洋", "董浩", "萧然",
    "程龙",   "曹阳",   "袁野", "邓超", "许诺", "傅明", "沈立", "曾志", "彭辉", "吕强",
    "苏杭",   "卢伟",   "蒋勇", "蔡军", "贾鹏", "丁磊", "魏东", "薛峰", "叶飞", "阎涛",
    "余波",   "潘杰",   "杜刚", "戴明", "夏雨", "任重"};

// Points each rider holds after the story's history, best first: the top 15 are distinct and all
// above the 16th, so the first exchange's "top 15" is exactly 15 riders; the last 20 riders checked
// in recently and have not earned yet. Every figure is a sum of 5-point services and shifts and
// 3-point problem reports (1, 2, 4 and 7 cannot be).
constexpr std::array<int64_t, kRiderCount> kRiderPoints = {kLeaderPoints,
                                                           96,
                                                           88,
                                                           81,
                                                           75,
                                                           70,
                                                           66,
                                                           62,
                                                           58,
                                                           55,
                                                           51,
                                                           48,
                                                           45,
                                                           42,
                                                           40,  // the first exchange
                                                           36,
                                                           33,
                                                           30,
                                                           28,
                                                           25,
                                                           23,
                                                           21,
                                                           20,
                                                           18,
                                                           16,
                                                           15,
                                                           13,
                                                           11,
                                                           10,
                                                           9,
                                                           8,
                                                           6,
                                                           5,
                                                           5,
                                                           3,
                                                           3,  //
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0,
                                                           0};

constexpr std::array<identity::v1::DeliveryPlatform, 5> kPlatforms = {
    identity::v1::DELIVERY_PLATFORM_MEITUAN, identity::v1::DELIVERY_PLATFORM_ELEME,
    identity::v1::DELIVERY_PLATFORM_SF_EXPRESS, identity::v1::DELIVERY_PLATFORM_JD,
    identity::v1::DELIVERY_PLATFORM_FLASHEX};
constexpr std::array<const char*, 5> kPlatformTags = {"MT", "ELM", "SF", "JD", "SS"};

constexpr std::array<av1::PostKind, 5> kPostKinds = {
    av1::POST_KIND_MOBILE_GRID_MONITOR, av1::POST_KIND_CIVILITY_ADVOCATE,
    av1::POST_KIND_SAFETY_PATROLLER, av1::POST_KIND_DISPUTE_MEDIATOR,
    av1::POST_KIND_ELDERLY_HELPER};

// The nine kinds of help love corners give riders ("临时休息、手机充电、打气等9大项服务").
constexpr std::array<PlaceServiceType, 7> kCornerExtras = {
    av1::PLACE_SERVICE_TYPE_TYRE_INFLATION, av1::PLACE_SERVICE_TYPE_DRINKING_WATER,
    av1::PLACE_SERVICE_TYPE_MICROWAVE,      av1::PLACE_SERVICE_TYPE_TOILET,
    av1::PLACE_SERVICE_TYPE_FIRST_AID,      av1::PLACE_SERVICE_TYPE_UMBRELLA,
    av1::PLACE_SERVICE_TYPE_COOLING_WARMING};

constexpr std::array<const char*, 20> kShopKinds = {
    "便利店", "刀削面馆", "水果店", "药店",   "理发店", "五金店", "电动车维修店",
    "手机店", "烧麦馆",   "奶茶店", "超市",   "早餐店", "眼镜店", "文具店",
    "花店",   "茶叶店",   "粮油店", "面包房", "干洗店", "快餐店"};

// The demonstration street runs west to east through the community.
constexpr double kStreetLat = 40.0903;
constexpr double kStreetWestLon = 113.2790;
constexpr double kStreetStepLon = 0.00016;

OpeningHours Daily(const char* open, const char* close) {
  OpeningHours hours;
  for (int day = av1::WEEKDAY_MONDAY; day <= av1::WEEKDAY_SUNDAY; ++day) {
    av1::OpeningPeriod* p = hours.add_periods();
    p->set_day(static_cast<av1::Weekday>(day));
    p->set_open_time(open);
    p->set_close_time(close);
  }
  return hours;
}

OpeningHours AlwaysOpen() {
  OpeningHours hours;
  hours.set_always_open(true);
  return hours;
}

Place MakePlace(av1::PlaceKind kind, std::string name, std::string address, double lat, double lon,
                std::string description) {
  Place p;
  p.set_kind(kind);
  p.set_name(std::move(name));
  p.set_address(std::move(address));
  p.mutable_location()->set_latitude(lat);
  p.mutable_location()->set_longitude(lon);
  p.set_description(std::move(description));
  return p;
}

struct StationRow {
  const char* name;
  const char* address;
  double lat, lon;
};

constexpr std::array<StationRow, kStationCount> kStations = {{
    {"清远西街小哥驿站", "平城区清远西街88号", 40.0901, 113.2860},
    {"清远街道党群服务中心小哥驿站", "平城区清远街道党群服务中心一层", 40.0921, 113.2835},
    {"大西街小哥驿站", "平城区大西街126号", 40.0915, 113.2930},
    {"鼓楼西街小哥驿站", "平城区鼓楼西街35号", 40.0889, 113.2955},
    {"华严寺小哥驿站", "平城区华严街18号", 40.0937, 113.2902},
    {"四牌楼小哥驿站", "平城区四牌楼西侧", 40.0910, 113.2968},
    {"西门外小哥驿站", "平城区西门外大街9号", 40.0896, 113.2795},
    {"清远东街小哥驿站", "平城区清远东街21号", 40.0899, 113.2985},
    {"新建北路小哥驿站", "平城区新建北路66号", 40.0942, 113.2810},
}};

std::vector<PlaceSpec> BuildPlaces() {
  std::vector<PlaceSpec> out;
  for (int i = 0; i < kStationCount; ++i) {
    const StationRow& row = kStations[i];
    PlaceSpec spec;
    spec.key = absl::StrCat("station-", i + 1);
    spec.place = MakePlace(av1::PLACE_KIND_RIDER_STATION, row.name, row.address, row.lat, row.lon,
                           "按“6+6”标准建设的小哥驿站：党建、学习、工作、休息、补给等全功能服务。");
    for (PlaceServiceType s :
         {av1::PLACE_SERVICE_TYPE_PARTY_BUILDING, av1::PLACE_SERVICE_TYPE_STUDY,
          av1::PLACE_SERVICE_TYPE_WORK, av1::PLACE_SERVICE_TYPE_REST,
          av1::PLACE_SERVICE_TYPE_SUPPLY, av1::PLACE_SERVICE_TYPE_PHONE_CHARGING,
          av1::PLACE_SERVICE_TYPE_DRINKING_WATER, av1::PLACE_SERVICE_TYPE_MICROWAVE}) {
      spec.place.add_services(s);
    }
    if (i % 3 == 0) spec.place.add_services(av1::PLACE_SERVICE_TYPE_TYRE_INFLATION);
    // "关爱全天候": the main stations never close; the others keep long hours.
    *spec.place.mutable_opening_hours() = i < 3 ? AlwaysOpen() : Daily("07:00", "22:00");
    spec.place.set_check_in_radius_meters(200);
    out.push_back(std::move(spec));
  }
  // Love corners: 107 shops along 清远西街, then 30 on the neighbouring streets.
  constexpr std::array<const char*, 6> kOtherStreets = {"大西街",     "鼓楼西街", "华严街",
                                                        "西门外大街", "新建北路", "清远东街"};
  for (int i = 0; i < kLoveCornerCount; ++i) {
    const bool on_street = i < kDemonstrationStreetCorners;
    const char* shop = kShopKinds[i % kShopKinds.size()];
    std::string road, address;
    double lat, lon;
    if (on_street) {
      const int number = i + 1;  // odd numbers on the north side, even on the south
      road = "清远西街";
      lat = kStreetLat + (number % 2 == 1 ? 0.00015 : -0.00015);
      lon = kStreetWestLon + kStreetStepLon * i;
      address = absl::StrCat("平城区清远西街", number, "号");
    } else {
      const int j = i - kDemonstrationStreetCorners;
      road = kOtherStreets[j % kOtherStreets.size()];
      const int number = 10 + 7 * (j / kOtherStreets.size()) + j % 3;
      const StationRow& near = kStations[2 + j % kOtherStreets.size()];
      lat = near.lat + 0.0004 * ((j * 7) % 5 - 2);
      lon = near.lon + 0.0005 * ((j * 3) % 5 - 2);
      address = absl::StrCat("平城区", road, number, "号");
    }
    PlaceSpec spec;
    spec.key = absl::StrCat("corner-", i + 1);
    spec.on_demonstration_street = on_street;
    spec.place = MakePlace(
        av1::PLACE_KIND_LOVE_CORNER,
        absl::StrCat(shop, "（", address.substr(std::string("平城区").size()), "）"), address, lat,
        lon,
        on_street ? "清远西街服务示范一条街的爱心角商铺：为小哥提供临时休息、手机充电、打气等服务。"
                  : "爱心角商铺：为小哥提供临时休息、手机充电等服务。");
    spec.place.add_services(av1::PLACE_SERVICE_TYPE_REST);
    spec.place.add_services(av1::PLACE_SERVICE_TYPE_PHONE_CHARGING);
    spec.place.add_services(kCornerExtras[i % kCornerExtras.size()]);
    spec.place.add_services(kCornerExtras[(i + 3) % kCornerExtras.size()]);
    const std::string kind = shop;
    if (kind == "便利店") {
      *spec.place.mutable_opening_hours() = AlwaysOpen();
    } else if (kind == "早餐店") {
      *spec.place.mutable_opening_hours() = Daily("06:00", "14:00");
    } else if (kind == "刀削面馆" || kind == "烧麦馆") {
      *spec.place.mutable_opening_hours() = Daily("09:00", "22:00");
    } else {
      *spec.place.mutable_opening_hours() = Daily("08:00", "21:00");
    }
    spec.place.set_check_in_radius_meters(100);
    out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace

const std::vector<OrgNodeSpec>& StoryOrgTree() {
  static const auto* tree = new std::vector<OrgNodeSpec>{
      // 大同市平城区 and 云冈区 under their statistical division codes.
      {"dt-pingcheng", "平城区", ORG_LEVEL_DISTRICT, "", "140213000000"},
      {"dt-yungang", "云冈区", ORG_LEVEL_DISTRICT, "", "140214000000"},
      {kQingyuanStreetCode, "清远街道", ORG_LEVEL_STREET, "dt-pingcheng"},
      {"dt-pc-xinwang", "新旺街道", ORG_LEVEL_STREET, "dt-pingcheng"},
      {"dt-pc-shuiposi", "水泊寺街道", ORG_LEVEL_STREET, "dt-pingcheng"},
      {"dt-pc-yingbin", "迎宾街道", ORG_LEVEL_STREET, "dt-pingcheng"},
      {"dt-pc-wuding", "武定街道", ORG_LEVEL_STREET, "dt-pingcheng"},
      {"dt-yg-pingsheng", "平盛街道", ORG_LEVEL_STREET, "dt-yungang"},
      {kQingyuanWestCode, "清远西街社区", ORG_LEVEL_COMMUNITY, kQingyuanStreetCode},
      {"dt-xw-gongnonglu", "工农路社区", ORG_LEVEL_COMMUNITY, "dt-pc-xinwang"},
      {"dt-sps-wenxing", "文兴社区", ORG_LEVEL_COMMUNITY, "dt-pc-shuiposi"},
      {"dt-yb-yingbinlu", "迎宾路社区", ORG_LEVEL_COMMUNITY, "dt-pc-yingbin"},
      {"dt-wd-anyiyuan", "安益园社区", ORG_LEVEL_COMMUNITY, "dt-pc-wuding"},
      {"dt-ps-anhuali", "安华里社区", ORG_LEVEL_COMMUNITY, "dt-yg-pingsheng"},
      {kQingyuanTeamCode, "清远街道综合行政执法队", common::v1::ORG_LEVEL_DEPARTMENT,
       kQingyuanStreetCode},
  };
  return *tree;
}

const std::vector<StaffSpec>& StoryStaff() {
  static const auto* staff = new std::vector<StaffSpec>{
      {"17035209001", "李静", common::v1::ROLE_STREET_STAFF, kQingyuanStreetCode, "Initial-qy-2026",
       "street worker, 清远街道"},
      {"17035209002", "赵敏", common::v1::ROLE_COMMUNITY_STAFF, kQingyuanWestCode,
       "Initial-qyxj-2026", "community worker, 清远西街社区"},
      {"17035209003", "王建国", common::v1::ROLE_ORG_VIEWER, "dt-pingcheng", "Initial-pc-2026",
       "district official (dashboard, read only), 平城区"},
      {"17035209004", "刘强", common::v1::ROLE_DEPARTMENT_STAFF, kQingyuanTeamCode,
       "Initial-zfd-2026", "enforcement officer (problem cases), 清远街道综合行政执法队"},
  };
  return *staff;
}

const std::vector<RiderSpec>& StoryRiders() {
  static const auto* riders = [] {
    auto* out = new std::vector<RiderSpec>;
    for (int i = 0; i < kRiderCount; ++i) {
      RiderSpec r;
      r.index = i;
      r.phone = absl::StrFormat("170352%05d", i + 1);
      r.display_name = kRiderNames[i];
      r.platform.set_platform(kPlatforms[i % kPlatforms.size()]);
      r.platform.set_platform_rider_id(
          absl::StrFormat("%s-DT-%04d", kPlatformTags[i % kPlatformTags.size()], i + 1));
      r.post_kind = kPostKinds[i % kPostKinds.size()];
      r.points = kRiderPoints[i];
      // Nearly 20 riders (19) took part in the clean-up: most of today's top riders and a few
      // from further down.
      r.in_cleanup = i < 14 || (i >= 15 && i < 25 && i % 2 == 1);
      out->push_back(std::move(r));
    }
    return out;
  }();
  return *riders;
}

int PostSeats(activity::v1::PostKind kind) {
  return kind == av1::POST_KIND_MOBILE_GRID_MONITOR ? 15 : 12;
}

const std::vector<PlaceSpec>& StoryPlaces() {
  static const auto* places = new std::vector<PlaceSpec>(BuildPlaces());
  return *places;
}

PlaceSpec CleanupVenue() {
  PlaceSpec spec;
  spec.key = "venue-daxijie-1";
  spec.place = MakePlace(av1::PLACE_KIND_ACTIVITY_VENUE, "大西街一号小区", "平城区大西街1号",
                         40.0912, 113.2925, "居民小区，环境整治和生活垃圾分类宣传的活动地点。");
  spec.place.set_check_in_radius_meters(300);
  return spec;
}

const std::vector<GiftSpec>& StoryGifts() {
  static const auto* gifts = new std::vector<GiftSpec>{
      {"detergent", "洗衣液", "2 千克装洗衣液。", rewards::v1::GIFT_CATEGORY_DAILY_NECESSITIES, 60,
       20},
      {"wipes", "湿巾", "80 片装湿巾。", rewards::v1::GIFT_CATEGORY_DAILY_NECESSITIES, 20, 40},
      {"earphones", "蓝牙耳机", "无线蓝牙耳机，骑行接单更方便。",
       rewards::v1::GIFT_CATEGORY_ELECTRONICS, 100, 5},
      {"powerbank", "充电宝", "10000 毫安时充电宝。", rewards::v1::GIFT_CATEGORY_ELECTRONICS, 80,
       10},
      {"bottle", "旅行水壶", "600 毫升保温旅行水壶。", rewards::v1::GIFT_CATEGORY_TRAVEL, 40, 15},
  };
  return *gifts;
}

}  // namespace civicpoints::demo
