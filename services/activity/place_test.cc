// Places on real PostgreSQL and identity: stations, love corners and venues created, read, changed
// and retired by staff, merchants and station keepers within their scope; lists by org node; the
// riders' nearby search with opening hours; coverage per street; and every refusal the contract
// names, each leaving the database as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status/grpc_status.h"
#include "google/rpc/error_details.pb.h"
#include "services/activity/activity_test_env.h"
#include "services/activity/place_hours.h"

namespace civicpoints::activity {
namespace {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_STREET;

// 清远西街 in 大同; places are put at distances due north of it.
constexpr double kLat = 40.0937, kLon = 113.2956;
constexpr double kMetresPerDegree = 111195.08;

// A coordinate written into SQL to the last bit.
std::string Exact(double v) { return absl::StrFormat("%.17g", v); }

common::v1::GeoPoint North(double metres) {
  common::v1::GeoPoint p;
  p.set_latitude(kLat + metres / kMetresPerDegree);
  p.set_longitude(kLon);
  return p;
}

// 2026-12-02 is a Wednesday.
absl::Time Local(int month, int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(2026, month, day, hour, minute, 0), Shanghai());
}

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  SetTime(&ts, Us(t));
  return ts;
}

void AddPeriod(v1::OpeningHours* hours, v1::Weekday day, const std::string& open,
               const std::string& close) {
  v1::OpeningPeriod* p = hours->add_periods();
  p->set_day(day);
  p->set_open_time(open);
  p->set_close_time(close);
}

// Every day from `open` to `close`.
v1::OpeningHours Daily(const std::string& open, const std::string& close) {
  v1::OpeningHours h;
  for (int d = 1; d <= 7; ++d) AddPeriod(&h, static_cast<v1::Weekday>(d), open, close);
  return h;
}

TEST(OpeningHoursTest, OpenStateAndNextChangeFollowTheWeeklySchedule) {
  v1::Place p;
  *p.mutable_opening_hours() = Daily("08:00", "20:00");
  const absl::Time wed10 = Local(12, 2, 10);
  OpenState s = PlaceOpenAt(p, wed10);
  EXPECT_TRUE(s.open);
  EXPECT_EQ(s.next_change, Local(12, 2, 20));
  s = PlaceOpenAt(p, Local(12, 2, 20));  // closing time is exclusive
  EXPECT_FALSE(s.open);
  EXPECT_EQ(s.next_change, Local(12, 3, 8));
  s = PlaceOpenAt(p, Local(12, 6, 21));  // Sunday night: opens Monday morning
  EXPECT_FALSE(s.open);
  EXPECT_EQ(s.next_change, Local(12, 7, 8));

  // Overnight Sunday 22:00–06:00 runs into Monday; touching periods join.
  v1::Place night;
  AddPeriod(night.mutable_opening_hours(), v1::WEEKDAY_SUNDAY, "22:00", "06:00");
  AddPeriod(night.mutable_opening_hours(), v1::WEEKDAY_MONDAY, "06:00", "09:30");
  s = PlaceOpenAt(night, Local(12, 7, 3));
  EXPECT_TRUE(s.open);
  EXPECT_EQ(s.next_change, Local(12, 7, 9, 30));
  s = PlaceOpenAt(night, Local(12, 6, 23));
  EXPECT_TRUE(s.open);
  EXPECT_EQ(s.next_change, Local(12, 7, 9, 30));
  s = PlaceOpenAt(night, Local(12, 2, 12));
  EXPECT_FALSE(s.open);
  EXPECT_EQ(s.next_change, Local(12, 6, 22));

  // Always open, never open, whole week: no change ahead.
  v1::Place always;
  always.mutable_opening_hours()->set_always_open(true);
  EXPECT_TRUE(PlaceOpenAt(always, wed10).open);
  EXPECT_FALSE(PlaceOpenAt(always, wed10).next_change.has_value());
  EXPECT_FALSE(PlaceOpenAt(v1::Place(), wed10).open);
  EXPECT_FALSE(PlaceOpenAt(v1::Place(), wed10).next_change.has_value());
  v1::Place all_days;
  *all_days.mutable_opening_hours() = Daily("00:00", "24:00");
  EXPECT_TRUE(PlaceOpenAt(all_days, wed10).open);
  EXPECT_FALSE(PlaceOpenAt(all_days, wed10).next_change.has_value());

  // Temporarily closed: until closed_until, then as scheduled; without an end, for good.
  always.set_temporarily_closed(true);
  EXPECT_FALSE(PlaceOpenAt(always, wed10).open);
  EXPECT_FALSE(PlaceOpenAt(always, wed10).next_change.has_value());
  *always.mutable_closed_until() = Ts(Local(12, 3, 9));
  EXPECT_EQ(PlaceOpenAt(always, wed10).next_change, Local(12, 3, 9));
  EXPECT_TRUE(PlaceOpenAt(always, Local(12, 3, 9)).open);
  p.set_temporarily_closed(true);
  *p.mutable_closed_until() = Ts(Local(12, 2, 21));  // after today's closing
  s = PlaceOpenAt(p, wed10);
  EXPECT_FALSE(s.open);
  EXPECT_EQ(s.next_change, Local(12, 3, 8));

  // Validation.
  EXPECT_TRUE(CheckOpeningHours(Daily("08:00", "20:00"), "h").ok());
  EXPECT_TRUE(CheckOpeningHours(night.opening_hours(), "h").ok());
  v1::OpeningHours overlap = Daily("08:00", "20:00");
  AddPeriod(&overlap, v1::WEEKDAY_FRIDAY, "19:00", "21:00");
  EXPECT_EQ(CheckOpeningHours(overlap, "h").code(), absl::StatusCode::kInvalidArgument);
  v1::OpeningHours into_monday;
  AddPeriod(&into_monday, v1::WEEKDAY_SUNDAY, "22:00", "06:00");
  AddPeriod(&into_monday, v1::WEEKDAY_MONDAY, "05:00", "09:00");
  EXPECT_EQ(CheckOpeningHours(into_monday, "h").code(), absl::StatusCode::kInvalidArgument);
  for (const auto& [open, close] :
       std::vector<std::pair<std::string, std::string>>{{"8:00", "20:00"},
                                                        {"24:00", "23:00"},
                                                        {"08:60", "20:00"},
                                                        {"08:00", "24:01"},
                                                        {"08:00", ""},
                                                        {"0800", "2000"}}) {
    v1::OpeningHours bad;
    AddPeriod(&bad, v1::WEEKDAY_MONDAY, open, close);
    EXPECT_EQ(CheckOpeningHours(bad, "h").code(), absl::StatusCode::kInvalidArgument)
        << open << "–" << close;
  }
}

class PlaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    auto& id = env_.identity();
    const testing::IdentityPeer::Member merchant =
        id.Staff("13900000051", common::v1::ROLE_MERCHANT, env_.west);
    const testing::IdentityPeer::Member keeper =
        id.Staff("13900000052", common::v1::ROLE_STATION_KEEPER, env_.west);
    merchant_ = merchant.token;
    merchant_id_ = merchant.person_id;
    keeper_ = keeper.token;
    keeper_id_ = keeper.person_id;
    ASSERT_FALSE(merchant_.empty());
    ASSERT_FALSE(keeper_id_.empty());
  }

  v1::Place Draft(const std::string& community, double north_m, const std::string& name,
                  v1::PlaceKind kind = v1::PLACE_KIND_RIDER_STATION) {
    v1::Place p;
    p.set_kind(kind);
    p.set_name(name);
    p.set_address("大同市平城区清远西街12号");
    *p.mutable_location() = North(north_m);
    p.set_community_id(community);
    p.mutable_opening_hours()->set_always_open(true);
    return p;
  }

  grpc::Status Create(const std::string& token, const v1::Place& p, v1::Place* out = nullptr,
                      const std::string& key = "") {
    v1::CreatePlaceRequest req;
    *req.mutable_place() = p;
    req.set_idempotency_key(key.empty() ? absl::StrCat("place-", ++keys_) : key);
    v1::CreatePlaceResponse resp;
    grpc::Status s = env_.stub().CreatePlace(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.place();
    return s;
  }

  std::string Make(const v1::Place& p, const std::string& token = "") {
    v1::Place made;
    grpc::Status s = Create(token.empty() ? env_.west_staff : token, p, &made);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return made.place_id();
  }

  grpc::Status Update(const std::string& token, const std::string& id, const v1::Place& p,
                      std::vector<std::string> paths, v1::Place* out = nullptr,
                      const std::string& etag = "") {
    v1::UpdatePlaceRequest req;
    req.set_place_id(id);
    *req.mutable_place() = p;
    for (const std::string& path : paths) req.mutable_update_mask()->add_paths(path);
    req.set_etag(etag);
    v1::UpdatePlaceResponse resp;
    grpc::Status s = env_.stub().UpdatePlace(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.place();
    return s;
  }

  grpc::Status Delete(const std::string& token, const std::string& id, const std::string& reason,
                      v1::Place* out = nullptr) {
    v1::DeletePlaceRequest req;
    req.set_place_id(id);
    req.set_reason(reason);
    v1::DeletePlaceResponse resp;
    grpc::Status s = env_.stub().DeletePlace(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.place();
    return s;
  }

  v1::GetPlaceResponse Get(const std::string& id) {
    v1::GetPlaceRequest req;
    req.set_place_id(id);
    v1::GetPlaceResponse resp;
    grpc::Status s = env_.stub().GetPlace(env_.With(env_.west_staff).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  grpc::Status List(const std::string& token, v1::ListPlacesRequest req,
                    v1::ListPlacesResponse* resp) {
    return env_.stub().ListPlaces(env_.With(token).get(), req, resp);
  }

  grpc::Status Search(const std::string& token, const v1::SearchNearbyPlacesRequest& req,
                      v1::SearchNearbyPlacesResponse* resp) {
    return env_.stub().SearchNearbyPlaces(env_.With(token).get(), req, resp);
  }

  // Names of a search's hits in order.
  std::vector<std::string> Names(const v1::SearchNearbyPlacesResponse& resp) {
    std::vector<std::string> names;
    for (const v1::NearbyPlace& p : resp.places()) names.push_back(p.place().name());
    return names;
  }

  // A city system's token with `scopes`, its account held at `org_id`.
  std::string CitySystem(const std::string& org_id, const std::vector<std::string>& scopes) {
    return env_.identity().CitySystem(org_id, scopes);
  }

  int Places() { return std::stoi(env_.Sql("SELECT count(*) FROM places")); }

  ActivityTestEnv env_;
  std::string merchant_, keeper_, merchant_id_, keeper_id_;
  int keys_ = 0;
};

TEST_F(PlaceTest, StaffCreatePlacesAndEveryoneReadsThem) {
  v1::Place draft = Draft(env_.west, 0, "清远西街小哥驿站", v1::PLACE_KIND_RIDER_STATION);
  draft.set_description("“6+6”标准驿站：党建、学习、办公、休息、补给");
  draft.add_services(v1::PLACE_SERVICE_TYPE_PARTY_BUILDING);
  draft.add_services(v1::PLACE_SERVICE_TYPE_REST);
  draft.add_services(v1::PLACE_SERVICE_TYPE_SUPPLY);
  *draft.mutable_opening_hours() = Daily("08:00", "20:00");
  draft.set_keeper_person_id(keeper_id_);
  v1::Place made;
  grpc::Status s = Create(env_.west_staff, draft, &made, "station-1");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(made.place_id().empty());
  EXPECT_EQ(made.kind(), v1::PLACE_KIND_RIDER_STATION);
  EXPECT_EQ(made.name(), "清远西街小哥驿站");
  EXPECT_EQ(made.description(), draft.description());
  EXPECT_EQ(made.address(), "大同市平城区清远西街12号");
  EXPECT_DOUBLE_EQ(made.location().latitude(), kLat);
  EXPECT_DOUBLE_EQ(made.location().longitude(), kLon);
  EXPECT_EQ(made.org_path().district_id(), env_.district);
  EXPECT_EQ(made.org_path().street_id(), env_.street);
  EXPECT_EQ(made.org_path().community_id(), env_.west);
  ASSERT_EQ(made.services_size(), 3);
  EXPECT_EQ(made.services(1), v1::PLACE_SERVICE_TYPE_REST);
  EXPECT_EQ(made.opening_hours().periods_size(), 7);
  EXPECT_EQ(made.check_in_radius_meters(), 200);
  EXPECT_EQ(made.keeper_person_id(), keeper_id_);
  EXPECT_EQ(made.status(), v1::PLACE_STATUS_ACTIVE);
  EXPECT_TRUE(made.has_create_time());
  EXPECT_EQ(made.etag(), "v1");
  EXPECT_FALSE(made.temporarily_closed());

  // A retry answers the same place; the key with another request is refused.
  v1::Place again;
  ASSERT_TRUE(Create(env_.west_staff, draft, &again, "station-1").ok());
  EXPECT_EQ(again.place_id(), made.place_id());
  v1::Place other = draft;
  other.set_name("另一个驿站");
  s = Create(env_.west_staff, other, nullptr, "station-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "IDEMPOTENCY_KEY_REUSED");
  EXPECT_EQ(Places(), 1);

  // Street staff in any community of the street; a district admin a venue with its own radius;
  // closed_until is kept only while temporarily closed.
  v1::Place corner = Draft(env_.gongnong, 300, "工农路爱心角", v1::PLACE_KIND_LOVE_CORNER);
  corner.set_check_in_radius_meters(50);
  *corner.mutable_closed_until() = Ts(absl::Now() + absl::Hours(5));
  ASSERT_TRUE(Create(env_.street_staff, corner, &made).ok());
  EXPECT_EQ(made.check_in_radius_meters(), 50);
  EXPECT_FALSE(made.has_closed_until());
  v1::Place venue = Draft(env_.west, 600, "大西街一号小区", v1::PLACE_KIND_ACTIVITY_VENUE);
  venue.clear_opening_hours();
  venue.set_temporarily_closed(true);
  *venue.mutable_closed_until() = Ts(absl::Now() + absl::Hours(5));
  ASSERT_TRUE(Create(env_.identity().admin_token(), venue, &made).ok());
  EXPECT_TRUE(made.temporarily_closed());
  EXPECT_TRUE(made.has_closed_until());
  EXPECT_EQ(Places(), 3);

  // Anyone signed in reads a place, with whether it is open now.
  const auto [rider_id, rider] = env_.Rider(env_.west);
  v1::Place always = Draft(env_.west, 900, "清远东街小哥驿站");
  const std::string id = Make(always);
  v1::GetPlaceRequest get;
  get.set_place_id(id);
  v1::GetPlaceResponse got;
  ASSERT_TRUE(env_.stub().GetPlace(env_.With(rider).get(), get, &got).ok());
  EXPECT_EQ(got.place().name(), "清远东街小哥驿站");
  EXPECT_TRUE(got.open_now());
  EXPECT_FALSE(Get(made.place_id()).open_now());  // the venue is never open by schedule
  get.set_place_id("pl_nosuchplace");
  EXPECT_EQ(env_.stub().GetPlace(env_.With(rider).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  get.set_place_id("");
  EXPECT_EQ(env_.stub().GetPlace(env_.With(rider).get(), get, &got).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(env_.stub().GetPlace(env_.With("").get(), get, &got).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(PlaceTest, BadPlacesAreRefusedAndWriteNothing) {
  const auto [rider_id, rider] = env_.Rider(env_.west);
  struct Case {
    std::string what;
    std::function<void(v1::Place&)> change;
    grpc::StatusCode code;
    std::string token = "";
    std::string reason = "";
  };
  std::vector<Case> cases = {
      {"kind unspecified", [](v1::Place& p) { p.set_kind(v1::PLACE_KIND_UNSPECIFIED); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"name empty", [](v1::Place& p) { p.set_name(""); }, grpc::StatusCode::INVALID_ARGUMENT},
      {"name 65 characters", [&](v1::Place& p) { p.set_name(std::string(65, 'x')); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"name 65 Chinese characters",
       [](v1::Place& p) {
         std::string n;
         for (int i = 0; i < 65; ++i) n += "驿";
         p.set_name(n);
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"address empty", [](v1::Place& p) { p.set_address(""); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"address 201 characters", [](v1::Place& p) { p.set_address(std::string(201, 'a')); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"description 1001 characters",
       [](v1::Place& p) { p.set_description(std::string(1001, 'd')); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"location missing", [](v1::Place& p) { p.clear_location(); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"latitude 91", [](v1::Place& p) { p.mutable_location()->set_latitude(91); },
       grpc::StatusCode::INVALID_ARGUMENT, "", "COORDINATES_OUT_OF_RANGE"},
      {"longitude -181", [](v1::Place& p) { p.mutable_location()->set_longitude(-181); },
       grpc::StatusCode::INVALID_ARGUMENT, "", "COORDINATES_OUT_OF_RANGE"},
      {"period malformed",
       [](v1::Place& p) {
         p.clear_opening_hours();
         AddPeriod(p.mutable_opening_hours(), v1::WEEKDAY_MONDAY, "8:00", "20:00");
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"period without a day",
       [](v1::Place& p) {
         p.clear_opening_hours();
         AddPeriod(p.mutable_opening_hours(), v1::WEEKDAY_UNSPECIFIED, "08:00", "20:00");
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"periods overlap",
       [](v1::Place& p) {
         *p.mutable_opening_hours() = Daily("08:00", "12:00");
         AddPeriod(p.mutable_opening_hours(), v1::WEEKDAY_TUESDAY, "11:30", "18:00");
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"always open with periods",
       [](v1::Place& p) {
         *p.mutable_opening_hours() = Daily("08:00", "12:00");
         p.mutable_opening_hours()->set_always_open(true);
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"22 periods",
       [](v1::Place& p) {
         p.clear_opening_hours();
         for (int i = 0; i < 22; ++i) {
           AddPeriod(p.mutable_opening_hours(), static_cast<v1::Weekday>(i % 7 + 1),
                     absl::StrCat(absl::Dec(i / 7 * 3 + 6, absl::kZeroPad2), ":00"),
                     absl::StrCat(absl::Dec(i / 7 * 3 + 7, absl::kZeroPad2), ":00"));
         }
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"service repeated",
       [](v1::Place& p) {
         p.add_services(v1::PLACE_SERVICE_TYPE_REST);
         p.add_services(v1::PLACE_SERVICE_TYPE_REST);
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"service unspecified",
       [](v1::Place& p) { p.add_services(v1::PLACE_SERVICE_TYPE_UNSPECIFIED); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"radius 19", [](v1::Place& p) { p.set_check_in_radius_meters(19); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"radius 2001", [](v1::Place& p) { p.set_check_in_radius_meters(2001); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"community missing", [](v1::Place& p) { p.set_community_id(""); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"community unknown", [](v1::Place& p) { p.set_community_id("org_nosuchnode"); },
       grpc::StatusCode::NOT_FOUND},
      {"keeper unknown", [](v1::Place& p) { p.set_keeper_person_id("p_nosuchperson"); },
       grpc::StatusCode::NOT_FOUND},
      {"community is a street", [&](v1::Place& p) { p.set_community_id(env_.street); },
       grpc::StatusCode::FAILED_PRECONDITION, "", ""},
      {"community outside the caller's scope", [](v1::Place&) {},
       grpc::StatusCode::PERMISSION_DENIED, env_.gongnong_staff, "OUTSIDE_ORG_SCOPE"},
      {"merchant creates a station", [](v1::Place&) {}, grpc::StatusCode::PERMISSION_DENIED,
       merchant_},
      {"merchant names another keeper",
       [&](v1::Place& p) {
         p.set_kind(v1::PLACE_KIND_LOVE_CORNER);
         p.set_keeper_person_id(keeper_id_);
       },
       grpc::StatusCode::PERMISSION_DENIED, merchant_},
      {"merchant outside their community",
       [&](v1::Place& p) {
         p.set_kind(v1::PLACE_KIND_LOVE_CORNER);
         p.set_community_id(env_.gongnong);
       },
       grpc::StatusCode::PERMISSION_DENIED, merchant_, "OUTSIDE_ORG_SCOPE"},
      {"station keeper creates", [](v1::Place&) {}, grpc::StatusCode::PERMISSION_DENIED, keeper_},
      {"rider creates", [](v1::Place&) {}, grpc::StatusCode::PERMISSION_DENIED, rider},
  };
  for (const Case& c : cases) {
    v1::Place p = Draft(env_.west, 0, "清远西街小哥驿站");
    c.change(p);
    grpc::Status s = Create(c.token.empty() ? env_.west_staff : c.token, p);
    EXPECT_EQ(s.error_code(), c.code) << c.what << ": " << s.error_message();
    if (!c.reason.empty()) {
      EXPECT_EQ(ReasonOf(s), c.reason) << c.what;
    }
  }
  v1::CreatePlaceRequest req;
  *req.mutable_place() = Draft(env_.west, 0, "清远西街小哥驿站");
  v1::CreatePlaceResponse resp;
  EXPECT_EQ(env_.stub().CreatePlace(env_.With(env_.west_staff).get(), req, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // no idempotency key
  EXPECT_EQ(Places(), 0);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM idempotency_keys WHERE method LIKE 'CreatePlace%'"),
            "0");
}

TEST_F(PlaceTest, MerchantsAndKeepersKeepTheirOwnPlacesOnly) {
  // A merchant registers a love corner: it is theirs whatever they leave the keeper as.
  v1::Place draft = Draft(env_.west, 0, "老王便利店爱心角", v1::PLACE_KIND_LOVE_CORNER);
  draft.add_services(v1::PLACE_SERVICE_TYPE_PHONE_CHARGING);
  v1::Place corner;
  ASSERT_TRUE(Create(merchant_, draft, &corner).ok());
  EXPECT_EQ(corner.keeper_person_id(), merchant_id_);
  draft.set_keeper_person_id(merchant_id_);
  draft.set_name("老王便利店爱心角二号");
  const std::string second = Make(draft, merchant_);

  // The merchant keeps hours, services and closure up to date.
  v1::Place change;
  *change.mutable_opening_hours() = Daily("07:00", "22:00");
  change.add_services(v1::PLACE_SERVICE_TYPE_DRINKING_WATER);
  change.add_services(v1::PLACE_SERVICE_TYPE_TYRE_INFLATION);
  change.set_temporarily_closed(true);
  *change.mutable_closed_until() = Ts(absl::Now() + absl::Hours(48));
  v1::Place after;
  grpc::Status s =
      Update(merchant_, corner.place_id(), change,
             {"opening_hours", "services", "temporarily_closed", "closed_until"}, &after);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(after.services_size(), 2);  // replaced, not appended
  EXPECT_EQ(after.services(0), v1::PLACE_SERVICE_TYPE_DRINKING_WATER);
  EXPECT_TRUE(after.temporarily_closed());
  EXPECT_EQ(after.etag(), "v2");
  EXPECT_FALSE(Get(corner.place_id()).open_now());

  // ...but cannot move it or hand it over.
  change.set_community_id(env_.gongnong);
  s = Update(merchant_, corner.place_id(), change, {"community_id"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  change.set_keeper_person_id(keeper_id_);
  s = Update(merchant_, corner.place_id(), change, {"keeper_person_id"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // A station keeper keeps the station staff assigned them, not others'.
  v1::Place station_draft = Draft(env_.west, 200, "清远西街小哥驿站");
  station_draft.set_keeper_person_id(keeper_id_);
  const std::string station = Make(station_draft);
  const std::string unkept = Make(Draft(env_.west, 400, "清远西街第二驿站"));
  v1::Place name;
  name.set_name("清远西街小哥驿站（新址）");
  ASSERT_TRUE(Update(keeper_, station, name, {"name"}).ok());
  EXPECT_EQ(Update(keeper_, unkept, name, {"name"}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Update(merchant_, station, name, {"name"}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Update(keeper_, station, change, {"keeper_person_id"}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(env_.Sql("SELECT version FROM places WHERE place_id = '" + unkept + "'"), "1");
  EXPECT_EQ(env_.Sql("SELECT keeper_person_id FROM places WHERE place_id = '" + station + "'"),
            keeper_id_);

  // Merchants and keepers list only their own places.
  v1::ListPlacesRequest list;
  list.set_org_id(env_.west);
  v1::ListPlacesResponse listed;
  s = List(merchant_, list, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  list.set_keeper_person_id(keeper_id_);
  EXPECT_EQ(List(merchant_, list, &listed).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  list.set_keeper_person_id(merchant_id_);
  ASSERT_TRUE(List(merchant_, list, &listed).ok());
  ASSERT_EQ(listed.places_size(), 2);
  EXPECT_EQ(listed.places(0).keeper_person_id(), merchant_id_);
  list.set_keeper_person_id(keeper_id_);
  listed.Clear();
  ASSERT_TRUE(List(keeper_, list, &listed).ok());
  ASSERT_EQ(listed.places_size(), 1);
  EXPECT_EQ(listed.places(0).place_id(), station);

  // A merchant retires their own love corner (the shop closed), not another place.
  EXPECT_EQ(Delete(merchant_, station, "店铺关门").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::Place retired;
  ASSERT_TRUE(Delete(merchant_, second, "店铺关门", &retired).ok());
  EXPECT_EQ(retired.status(), v1::PLACE_STATUS_RETIRED);
  EXPECT_EQ(env_.Sql("SELECT retire_reason FROM places WHERE place_id = '" + second + "'"),
            "店铺关门");
}

TEST_F(PlaceTest, UpdatePlaceChangesTheMaskedFieldsWithinScope) {
  v1::Place draft = Draft(env_.west, 0, "清远西街小哥驿站");
  draft.add_services(v1::PLACE_SERVICE_TYPE_REST);
  draft.set_description("原描述");
  v1::Place made;
  ASSERT_TRUE(Create(env_.west_staff, draft, &made).ok());
  const std::string id = made.place_id();

  v1::Place change;
  change.set_name("清远西街党群服务驿站");
  change.set_description("这段描述不在掩码中");
  *change.mutable_location() = North(50);
  v1::Place after;
  grpc::Status s = Update(env_.west_staff, id, change, {"name", "location"}, &after, "v1");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(after.name(), "清远西街党群服务驿站");
  EXPECT_EQ(after.description(), "原描述");
  EXPECT_NEAR(after.location().latitude(), North(50).latitude(), 1e-9);
  EXPECT_EQ(after.services_size(), 1);
  EXPECT_EQ(after.etag(), "v2");

  // Refusals leave the place at v2.
  struct Case {
    std::string what;
    std::vector<std::string> paths;
    std::function<void(v1::Place&)> change;
    grpc::StatusCode code;
    std::string token = "";
    std::string etag = "";
    std::string reason = "";
  };
  const auto nothing = [](v1::Place&) {};
  std::vector<Case> cases = {
      {"empty mask", {}, nothing, grpc::StatusCode::INVALID_ARGUMENT},
      {"kind", {"kind"}, nothing, grpc::StatusCode::INVALID_ARGUMENT},
      {"place_id", {"place_id"}, nothing, grpc::StatusCode::INVALID_ARGUMENT},
      {"status", {"status"}, nothing, grpc::StatusCode::INVALID_ARGUMENT},
      {"name empty",
       {"name"},
       [](v1::Place& p) { p.set_name(""); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"location missing",
       {"location"},
       [](v1::Place& p) { p.clear_location(); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"latitude -91",
       {"location"},
       [](v1::Place& p) {
         p.mutable_location()->set_latitude(-91);
         p.mutable_location()->set_longitude(113);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       "",
       "",
       "COORDINATES_OUT_OF_RANGE"},
      {"overlapping hours",
       {"opening_hours"},
       [](v1::Place& p) {
         AddPeriod(p.mutable_opening_hours(), v1::WEEKDAY_MONDAY, "08:00", "12:00");
         AddPeriod(p.mutable_opening_hours(), v1::WEEKDAY_MONDAY, "10:00", "14:00");
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"radius 5000",
       {"check_in_radius_meters"},
       [](v1::Place& p) { p.set_check_in_radius_meters(5000); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"services repeated",
       {"services"},
       [](v1::Place& p) {
         p.add_services(v1::PLACE_SERVICE_TYPE_TOILET);
         p.add_services(v1::PLACE_SERVICE_TYPE_TOILET);
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"unknown community",
       {"community_id"},
       [](v1::Place& p) { p.set_community_id("org_nosuchnode"); },
       grpc::StatusCode::NOT_FOUND},
      {"community is a street",
       {"community_id"},
       [&](v1::Place& p) { p.set_community_id(env_.street); },
       grpc::StatusCode::FAILED_PRECONDITION},
      {"moved outside the caller's scope",
       {"community_id"},
       [&](v1::Place& p) { p.set_community_id(env_.gongnong); },
       grpc::StatusCode::PERMISSION_DENIED,
       "",
       "",
       "OUTSIDE_ORG_SCOPE"},
      {"unknown keeper",
       {"keeper_person_id"},
       [](v1::Place& p) { p.set_keeper_person_id("p_nosuchperson"); },
       grpc::StatusCode::NOT_FOUND},
      {"staff of another community",
       {"name"},
       [](v1::Place& p) { p.set_name("新名字"); },
       grpc::StatusCode::PERMISSION_DENIED,
       env_.gongnong_staff,
       "",
       "OUTSIDE_ORG_SCOPE"},
      {"stale etag",
       {"name"},
       [](v1::Place& p) { p.set_name("新名字"); },
       grpc::StatusCode::ABORTED,
       "",
       "v1",
       "ETAG_MISMATCH"},
  };
  for (const Case& c : cases) {
    v1::Place p;
    c.change(p);
    s = Update(c.token.empty() ? env_.west_staff : c.token, id, p, c.paths, nullptr, c.etag);
    EXPECT_EQ(s.error_code(), c.code) << c.what << ": " << s.error_message();
    if (!c.reason.empty()) {
      EXPECT_EQ(ReasonOf(s), c.reason) << c.what;
    }
  }
  EXPECT_EQ(env_.Sql("SELECT version FROM places WHERE place_id = '" + id + "'"), "2");
  EXPECT_EQ(Update(env_.west_staff, "pl_nosuchplace", change, {"name"}).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Update(env_.west_staff, "", change, {"name"}).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Street staff move it to the other community and hand it to a keeper; the path follows.
  change.set_community_id(env_.gongnong);
  change.set_keeper_person_id(keeper_id_);
  change.set_check_in_radius_meters(0);
  ASSERT_TRUE(Update(env_.street_staff, id, change,
                     {"community_id", "keeper_person_id", "check_in_radius_meters"}, &after)
                  .ok());
  EXPECT_EQ(after.community_id(), env_.gongnong);
  EXPECT_EQ(after.org_path().community_id(), env_.gongnong);
  EXPECT_EQ(after.keeper_person_id(), keeper_id_);
  EXPECT_EQ(after.check_in_radius_meters(), 200);
  EXPECT_EQ(env_.Sql("SELECT community_id FROM places WHERE place_id = '" + id + "'"),
            env_.gongnong);
  // Now west staff no longer reach it.
  EXPECT_EQ(Update(env_.west_staff, id, change, {"name"}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A retired place is not changed.
  ASSERT_TRUE(Delete(env_.street_staff, id, "驿站搬迁").ok());
  s = Update(env_.street_staff, id, change, {"name"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "PLACE_RETIRED");
  EXPECT_EQ(env_.Sql("SELECT version FROM places WHERE place_id = '" + id + "'"), "4");
}

TEST_F(PlaceTest, RetiringKeepsThePlaceReadableButNotWhileAnActivityIsComing) {
  const std::string id = Make(Draft(env_.west, 0, "清远西街小哥驿站"));
  // A coming activity holds the place.
  v1::CreateActivityRequest create;
  v1::Activity& a = *create.mutable_activity();
  a.set_title("垃圾分类宣传");
  a.set_category(v1::ACTIVITY_CATEGORY_GARBAGE_SORTING_PROMOTION);
  a.set_place_id(id);
  a.set_organiser_org_id(env_.west);
  const absl::Time start = absl::Now() + absl::Minutes(30);
  SetTime(a.mutable_start_time(), Us(start));
  SetTime(a.mutable_end_time(), Us(start + absl::Hours(2)));
  a.set_capacity(20);
  create.set_idempotency_key("activity-1");
  v1::CreateActivityResponse activity;
  grpc::Status s = env_.stub().CreateActivity(env_.With(env_.west_staff).get(), create, &activity);
  ASSERT_TRUE(s.ok()) << s.error_message();

  s = Delete(env_.west_staff, id, "驿站搬迁");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "WRONG_STATE");
  EXPECT_EQ(Delete(env_.west_staff, id, "").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Delete(env_.west_staff, id, std::string(201, 'r')).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Delete(env_.west_staff, "", "驿站搬迁").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Delete(env_.west_staff, "pl_nosuchplace", "驿站搬迁").error_code(),
            grpc::StatusCode::NOT_FOUND);
  s = Delete(env_.gongnong_staff, id, "驿站搬迁");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "OUTSIDE_ORG_SCOPE");
  EXPECT_EQ(Delete(keeper_, id, "驿站搬迁").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM places WHERE retired_at IS NOT NULL"), "0");

  // Once it is over (or cancelled) the place retires, once.
  env_.Sql(
      "UPDATE activities SET start_at = now() - interval '3 hours', end_at = now() - "
      "interval '1 hour', enrol_close_at = now() - interval '3 hours'");
  v1::Place retired, again;
  ASSERT_TRUE(Delete(env_.west_staff, id, "驿站搬迁", &retired).ok());
  EXPECT_EQ(retired.status(), v1::PLACE_STATUS_RETIRED);
  ASSERT_TRUE(Delete(env_.street_staff, id, "另一个理由", &again).ok());
  EXPECT_EQ(again.etag(), retired.etag());
  EXPECT_EQ(env_.Sql("SELECT retire_reason FROM places WHERE place_id = '" + id + "'"), "驿站搬迁");
  const v1::GetPlaceResponse got = Get(id);
  EXPECT_EQ(got.place().status(), v1::PLACE_STATUS_RETIRED);
  EXPECT_FALSE(got.open_now());

  // Hidden from searches and lists unless asked for.
  v1::SearchNearbyPlacesRequest search;
  *search.mutable_location() = North(0);
  search.set_include_closed(true);
  v1::SearchNearbyPlacesResponse found;
  ASSERT_TRUE(Search(env_.west_staff, search, &found).ok());
  EXPECT_EQ(found.places_size(), 0);
  v1::ListPlacesRequest list;
  list.set_org_id(env_.west);
  v1::ListPlacesResponse listed;
  ASSERT_TRUE(List(env_.west_staff, list, &listed).ok());
  EXPECT_EQ(listed.places_size(), 0);
  list.set_include_retired(true);
  ASSERT_TRUE(List(env_.west_staff, list, &listed).ok());
  EXPECT_EQ(listed.places_size(), 1);
}

TEST_F(PlaceTest, ListPlacesByOrgNodeWithFiltersAndPages) {
  auto with = [&](const std::string& community, const std::string& name, v1::PlaceKind kind,
                  std::vector<v1::PlaceServiceType> services) {
    v1::Place p = Draft(community, 0, name, kind);
    for (auto s : services) p.add_services(s);
    return Make(p, env_.street_staff);
  };
  using S = v1::PlaceServiceType;
  with(env_.west, "乙驿站", v1::PLACE_KIND_RIDER_STATION,
       {S::PLACE_SERVICE_TYPE_REST, S::PLACE_SERVICE_TYPE_STUDY});
  with(env_.west, "甲爱心角", v1::PLACE_KIND_LOVE_CORNER,
       {S::PLACE_SERVICE_TYPE_REST, S::PLACE_SERVICE_TYPE_TYRE_INFLATION});
  with(env_.west, "丙小区", v1::PLACE_KIND_ACTIVITY_VENUE, {});
  with(env_.gongnong, "工农路驿站", v1::PLACE_KIND_RIDER_STATION, {S::PLACE_SERVICE_TYPE_REST});
  with(env_.gongnong, "工农路爱心角", v1::PLACE_KIND_LOVE_CORNER,
       {S::PLACE_SERVICE_TYPE_TYRE_INFLATION});

  // The street, two at a time: ordered by community, then name, then id.
  v1::ListPlacesRequest req;
  req.set_org_id(env_.street);
  req.set_page_size(2);
  std::vector<std::pair<std::string, std::string>> seen;
  for (int page = 0; page < 5; ++page) {
    v1::ListPlacesResponse resp;
    grpc::Status s = List(env_.street_staff, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const v1::Place& p : resp.places()) seen.emplace_back(p.community_id(), p.name());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  // Filters: kinds, all requested services.
  v1::ListPlacesRequest filtered;
  filtered.set_org_id(env_.district);
  filtered.add_kinds(v1::PLACE_KIND_LOVE_CORNER);
  v1::ListPlacesResponse resp;
  ASSERT_TRUE(List(env_.identity().admin_token(), filtered, &resp).ok());
  EXPECT_EQ(resp.places_size(), 2);
  filtered.clear_kinds();
  filtered.add_services(S::PLACE_SERVICE_TYPE_REST);
  filtered.add_services(S::PLACE_SERVICE_TYPE_TYRE_INFLATION);
  resp.Clear();
  ASSERT_TRUE(List(env_.identity().admin_token(), filtered, &resp).ok());
  ASSERT_EQ(resp.places_size(), 1);
  EXPECT_EQ(resp.places(0).name(), "甲爱心角");

  // Community staff see their own community.
  v1::ListPlacesRequest mine;
  mine.set_org_id(env_.west);
  resp.Clear();
  ASSERT_TRUE(List(env_.west_staff, mine, &resp).ok());
  EXPECT_EQ(resp.places_size(), 3);

  // A city system with activity.read lists the whole city.
  const std::string city = CitySystem("root", {"activity.read"});
  v1::ListPlacesRequest all;
  all.set_org_id("root");
  all.set_page_size(100);
  resp.Clear();
  grpc::Status s = List(city, all, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.places_size(), 5);

  // Refusals.
  v1::ListPlacesRequest bad;
  EXPECT_EQ(List(env_.west_staff, bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad.set_org_id("org_nosuchnode");
  EXPECT_EQ(List(env_.west_staff, bad, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  bad.set_org_id(env_.west);
  s = List(env_.gongnong_staff, bad, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "OUTSIDE_ORG_SCOPE");
  bad.set_org_id(env_.street);
  EXPECT_EQ(List(env_.west_staff, bad, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  bad.set_page_token("not-a-token");
  EXPECT_EQ(List(env_.street_staff, bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  req.add_kinds(v1::PLACE_KIND_RIDER_STATION);  // a token of other filters
  EXPECT_EQ(List(env_.street_staff, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListPlacesRequest unspecified;
  unspecified.set_org_id(env_.west);
  unspecified.add_kinds(v1::PLACE_KIND_UNSPECIFIED);
  EXPECT_EQ(List(env_.west_staff, unspecified, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  const auto [rider_id, rider] = env_.Rider(env_.west);
  EXPECT_EQ(List(rider, mine, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(PlaceTest, RidersFindTheNearestOpenPlacesOfferingAService) {
  using S = v1::PlaceServiceType;
  auto place = [&](double m, const std::string& name, v1::PlaceKind kind, std::vector<S> services,
                   const v1::OpeningHours& hours) {
    v1::Place p = Draft(env_.west, m, name, kind);
    for (S s : services) p.add_services(s);
    *p.mutable_opening_hours() = hours;
    return p;
  };
  v1::OpeningHours always;
  always.set_always_open(true);
  Make(place(100, "驿站甲", v1::PLACE_KIND_RIDER_STATION,
             {S::PLACE_SERVICE_TYPE_REST, S::PLACE_SERVICE_TYPE_PHONE_CHARGING}, always));
  Make(place(500, "爱心角乙", v1::PLACE_KIND_LOVE_CORNER,
             {S::PLACE_SERVICE_TYPE_TYRE_INFLATION, S::PLACE_SERVICE_TYPE_DRINKING_WATER},
             Daily("08:00", "20:00")));
  Make(place(1500, "爱心角丙", v1::PLACE_KIND_LOVE_CORNER, {S::PLACE_SERVICE_TYPE_TYRE_INFLATION},
             Daily("20:00", "08:00")));
  v1::Place closed =
      place(2500, "驿站丁", v1::PLACE_KIND_RIDER_STATION, {S::PLACE_SERVICE_TYPE_REST}, always);
  closed.set_temporarily_closed(true);
  *closed.mutable_closed_until() = Ts(Local(12, 3, 9));
  Make(closed);
  Make(place(5000, "远处驿站", v1::PLACE_KIND_RIDER_STATION, {S::PLACE_SERVICE_TYPE_REST}, always));
  Make(place(50, "大西街一号小区", v1::PLACE_KIND_ACTIVITY_VENUE, {}, always));
  // Another place south and east, to show the box is around the rider, not north of them.
  v1::Place south = place(0, "南边驿站", v1::PLACE_KIND_RIDER_STATION, {}, always);
  south.mutable_location()->set_latitude(kLat - 700 / kMetresPerDegree);
  south.mutable_location()->set_longitude(kLon + 0.002);
  Make(south);

  const auto [rider_id, rider] = env_.Rider(env_.west);
  v1::SearchNearbyPlacesRequest req;
  *req.mutable_location() = North(0);
  *req.mutable_at_time() = Ts(Local(12, 2, 10));  // Wednesday 10:00
  v1::SearchNearbyPlacesResponse resp;
  ASSERT_TRUE(Search(rider, req, &resp).ok());
  EXPECT_EQ(Names(resp), (std::vector<std::string>{"驿站甲", "爱心角乙", "南边驿站"}));
  EXPECT_NEAR(resp.places(0).distance_meters(), 100, 1);
  EXPECT_NEAR(resp.places(1).distance_meters(), 500, 1);
  EXPECT_TRUE(resp.places(0).open_now());
  EXPECT_FALSE(resp.places(0).has_next_change_time());
  EXPECT_EQ(TimeOf(resp.places(1).next_change_time()), Local(12, 2, 20));
  EXPECT_EQ(resp.places(1).place().org_path().community_id(), env_.west);
  EXPECT_TRUE(resp.next_page_token().empty());

  // Closed ones too, marked, with when they open.
  req.set_include_closed(true);
  resp.Clear();
  ASSERT_TRUE(Search(rider, req, &resp).ok());
  ASSERT_EQ(Names(resp),
            (std::vector<std::string>{"驿站甲", "爱心角乙", "南边驿站", "爱心角丙", "驿站丁"}));
  EXPECT_FALSE(resp.places(3).open_now());
  EXPECT_EQ(TimeOf(resp.places(3).next_change_time()), Local(12, 2, 20));
  EXPECT_FALSE(resp.places(4).open_now());
  EXPECT_EQ(TimeOf(resp.places(4).next_change_time()), Local(12, 3, 9));

  // Every requested service.
  req.add_services(S::PLACE_SERVICE_TYPE_TYRE_INFLATION);
  resp.Clear();
  ASSERT_TRUE(Search(rider, req, &resp).ok());
  EXPECT_EQ(Names(resp), (std::vector<std::string>{"爱心角乙", "爱心角丙"}));
  req.add_services(S::PLACE_SERVICE_TYPE_DRINKING_WATER);
  resp.Clear();
  ASSERT_TRUE(Search(rider, req, &resp).ok());
  EXPECT_EQ(Names(resp), (std::vector<std::string>{"爱心角乙"}));
  req.clear_services();

  // At night the overnight corner is open; the radius cuts; venues only when asked for.
  req.set_include_closed(false);
  *req.mutable_at_time() = Ts(Local(12, 2, 22));
  req.set_radius_meters(2000);
  resp.Clear();
  ASSERT_TRUE(Search(rider, req, &resp).ok());
  EXPECT_EQ(Names(resp), (std::vector<std::string>{"驿站甲", "南边驿站", "爱心角丙"}));
  EXPECT_EQ(TimeOf(resp.places(2).next_change_time()), Local(12, 3, 8));
  req.set_radius_meters(10000);
  *req.mutable_at_time() = Ts(Local(12, 3, 10));  // the closure has ended
  resp.Clear();
  ASSERT_TRUE(Search(rider, req, &resp).ok());
  EXPECT_EQ(Names(resp),
            (std::vector<std::string>{"驿站甲", "爱心角乙", "南边驿站", "驿站丁", "远处驿站"}));
  req.add_kinds(v1::PLACE_KIND_ACTIVITY_VENUE);
  resp.Clear();
  ASSERT_TRUE(Search(rider, req, &resp).ok());
  EXPECT_EQ(Names(resp), (std::vector<std::string>{"大西街一号小区"}));
  req.clear_kinds();

  // Pages of one, nearest first, until the radius is exhausted.
  req.set_include_closed(true);
  req.set_page_size(1);
  std::vector<std::string> paged;
  for (int i = 0; i < 10; ++i) {
    resp.Clear();
    grpc::Status s = Search(rider, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const std::string& n : Names(resp)) paged.push_back(n);
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(paged, (std::vector<std::string>{"驿站甲", "爱心角乙", "南边驿站", "爱心角丙", "驿站丁",
                                             "远处驿站"}));

  // Refusals.
  struct Case {
    std::string what;
    std::function<void(v1::SearchNearbyPlacesRequest&)> change;
    std::string reason = "";
  };
  std::vector<Case> cases = {
      {"location missing", [](auto& r) { r.clear_location(); }},
      {"latitude 95", [](auto& r) { r.mutable_location()->set_latitude(95); },
       "COORDINATES_OUT_OF_RANGE"},
      {"radius 20001", [](auto& r) { r.set_radius_meters(20001); }},
      {"radius -5", [](auto& r) { r.set_radius_meters(-5); }},
      {"service unspecified", [](auto& r) { r.add_services(v1::PLACE_SERVICE_TYPE_UNSPECIFIED); }},
      {"kind unspecified", [](auto& r) { r.add_kinds(v1::PLACE_KIND_UNSPECIFIED); }},
      {"malformed token", [](auto& r) { r.set_page_token("garbage"); }},
      {"token of another radius", [](auto& r) { r.set_radius_meters(3000); }},
  };
  for (const Case& c : cases) {
    v1::SearchNearbyPlacesRequest r = req;
    c.change(r);
    grpc::Status s = Search(rider, r, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what;
    if (!c.reason.empty()) {
      EXPECT_EQ(ReasonOf(s), c.reason) << c.what;
    }
  }
  v1::SearchNearbyPlacesRequest anonymous;
  *anonymous.mutable_location() = North(0);
  EXPECT_EQ(Search("", anonymous, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(PlaceTest, TheNearbySearchAnswersAsTheTableWouldAndFollowsOtherReplicasWrites) {
  // 400 places within about 4 km, written straight into the table as another replica or a bulk
  // load would: stations, love corners and venues, each with one or two services, always open.
  v1::OpeningHours always;
  always.set_always_open(true);
  env_.Sql(absl::StrCat(
      "INSERT INTO places (place_id, kind, name, address, latitude, longitude, community_id, "
      "street_id, district_id, services, opening_hours, created_by) SELECT 'pl_many_' || "
      "lpad(n::text, 3, '0'), 1 + n % 3, '点' || n, '路' || n, ",
      Exact(kLat), " + ((n * 7919) % 1000 - 500) / 1000.0 * 0.07, ", Exact(kLon),
      " + ((n * 104729) % 1000 - 500) / 1000.0 * 0.09, '", env_.west, "', '", env_.street, "', '",
      env_.district, "', ARRAY[4 + n % 5, 9 + n % 2]::smallint[], decode('",
      absl::BytesToHexString(always.SerializeAsString()),
      "', 'hex'), 'test' FROM generate_series(1, 400) AS n RETURNING 1"));
  // A plain name, not a structured binding: clang 14 (the thread-safety check) does not let a
  // lambda capture a binding.
  const std::string rider = env_.Rider(env_.west).second;
  // The index reads them within about a second.
  auto search_all = [&](double lat, double lon, int radius, int service) {
    std::vector<std::string> ids;
    v1::SearchNearbyPlacesRequest req;
    req.mutable_location()->set_latitude(lat);
    req.mutable_location()->set_longitude(lon);
    req.set_radius_meters(radius);
    req.set_page_size(7);
    if (service > 0) req.add_services(static_cast<v1::PlaceServiceType>(service));
    for (int page = 0; page < 100; ++page) {
      v1::SearchNearbyPlacesResponse resp;
      grpc::Status s = Search(rider, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      for (const v1::NearbyPlace& p : resp.places()) ids.push_back(p.place().place_id());
      if (!s.ok() || resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return ids;
  };
  auto table_order = [&](double lat, double lon, int radius, int service) {
    const std::string distance =
        absl::StrCat("2 * 6371008.8 * asin(least(1.0, sqrt(power(sin(radians(latitude - ",
                     Exact(lat), ") / 2), 2) + cos(radians(", Exact(lat),
                     ")) * cos(radians(latitude)) * power(sin(radians("
                     "longitude - ",
                     Exact(lon), ") / 2), 2))))");
    return std::vector<std::string>(absl::StrSplit(
        env_.Sql(absl::StrCat("SELECT coalesce(string_agg(place_id, ',' ORDER BY d, place_id), '') "
                              "FROM (SELECT place_id, ",
                              distance,
                              " AS d FROM places WHERE retired_at IS NULL AND kind IN (1, 2) AND "
                              "services @> ARRAY[",
                              service > 0 ? std::to_string(service) : "", "]::smallint[]) c ",
                              "WHERE d <= ", radius)),
        ',', absl::SkipEmpty()));
  };
  const size_t everywhere = table_order(kLat, kLon, 20000, 0).size();
  ASSERT_GT(everywhere, 200u);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return search_all(kLat, kLon, 20000, 0).size() == everywhere; }, absl::Seconds(5)));
  // Every query point, radius and service filter, paged seven at a time: the same places in the
  // same order as the table sorted by great-circle distance.
  for (int q = 0; q < 24; ++q) {
    const double lat = kLat + ((q * 37) % 11 - 5) * 0.006;
    const double lon = kLon + ((q * 53) % 13 - 6) * 0.007;
    const int radius = 300 + (q % 6) * 700;
    const int service = q % 3 == 0 ? 4 + q % 5 : 0;
    EXPECT_EQ(search_all(lat, lon, radius, service), table_order(lat, lon, radius, service))
        << "query " << q;
  }

  // Another replica moves a place next to the rider and retires another: seen within seconds.
  env_.Sql(absl::StrCat("UPDATE places SET latitude = ", Exact(kLat + 10 / kMetresPerDegree),
                        ", longitude = ", Exact(kLon),
                        " WHERE place_id = 'pl_many_004' RETURNING 1"));
  EXPECT_TRUE(testing::WaitFor(
      [&] { return search_all(kLat, kLon, 2000, 0).front() == "pl_many_004"; }, absl::Seconds(5)));
  env_.Sql(
      absl::StrCat("UPDATE places SET retired_at = now(), retire_reason = '搬迁' WHERE "
                   "place_id = 'pl_many_007' RETURNING 1"));
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        const std::vector<std::string> all = search_all(kLat, kLon, 20000, 0);
        return std::find(all.begin(), all.end(), "pl_many_007") == all.end();
      },
      absl::Seconds(5)));
}

TEST_F(PlaceTest, CoverageCountsStationsAndLoveCornersPerStreet) {
  auto& id = env_.identity();
  const std::string other_street =
      id.MakeOrg(env_.district, ORG_LEVEL_STREET, "xinjian", "新建南路街道");
  const std::string other_community =
      id.MakeOrg(other_street, ORG_LEVEL_COMMUNITY, "wenxing", "文兴社区");
  using S = v1::PlaceServiceType;
  v1::Place station = Draft(env_.west, 0, "清远西街小哥驿站");
  station.add_services(S::PLACE_SERVICE_TYPE_REST);
  station.add_services(S::PLACE_SERVICE_TYPE_STUDY);
  Make(station);
  v1::Place corner = Draft(env_.west, 100, "清远西街爱心角", v1::PLACE_KIND_LOVE_CORNER);
  corner.add_services(S::PLACE_SERVICE_TYPE_REST);
  corner.add_services(S::PLACE_SERVICE_TYPE_TYRE_INFLATION);
  Make(corner);
  // Not counted: a venue, and a retired station.
  v1::Place venue = Draft(env_.gongnong, 0, "工农路小区", v1::PLACE_KIND_ACTIVITY_VENUE);
  venue.add_services(S::PLACE_SERVICE_TYPE_TOILET);
  Make(venue, env_.street_staff);
  const std::string gone = Make(Draft(env_.gongnong, 0, "工农路旧驿站"), env_.street_staff);
  ASSERT_TRUE(Delete(env_.street_staff, gone, "驿站撤并").ok());
  v1::Place far = Draft(other_community, 0, "文兴爱心角", v1::PLACE_KIND_LOVE_CORNER);
  far.add_services(S::PLACE_SERVICE_TYPE_TYRE_INFLATION);
  Make(far, id.admin_token());

  v1::GetPlaceCoverageStatsRequest req;
  req.set_org_id(env_.district);
  v1::GetPlaceCoverageStatsResponse resp;
  grpc::Status s = env_.stub().GetPlaceCoverageStats(env_.With(id.admin_token()).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::PlaceCoverage& total = resp.total();
  EXPECT_EQ(total.scope().org_id(), env_.district);
  EXPECT_EQ(total.scope().level(), common::v1::ORG_LEVEL_DISTRICT);
  EXPECT_EQ(total.rider_stations(), 1);
  EXPECT_EQ(total.love_corners(), 2);
  EXPECT_EQ(total.communities_total(), 3);
  EXPECT_EQ(total.communities_covered(), 2);
  EXPECT_EQ(total.service_types_offered(), 3);
  ASSERT_EQ(total.services_size(), 3);
  EXPECT_EQ(total.services(0).service(), S::PLACE_SERVICE_TYPE_STUDY);
  EXPECT_EQ(total.services(0).places(), 1);
  EXPECT_EQ(total.services(1).service(), S::PLACE_SERVICE_TYPE_REST);
  EXPECT_EQ(total.services(1).places(), 2);
  EXPECT_EQ(total.services(2).service(), S::PLACE_SERVICE_TYPE_TYRE_INFLATION);
  EXPECT_EQ(total.services(2).places(), 2);
  ASSERT_EQ(total.uncovered_community_ids_size(), 1);
  EXPECT_EQ(total.uncovered_community_ids(0), env_.gongnong);
  ASSERT_EQ(resp.streets_size(), 2);
  EXPECT_LT(resp.streets(0).scope().org_id(), resp.streets(1).scope().org_id());
  const v1::PlaceCoverage& qingyuan =
      resp.streets(0).scope().org_id() == env_.street ? resp.streets(0) : resp.streets(1);
  EXPECT_EQ(qingyuan.org_path().district_id(), env_.district);
  EXPECT_EQ(qingyuan.org_path().street_id(), env_.street);
  EXPECT_EQ(qingyuan.rider_stations(), 1);
  EXPECT_EQ(qingyuan.love_corners(), 1);
  EXPECT_EQ(qingyuan.communities_total(), 2);
  EXPECT_EQ(qingyuan.communities_covered(), 1);
  EXPECT_EQ(qingyuan.service_types_offered(), 3);

  // Street staff see their street.
  req.set_org_id(env_.street);
  resp.Clear();
  ASSERT_TRUE(
      env_.stub().GetPlaceCoverageStats(env_.With(env_.street_staff).get(), req, &resp).ok());
  ASSERT_EQ(resp.streets_size(), 1);
  EXPECT_EQ(resp.total().love_corners(), 1);
  EXPECT_EQ(resp.total().scope().level(), common::v1::ORG_LEVEL_STREET);

  // A city-wide city system sees the whole city.
  const std::string city = CitySystem("root", {"activity.stats.read"});
  req.clear_org_id();
  resp.Clear();
  s = env_.stub().GetPlaceCoverageStats(env_.With(city).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.total().scope().level(), common::v1::ORG_LEVEL_CITY);
  EXPECT_EQ(resp.total().love_corners(), 2);
  EXPECT_EQ(resp.streets_size(), 2);

  // Refusals.
  auto code = [&](const std::string& token, const std::string& org) {
    v1::GetPlaceCoverageStatsRequest r;
    r.set_org_id(org);
    v1::GetPlaceCoverageStatsResponse out;
    return env_.stub().GetPlaceCoverageStats(env_.With(token).get(), r, &out).error_code();
  };
  EXPECT_EQ(code(id.admin_token(), env_.west), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code(id.admin_token(), "org_nosuchnode"), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(code(env_.street_staff, env_.district), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(code(env_.street_staff, other_street), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(code(env_.street_staff, ""), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(code(id.admin_token(), ""), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(code(env_.west_staff, env_.street), grpc::StatusCode::PERMISSION_DENIED);
  const std::string district_system = CitySystem(env_.district, {"activity.stats.read"});
  EXPECT_EQ(code(district_system, ""), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(code(district_system, env_.district), grpc::StatusCode::OK);
}

}  // namespace
}  // namespace civicpoints::activity
