// Activities end to end on real PostgreSQL, identity and the ledger: create, enrol, check in with
// the rotating code and the phone's position, confirm, and the award reaching the ledger once;
// every refusal the contract names; and the ledger stopped while 200 attendances are confirmed.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"
#include "services/activity/activity_test_env.h"
#include "services/activity/check_in_code.h"

namespace civicpoints::activity {
namespace {

// 清远西街 in 大同: the place, a point 50 m away and one 2 km away.
constexpr double kLat = 40.0937, kLon = 113.2956;
constexpr double kNearLat = 40.0941, kFarLat = 40.1117;

class ActivityTestBase : public ::testing::Test {
 protected:
  explicit ActivityTestBase(ActivityTestEnv::Options options) : env_(std::move(options)) {}

  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    place_ = env_.MakePlace(env_.west, kLat, kLon);
  }

  v1::Activity Draft(const std::string& organiser) {
    v1::Activity a;
    a.set_title("大西街一号小区环境整治");
    a.set_category(v1::ACTIVITY_CATEGORY_ENVIRONMENTAL_CLEANUP);
    a.set_place_id(place_);
    a.set_organiser_org_id(organiser);
    const absl::Time start = absl::Now() + absl::Minutes(11);
    SetTime(a.mutable_start_time(), Us(start));
    SetTime(a.mutable_end_time(), Us(start + absl::Hours(2)));
    a.set_capacity(30);
    return a;
  }

  grpc::Status Create(const std::string& token, const v1::Activity& a, v1::Activity* out,
                      const std::string& key = "") {
    v1::CreateActivityRequest req;
    *req.mutable_activity() = a;
    req.set_idempotency_key(key.empty() ? absl::StrCat("create-", ++keys_) : key);
    v1::CreateActivityResponse resp;
    grpc::Status s = env_.stub().CreateActivity(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.activity();
    return s;
  }

  std::string MakeActivity(int capacity = 30, int64_t points = 0) {
    v1::Activity a = Draft(env_.west);
    a.set_capacity(capacity);
    a.set_points(points);
    v1::Activity made;
    grpc::Status s = Create(env_.west_staff, a, &made);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return made.activity_id();
  }

  grpc::Status Enrol(const std::string& token, const std::string& activity,
                     v1::EnrolInActivityResponse* resp = nullptr) {
    v1::EnrolInActivityRequest req;
    req.set_activity_id(activity);
    req.set_idempotency_key(absl::StrCat("enrol-", ++keys_));
    v1::EnrolInActivityResponse r;
    return env_.stub().EnrolInActivity(env_.With(token).get(), req, resp ? resp : &r);
  }

  // Moves the activity so it started 10 minutes ago and ends in an hour.
  void Start(const std::string& activity) {
    env_.Sql(
        "UPDATE activities SET start_at = now() - interval '10 minutes', enrol_close_at = "
        "now() - interval '10 minutes', end_at = now() + interval '1 hour' "
        "WHERE activity_id = '" +
        activity + "'");
  }

  grpc::Status CheckIn(const std::string& token, const std::string& activity,
                       const std::string& code, double lat, int accuracy = 10) {
    v1::CheckInToActivityRequest req;
    req.set_activity_id(activity);
    req.set_code(code);
    req.mutable_location()->set_latitude(lat);
    req.mutable_location()->set_longitude(kLon);
    req.set_location_accuracy_meters(accuracy);
    req.set_idempotency_key(absl::StrCat("checkin-", ++keys_));
    v1::CheckInToActivityResponse resp;
    return env_.stub().CheckInToActivity(env_.With(token).get(), req, &resp);
  }

  std::string Code(const std::string& activity) {
    v1::GetCheckInCodeRequest req;
    req.set_activity_id(activity);
    v1::GetCheckInCodeResponse resp;
    grpc::Status s = env_.stub().GetCheckInCode(env_.With(env_.west_staff).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.code();
  }

  grpc::Status StaffCheckIn(const std::string& activity, const std::string& rider,
                            bool walk_in = false) {
    v1::CheckInRiderRequest req;
    req.set_activity_id(activity);
    req.set_rider_id(rider);
    req.set_enrol_if_needed(walk_in);
    req.set_idempotency_key(absl::StrCat("staff-checkin-", ++keys_));
    v1::CheckInRiderResponse resp;
    return env_.stub().CheckInRider(env_.With(env_.west_staff).get(), req, &resp);
  }

  grpc::Status ConfirmAll(const std::string& activity, v1::ConfirmAttendanceResponse* resp) {
    v1::ConfirmAttendanceRequest req;
    req.set_activity_id(activity);
    req.set_all_checked_in(true);
    return env_.stub().ConfirmAttendance(env_.With(env_.west_staff).get(), req, resp);
  }

  // The rider's available balance in the ledger.
  int64_t Balance(const std::string& rider) {
    return env_.ledger().Sql(
        "SELECT COALESCE(sum(available), 0) FROM ledger.accounts WHERE person_id = '" + rider +
        "'");
  }

  bool AllDelivered() { return env_.Sql("SELECT count(*) FROM awards WHERE status = 1") == "0"; }

  // `count` walk-in riders of 清远西街 attend an activity worth `points` (0: the rules' default),
  // and are confirmed while the ledger is stopped, so their awards wait; returns the riders.
  std::vector<std::string> ConfirmedWhileTheLedgerIsDown(int count, int64_t points = 0) {
    const std::string activity = MakeActivity(/*capacity=*/std::max(count, 30), points);
    std::vector<std::string> riders;
    for (int i = 0; i < count; ++i) {
      riders.push_back(env_.Rider(env_.west).first);
      EXPECT_TRUE(StaffCheckIn(activity, riders.back(), /*walk_in=*/true).ok()) << i;
    }
    Start(activity);
    env_.StopLedger();
    v1::ConfirmAttendanceResponse confirmed;
    EXPECT_TRUE(ConfirmAll(activity, &confirmed).ok());
    EXPECT_EQ(confirmed.confirmed_size(), count);
    return riders;
  }

  ActivityTestEnv env_;
  std::string place_;
  int keys_ = 0;
};

class ActivityTest : public ActivityTestBase {
 protected:
  ActivityTest() : ActivityTestBase({}) {}
};

TEST_F(ActivityTest, StaffCreateActivitiesInTheirScopeWithValidFields) {
  v1::Activity made;
  const v1::Activity draft = Draft(env_.west);
  ASSERT_TRUE(Create(env_.west_staff, draft, &made, "same-key").ok());
  EXPECT_EQ(made.status(), v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(made.org_path().community_id(), env_.west);
  EXPECT_EQ(made.org_path().street_id(), env_.street);
  EXPECT_EQ(made.effective_points(), 10);  // the city default for a clean-up
  EXPECT_EQ(made.check_in_lead_minutes(), 30);
  EXPECT_EQ(made.check_in_code_period_seconds(), 30);
  EXPECT_EQ(made.place_name().rfind("清远西街小哥驿站", 0), 0u);
  // A retry returns the same activity; the key with another request is refused.
  v1::Activity again;
  ASSERT_TRUE(Create(env_.west_staff, draft, &again, "same-key").ok());
  EXPECT_EQ(again.activity_id(), made.activity_id());
  v1::Activity other = draft;
  other.set_title("另一个活动");
  EXPECT_EQ(Create(env_.west_staff, other, nullptr, "same-key").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM activities"), "1");

  // Street staff organise for the street; community staff of another community may not.
  ASSERT_TRUE(Create(env_.street_staff, Draft(env_.street), &made).ok());
  EXPECT_TRUE(made.org_path().community_id().empty());
  EXPECT_EQ(Create(env_.gongnong_staff, Draft(env_.west), nullptr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Riders cannot create at all.
  const std::string rider = env_.Rider(env_.west).second;
  EXPECT_EQ(Create(rider, Draft(env_.west), nullptr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ActivityTest, BadActivitiesAreRefusedAndWriteNothing) {
  struct Case {
    const char* what;
    std::function<void(v1::Activity&)> spoil;
    grpc::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"no title", [](v1::Activity& a) { a.clear_title(); }, grpc::StatusCode::INVALID_ARGUMENT},
      {"long title", [](v1::Activity& a) { a.set_title(std::string(61, 'x')); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"no category", [](v1::Activity& a) { a.clear_category(); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"starts too soon",
       [](v1::Activity& a) { SetTime(a.mutable_start_time(), Us(absl::Now() + absl::Minutes(2))); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"ends before it starts", [](v1::Activity& a) { *a.mutable_end_time() = a.start_time(); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"longer than a day",
       [](v1::Activity& a) {
         SetTime(a.mutable_end_time(), Us(TimeOf(a.start_time()) + absl::Hours(25)));
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"no seats", [](v1::Activity& a) { a.set_capacity(0); }, grpc::StatusCode::INVALID_ARGUMENT},
      {"too many points", [](v1::Activity& a) { a.set_points(1001); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"more than the rule allows", [](v1::Activity& a) { a.set_points(500); },
       grpc::StatusCode::FAILED_PRECONDITION},
      {"tiny geofence", [](v1::Activity& a) { a.set_check_in_radius_meters(5); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"unknown place", [](v1::Activity& a) { a.set_place_id("place_none"); },
       grpc::StatusCode::NOT_FOUND},
      {"unknown organiser", [](v1::Activity& a) { a.set_organiser_org_id("org_none"); },
       grpc::StatusCode::NOT_FOUND},
  };
  for (const Case& c : cases) {
    v1::Activity a = Draft(env_.west);
    c.spoil(a);
    grpc::Status s = Create(env_.west_staff, a, nullptr);
    EXPECT_EQ(s.error_code(), c.code) << c.what << ": " << s.error_message();
    EXPECT_FALSE(s.error_message().empty()) << c.what;
  }
  // The refusals a client can act on say which rule and its figures.
  v1::Activity rich = Draft(env_.west);
  rich.set_points(500);
  grpc::Status over = Create(env_.west_staff, rich, nullptr);
  EXPECT_EQ(ReasonOf(over), "MAX_POINTS_EXCEEDED") << over.error_message();
  v1::Activity at_district = Draft(env_.west);
  at_district.set_organiser_org_id(env_.district);
  EXPECT_EQ(ReasonOf(Create(env_.west_staff, at_district, nullptr)), "WRONG_ORG_LEVEL");
  // A retired place.
  env_.Sql("UPDATE places SET retired_at = now() WHERE place_id = '" + place_ + "'");
  grpc::Status s = Create(env_.west_staff, Draft(env_.west), nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("retired"), std::string::npos) << s.error_message();
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM activities"), "0");
  // No idempotency key.
  v1::CreateActivityRequest req;
  *req.mutable_activity() = Draft(env_.west);
  v1::CreateActivityResponse resp;
  EXPECT_EQ(env_.stub().CreateActivity(env_.With(env_.west_staff).get(), req, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ActivityTest, RidersEnrolOnceWithinCapacityAndMayWithdrawAndReturn) {
  const std::string activity = MakeActivity(/*capacity=*/2);
  auto [a_id, a] = env_.Rider(env_.west);
  auto [b_id, b] = env_.Rider(env_.west);
  const std::string c = env_.Rider("").second;
  v1::EnrolInActivityResponse enrolled;
  ASSERT_TRUE(Enrol(a, activity, &enrolled).ok());
  EXPECT_EQ(enrolled.enrolment().status(), v1::ENROLMENT_STATUS_ENROLLED);
  EXPECT_EQ(enrolled.activity().enrolled_count(), 1);
  EXPECT_EQ(Enrol(a, activity).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(Enrol(b, activity).ok());
  grpc::Status full = Enrol(c, activity);
  EXPECT_EQ(full.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(full.error_message().find("full"), std::string::npos);

  v1::WithdrawEnrolmentRequest w;
  w.set_activity_id(activity);
  v1::WithdrawEnrolmentResponse withdrawn;
  ASSERT_TRUE(env_.stub().WithdrawEnrolment(env_.With(a).get(), w, &withdrawn).ok());
  EXPECT_EQ(withdrawn.enrolment().status(), v1::ENROLMENT_STATUS_WITHDRAWN);
  // Withdrawing again is harmless; the freed seat goes to the next rider; the first may return
  // only when a seat is free again.
  ASSERT_TRUE(env_.stub().WithdrawEnrolment(env_.With(a).get(), w, &withdrawn).ok());
  ASSERT_TRUE(Enrol(c, activity).ok());
  EXPECT_EQ(Enrol(a, activity).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(env_.Sql("SELECT enrolled_count FROM activities"), "2");

  // A rider who never enrolled cannot withdraw; an unknown activity is NOT_FOUND.
  const std::string d = env_.Rider("").second;
  EXPECT_EQ(env_.stub().WithdrawEnrolment(env_.With(d).get(), w, &withdrawn).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Enrol(d, "act_none").error_code(), grpc::StatusCode::NOT_FOUND);
  // Enrolment closes when the activity starts.
  Start(activity);
  EXPECT_EQ(Enrol(d, activity).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ActivityTest, AnActivityForCheckedInRidersTakesOnlyRidersOfItsCommunity) {
  v1::Activity a = Draft(env_.west);
  a.set_audience(v1::ACTIVITY_AUDIENCE_CHECKED_IN_RIDERS);
  v1::Activity made;
  ASSERT_TRUE(Create(env_.west_staff, a, &made).ok());
  const std::string west = env_.Rider(env_.west).second;
  const std::string gongnong = env_.Rider(env_.gongnong).second;
  const std::string nowhere = env_.Rider("").second;
  ASSERT_TRUE(Enrol(west, made.activity_id()).ok());
  for (const std::string* outsider : {&gongnong, &nowhere}) {
    grpc::Status s = Enrol(*outsider, made.activity_id());
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(s.error_message().find("checked in at"), std::string::npos) << s.error_message();
  }
  EXPECT_EQ(env_.Sql("SELECT enrolled_count FROM activities"), "1");
}

TEST_F(ActivityTest, CheckInNeedsTheCurrentCodeTheRightPlaceAndAnEnrolment) {
  const std::string activity = MakeActivity();
  auto [rider_id, rider] = env_.Rider(env_.west);
  const std::string stranger = env_.Rider(env_.west).second;
  ASSERT_TRUE(Enrol(rider, activity).ok());
  // The window opens 30 minutes before the start: it is open now (the start is 11 minutes away).
  const std::string code = Code(activity);
  ASSERT_EQ(code.size(), 6u);

  // Refusals, none of which checks the rider in.
  std::string wrong = code;
  wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
  grpc::Status s = CheckIn(rider, activity, wrong, kNearLat);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("does not match"), std::string::npos) << s.error_message();
  s = CheckIn(rider, activity, code, kFarLat);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find(" m from "), std::string::npos) << s.error_message();
  EXPECT_EQ(CheckIn(rider, activity, code, kNearLat, /*accuracy=*/3000).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(CheckIn(rider, activity, code, 95.0).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CheckIn(rider, activity, "12ab56", kNearLat).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CheckIn(stranger, activity, code, kNearLat).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // not enrolled
  // A code from a few periods ago (photographed earlier) has rotated away.
  const std::string secret = env_.Sql("SELECT encode(code_secret, 'hex') FROM activities");
  std::string raw;
  for (size_t i = 0; i < secret.size(); i += 2) {
    raw.push_back(static_cast<char>(std::stoi(secret.substr(i, 2), nullptr, 16)));
  }
  const std::string stale = CheckInCode(raw, CodePeriod(absl::Now(), 30) - 3);
  if (stale != code) {
    s = CheckIn(rider, activity, stale, kNearLat);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    EXPECT_NE(s.error_message().find("rotated"), std::string::npos) << s.error_message();
  }
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM enrolments WHERE status = 3"), "0");

  ASSERT_TRUE(CheckIn(rider, activity, Code(activity), kNearLat).ok());
  EXPECT_EQ(CheckIn(rider, activity, Code(activity), kNearLat).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM enrolments WHERE status = 3"), "1");
  EXPECT_EQ(env_.Sql("SELECT check_in_distance_m < 100 FROM enrolments WHERE status = 3"), "t");
}

TEST_F(ActivityTest, GuessingCodesIsThrottledAfterFiveWrongOnes) {
  const std::string activity = MakeActivity();
  const std::string rider = env_.Rider(env_.west).second;
  ASSERT_TRUE(Enrol(rider, activity).ok());
  const std::string code = Code(activity);
  int wrong = 0;
  for (int guess = 0; wrong < 5; ++guess) {
    const std::string g = absl::StrCat(100000 + guess);
    if (g == code) continue;
    EXPECT_EQ(CheckIn(rider, activity, g, kNearLat).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    ++wrong;
  }
  // Each wrong code was counted in the commit that refused it; the refused attempt counts
  // nothing more.
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM throttle_events"), "5");
  grpc::Status s = CheckIn(rider, activity, Code(activity), kNearLat);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM throttle_events"), "5");
  // Staff can still check the rider in by hand.
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM enrolments WHERE status = 3"), "0");
}

TEST_F(ActivityTest, ARightCodeChecksInInOneCommitAndCountsNothing) {
  const std::string activity = MakeActivity();
  const std::string rider = env_.Rider(env_.west).second;
  ASSERT_TRUE(Enrol(rider, activity).ok());
  ASSERT_TRUE(CheckIn(rider, activity, Code(activity), kNearLat).ok());
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM throttle_events"), "0");
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM enrolments WHERE status = 3"), "1");
}

TEST_F(ActivityTest, ABurstOfParallelGuessesGetsFiveVerdicts) {
  const std::string activity = MakeActivity();
  const std::string rider = env_.Rider(env_.west).second;
  ASSERT_TRUE(Enrol(rider, activity).ok());
  const std::string code = Code(activity);
  std::vector<std::string> guesses;
  for (int g = 100000; guesses.size() < 20; ++g) {
    if (absl::StrCat(g) != code) guesses.push_back(absl::StrCat(g));
  }
  std::atomic<int> wrong{0}, throttled{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < guesses.size(); ++i) {
    threads.emplace_back([&, i] {
      v1::CheckInToActivityRequest req;
      req.set_activity_id(activity);
      req.set_code(guesses[i]);
      req.mutable_location()->set_latitude(kNearLat);
      req.mutable_location()->set_longitude(kLon);
      req.set_location_accuracy_meters(10);
      req.set_idempotency_key(absl::StrCat("burst-", i));
      v1::CheckInToActivityResponse resp;
      grpc::Status s = env_.stub().CheckInToActivity(env_.With(rider).get(), req, &resp);
      if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) ++wrong;
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++throttled;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 5);
  EXPECT_EQ(throttled.load(), 15);
}

TEST_F(ActivityTest, ConfirmedAttendanceReachesTheLedgerExactlyOnce) {
  const std::string activity = MakeActivity();
  auto [a_id, a] = env_.Rider(env_.west);
  auto [b_id, b] = env_.Rider("");  // checked in nowhere: counts where the work was done
  auto [c_id, c] = env_.Rider(env_.west);
  for (const std::string* t : {&a, &b, &c}) ASSERT_TRUE(Enrol(*t, activity).ok());
  ASSERT_TRUE(StaffCheckIn(activity, a_id).ok());
  ASSERT_TRUE(StaffCheckIn(activity, b_id).ok());
  // Staff cannot check themselves in, and confirmation waits for the start.
  EXPECT_EQ(StaffCheckIn(activity, env_.west_staff_id, true).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ConfirmAttendanceResponse confirmed;
  EXPECT_EQ(ConfirmAll(activity, &confirmed).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  Start(activity);
  // Named riders: c never checked in, so nobody is confirmed.
  v1::ConfirmAttendanceRequest named;
  named.set_activity_id(activity);
  named.add_rider_ids(a_id);
  named.add_rider_ids(c_id);
  grpc::Status s =
      env_.stub().ConfirmAttendance(env_.With(env_.west_staff).get(), named, &confirmed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find(c_id), std::string::npos) << s.error_message();
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM awards"), "0");
  // Another community's staff may not confirm.
  v1::ConfirmAttendanceRequest all;
  all.set_activity_id(activity);
  all.set_all_checked_in(true);
  EXPECT_EQ(env_.stub()
                .ConfirmAttendance(env_.With(env_.gongnong_staff).get(), all, &confirmed)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  confirmed.Clear();
  ASSERT_TRUE(ConfirmAll(activity, &confirmed).ok());
  ASSERT_EQ(confirmed.confirmed_size(), 2);
  for (const v1::Enrolment& e : confirmed.confirmed()) {
    EXPECT_EQ(e.status(), v1::ENROLMENT_STATUS_CONFIRMED);
    EXPECT_EQ(e.award().points(), 10);
    EXPECT_EQ(e.award().idempotency_key(),
              absl::StrCat("activity/", activity, "/rider/", e.rider_id()));
    EXPECT_EQ(e.award().rider_org_path().community_id(), env_.west);
  }
  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(10)));
  EXPECT_EQ(Balance(a_id), 10);
  EXPECT_EQ(Balance(b_id), 10);
  EXPECT_EQ(Balance(c_id), 0);

  // Confirming again, all or by name, awards nobody twice.
  v1::ConfirmAttendanceResponse again;
  ASSERT_TRUE(ConfirmAll(activity, &again).ok());
  EXPECT_EQ(again.confirmed_size(), 0);
  v1::ConfirmAttendanceRequest by_name;
  by_name.set_activity_id(activity);
  by_name.add_rider_ids(a_id);
  ASSERT_TRUE(
      env_.stub().ConfirmAttendance(env_.With(env_.west_staff).get(), by_name, &again).ok());
  ASSERT_EQ(again.already_confirmed_rider_ids_size(), 1);
  // The relay sending a row twice (a crash after the ledger answered) changes nothing either.
  env_.Sql("UPDATE awards SET status = 1, next_attempt_at = now()");
  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(10)));
  EXPECT_EQ(Balance(a_id), 10);
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.entries"), 2);
  // One attendance_confirmed event per rider, at the activity's community, never repeated.
  EXPECT_EQ(env_.Sql("SELECT count(*) || ' ' || count(DISTINCT subject) || ' ' || "
                     "min(community_id) FROM outbox_events WHERE type = "
                     "'civicpoints.activity.v1.attendance_confirmed'"),
            absl::StrCat("2 2 ", env_.west));

  // The rider sees the award as delivered.
  v1::ListAwardsRequest list;
  v1::ListAwardsResponse awards;
  ASSERT_TRUE(env_.stub().ListAwards(env_.With(a).get(), list, &awards).ok());
  ASSERT_EQ(awards.awards_size(), 1);
  EXPECT_EQ(awards.awards(0).status(), v1::AWARD_STATUS_AWARDED);
  EXPECT_FALSE(awards.awards(0).ledger_entry_id().empty());
  EXPECT_EQ(awards.pending_points(), 0);
}

TEST_F(ActivityTest, PointsRulesAreInheritedOverriddenAndCapped) {
  // The street gives clean-ups 30; the community caps a day at 40.
  v1::UpdatePointsRulesRequest street;
  street.set_org_id(env_.street);
  auto* cat = street.mutable_rules()->add_activity_category_points();
  cat->set_category(v1::ACTIVITY_CATEGORY_ENVIRONMENTAL_CLEANUP);
  cat->set_points(30);
  v1::UpdatePointsRulesResponse updated;
  ASSERT_TRUE(
      env_.stub().UpdatePointsRules(env_.With(env_.street_staff).get(), street, &updated).ok());
  EXPECT_EQ(updated.rules().version(), 1);
  // The same rules again change nothing; a stale etag is refused; community staff may not set
  // rules; a repeated category is bad input.
  ASSERT_TRUE(
      env_.stub().UpdatePointsRules(env_.With(env_.street_staff).get(), street, &updated).ok());
  EXPECT_EQ(updated.rules().version(), 1);
  street.set_etag("v0");
  EXPECT_EQ(env_.stub()
                .UpdatePointsRules(env_.With(env_.street_staff).get(), street, &updated)
                .error_code(),
            grpc::StatusCode::ABORTED);
  street.clear_etag();
  EXPECT_EQ(env_.stub()
                .UpdatePointsRules(env_.With(env_.west_staff).get(), street, &updated)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::UpdatePointsRulesRequest bad = street;
  *bad.mutable_rules()->add_activity_category_points() = *cat;
  EXPECT_EQ(
      env_.stub().UpdatePointsRules(env_.With(env_.street_staff).get(), bad, &updated).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  v1::UpdatePointsRulesRequest district;
  district.set_org_id(env_.district);
  district.mutable_rules()->set_daily_cap_points(50);
  EXPECT_EQ(env_.stub()
                .UpdatePointsRules(env_.With(env_.street_staff).get(), district, &updated)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::UpdatePointsRulesRequest west;
  west.set_org_id(env_.west);
  west.mutable_rules()->set_daily_cap_points(40);
  ASSERT_TRUE(
      env_.stub().UpdatePointsRules(env_.With(env_.street_staff).get(), west, &updated).ok());

  v1::ResolveEffectivePointsRulesRequest resolve;
  resolve.set_org_id(env_.west);
  v1::ResolveEffectivePointsRulesResponse effective;
  ASSERT_TRUE(
      env_.stub()
          .ResolveEffectivePointsRules(env_.With(env_.west_staff).get(), resolve, &effective)
          .ok());
  for (const auto& e : effective.rules().activity_category_points()) {
    if (e.category() == v1::ACTIVITY_CATEGORY_ENVIRONMENTAL_CLEANUP) {
      EXPECT_EQ(e.points(), 30);
      EXPECT_EQ(e.source_org_id(), env_.street);
    } else {
      EXPECT_EQ(e.source_org_id(), "city");
    }
  }
  EXPECT_EQ(effective.rules().daily_cap_points().value(), 40);
  EXPECT_EQ(effective.rules().daily_cap_points().source_org_id(), env_.west);

  // Two clean-ups on one day: 30, then 10 of the next 30 (the cap of 40).
  auto [rider_id, rider] = env_.Rider(env_.west);
  int64_t total = 0;
  for (int i = 0; i < 2; ++i) {
    const std::string activity = MakeActivity();
    ASSERT_TRUE(Enrol(rider, activity).ok());
    ASSERT_TRUE(StaffCheckIn(activity, rider_id).ok());
    Start(activity);
    v1::ConfirmAttendanceResponse confirmed;
    ASSERT_TRUE(ConfirmAll(activity, &confirmed).ok());
    ASSERT_EQ(confirmed.confirmed_size(), 1);
    EXPECT_EQ(confirmed.confirmed(0).award().points_before_cap(), 30);
    EXPECT_EQ(confirmed.confirmed(0).award().rule_org_id(), env_.street);
    total += confirmed.confirmed(0).award().points();
  }
  EXPECT_EQ(total, 40);
  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(10)));
  EXPECT_EQ(Balance(rider_id), 40);
}

TEST_F(ActivityTest, ActivitiesAreListedByOrgNodeSoonestFirstInPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(MakeActivity(/*capacity=*/1));
  const std::string rider = env_.Rider(env_.west).second;
  ASSERT_TRUE(Enrol(rider, ids[1]).ok());  // now full

  v1::ListActivitiesRequest req;
  req.set_org_id(env_.street);
  req.set_page_size(2);
  v1::ListActivitiesResponse page;
  ASSERT_TRUE(env_.stub().ListActivities(env_.With(rider).get(), req, &page).ok());
  ASSERT_EQ(page.activities_size(), 2);
  EXPECT_EQ(page.activities(0).activity_id(), ids[0]);
  ASSERT_FALSE(page.next_page_token().empty());
  req.set_page_token(page.next_page_token());
  ASSERT_TRUE(env_.stub().ListActivities(env_.With(rider).get(), req, &page).ok());
  ASSERT_EQ(page.activities_size(), 1);
  EXPECT_EQ(page.activities(0).activity_id(), ids[2]);
  EXPECT_TRUE(page.next_page_token().empty());
  // A token is bound to its filters.
  req.set_only_enrollable(true);
  EXPECT_EQ(env_.stub().ListActivities(env_.With(rider).get(), req, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  req.clear_page_token();
  req.set_page_size(10);
  ASSERT_TRUE(env_.stub().ListActivities(env_.With(rider).get(), req, &page).ok());
  EXPECT_EQ(page.activities_size(), 2);  // the full one is left out

  // Staff list only inside their scope; the other community has none.
  v1::ListActivitiesRequest other;
  other.set_org_id(env_.gongnong);
  ASSERT_TRUE(env_.stub().ListActivities(env_.With(env_.gongnong_staff).get(), other, &page).ok());
  EXPECT_EQ(page.activities_size(), 0);
  other.set_org_id(env_.west);
  EXPECT_EQ(
      env_.stub().ListActivities(env_.With(env_.gongnong_staff).get(), other, &page).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  other.set_org_id("org_none");
  EXPECT_EQ(env_.stub().ListActivities(env_.With(rider).get(), other, &page).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ActivityTest, DashboardFiguresCountTheSubtreeOverTheDays) {
  const std::string activity = MakeActivity();
  auto [a_id, a] = env_.Rider(env_.west);
  auto [b_id, b] = env_.Rider(env_.west);
  for (const auto& [id, token] : {std::pair{a_id, a}, std::pair{b_id, b}}) {
    ASSERT_TRUE(Enrol(token, activity).ok());
    ASSERT_TRUE(StaffCheckIn(activity, id).ok());
  }
  Start(activity);
  v1::ConfirmAttendanceResponse confirmed;
  ASSERT_TRUE(ConfirmAll(activity, &confirmed).ok());
  v1::SubmitServiceRecordRequest report;
  report.set_idempotency_key("report-1");
  v1::ServiceRecord* r = report.mutable_service_record();
  r->set_kind(v1::SERVICE_RECORD_KIND_GRID_PATROL);
  r->set_description("夜间网格巡查");
  r->mutable_location()->set_latitude(kLat);
  r->mutable_location()->set_longitude(kLon);
  r->set_community_id(env_.west);
  v1::SubmitServiceRecordResponse submitted;
  ASSERT_TRUE(env_.stub().SubmitServiceRecord(env_.With(a).get(), report, &submitted).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(10)));

  v1::GetActivityStatsRequest req;
  req.set_org_id(env_.street);
  req.set_include_children(true);
  v1::GetActivityStatsResponse stats;
  ASSERT_TRUE(env_.stub().GetActivityStats(env_.With(env_.street_staff).get(), req, &stats).ok());
  const v1::ActivityStats& s = stats.stats();
  EXPECT_EQ(s.activities_held(), 1);
  EXPECT_EQ(s.enrolments(), 2);
  EXPECT_EQ(s.attendances_confirmed(), 2);
  EXPECT_EQ(s.distinct_participants(), 2);
  EXPECT_EQ(s.active_riders(), 2);
  EXPECT_EQ(s.points_awarded(), 20);
  EXPECT_EQ(s.points_pending(), 0);
  ASSERT_EQ(s.service_records_size(), 1);
  EXPECT_EQ(s.service_records(0).status(), v1::SERVICE_RECORD_STATUS_SUBMITTED);
  ASSERT_EQ(s.activities_held_per_day_size(), 1);
  EXPECT_EQ(s.activities_held_per_day(0).day(), ShanghaiDay(absl::Now() - absl::Minutes(10)));
  ASSERT_EQ(stats.children_size(), 2);  // 清远西街 and 工农路, by id
  for (const v1::ActivityStats& child : stats.children()) {
    EXPECT_EQ(child.activities_held(), child.scope().org_id() == env_.west ? 1 : 0);
  }

  // Bad days, a range too long, a node outside the caller's scope, the city for staff.
  for (const auto& [from, to] : {std::pair{"2026-13-01", ""}, std::pair{"2026-11-20", "2026-11-01"},
                                 std::pair{"2025-01-01", "2026-11-01"}}) {
    v1::GetActivityStatsRequest bad;
    bad.set_org_id(env_.street);
    bad.set_from_day(from);
    bad.set_to_day(to);
    EXPECT_EQ(
        env_.stub().GetActivityStats(env_.With(env_.street_staff).get(), bad, &stats).error_code(),
        grpc::StatusCode::INVALID_ARGUMENT)
        << from << " " << to;
  }
  v1::GetActivityStatsRequest other;
  other.set_org_id(env_.west);
  EXPECT_EQ(env_.stub()
                .GetActivityStats(env_.With(env_.gongnong_staff).get(), other, &stats)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(env_.stub()
                .GetActivityStats(env_.With(env_.street_staff).get(), v1::GetActivityStatsRequest(),
                                  &stats)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ActivityTest, TwoHundredAttendancesConfirmedWhileTheLedgerIsDownAreEachAwardedOnce) {
  constexpr int kRiders = 200;
  const std::vector<std::string> riders = ConfirmedWhileTheLedgerIsDown(kRiders);
  ASSERT_FALSE(HasFailure());
  // The relay keeps failing and backing off; the awards wait, pending.
  ASSERT_TRUE(testing::WaitFor(
      [&] { return env_.Sql("SELECT count(*) FROM awards WHERE attempts > 0") != "0"; },
      absl::Seconds(10)));
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM awards WHERE status = 1"), std::to_string(kRiders));
  // Riders see their points on the way.
  v1::ListAwardsRequest list;
  list.set_rider_id(riders[0]);
  v1::ListAwardsResponse pending;
  ASSERT_TRUE(env_.stub().ListAwards(env_.With(env_.west_staff).get(), list, &pending).ok());
  EXPECT_EQ(pending.pending_points(), 10);

  env_.StartLedger();
  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(30)));
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM awards WHERE status = 2"), std::to_string(kRiders));
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.entries"), kRiders);
  EXPECT_EQ(env_.ledger().Sql("SELECT count(DISTINCT person_id) FROM ledger.entries"), kRiders);
  EXPECT_EQ(env_.ledger().Sql("SELECT sum(available) FROM ledger.accounts"), 10 * kRiders);
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.accounts WHERE available <> 10"), 0);
}

// Activity's service token lives 4 s here (15 minutes in production) and is renewed every 2 s.
class IdentityOutageTest : public ActivityTestBase {
 protected:
  IdentityOutageTest()
      : ActivityTestBase({.token = {.call_timeout = absl::Milliseconds(500),
                                    .min_backoff = absl::Milliseconds(100),
                                    .max_backoff = absl::Milliseconds(400),
                                    .max_lifetime = absl::Seconds(4)}}) {}
};

TEST_F(IdentityOutageTest, AwardsWaitOutAnOutageLongerThanATokenWithoutAnyCallWaitingOnIdentity) {
  constexpr int kRiders = 20;
  const std::vector<std::string> riders = ConfirmedWhileTheLedgerIsDown(kRiders, /*points=*/10);
  ASSERT_FALSE(HasFailure());

  // Identity goes away for activity, for longer than its token lives; the ledger comes back.
  env_.identity_link().Cut();
  const absl::Time cut_at = absl::Now();
  absl::SleepFor(absl::Seconds(5));
  env_.StartLedger();
  const std::string attempts_before = env_.Sql("SELECT sum(attempts) FROM awards");
  // With no valid token the relay's calls fail at once and back off; the awards wait. Activity
  // answers at once too: a call that must ask identity (a staff member's view of a rider is
  // checked against the rider's community) is refused UNAVAILABLE, never held up.
  absl::Duration slowest;
  while (absl::Now() < cut_at + absl::Seconds(9)) {
    const absl::Time t0 = absl::Now();
    v1::ListAwardsRequest list;
    list.set_rider_id(riders[0]);
    v1::ListAwardsResponse pending;
    const grpc::Status s = env_.stub().ListAwards(env_.With(env_.west_staff).get(), list, &pending);
    slowest = std::max(slowest, absl::Now() - t0);
    EXPECT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::UNAVAILABLE) << s.error_message();
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_LT(slowest, absl::Milliseconds(500));
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM awards WHERE status = 1"), std::to_string(kRiders));
  EXPECT_NE(env_.Sql("SELECT sum(attempts) FROM awards"), attempts_before)
      << "the relay kept trying";
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.entries"), 0);

  // Identity returns: a token is had again and every award lands exactly once.
  env_.identity_link().Restore();
  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(30)));
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.entries"), kRiders);
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.accounts WHERE available <> 10"), 0);
  v1::ListAwardsRequest list;
  list.set_rider_id(riders[0]);
  v1::ListAwardsResponse after;
  EXPECT_TRUE(env_.stub().ListAwards(env_.With(env_.west_staff).get(), list, &after).ok());
}

// Paper records enter afterwards: an activity that took place within 30 days, with the riders on
// its sign-in sheet checked in; a street staff member other than the recorder confirms, and the
// points count on the day it took place. Bad records are refused whole.
TEST_F(ActivityTest, APastActivityFromPaperCountsOnceASecondStaffMemberConfirmsIt) {
  const auto [first, first_token] = env_.Rider(env_.west);
  const auto [second, second_token] = env_.Rider(env_.gongnong);
  v1::RecordPastActivityRequest req;
  *req.mutable_activity() = Draft(env_.west);
  req.mutable_activity()->set_title("中秋节居民自制月饼");
  req.mutable_activity()->clear_capacity();
  const absl::Time start = absl::Now() - absl::Hours(24 * 3);
  SetTime(req.mutable_activity()->mutable_start_time(), Us(start));
  SetTime(req.mutable_activity()->mutable_end_time(), Us(start + absl::Hours(2)));
  req.add_rider_ids(first);
  req.add_rider_ids(second);
  req.set_sign_in_sheet_ref("uploads/2026/12/mooncakes-sign-in.jpg");
  req.set_idempotency_key("paper-1");
  const std::string activities_before = env_.Sql("SELECT count(*) FROM activities");

  // Refused whole, naming what is wrong: too long ago, not over, nobody, a rider twice, someone
  // unknown, no sheet, fewer places than riders.
  const auto refused = [&](v1::RecordPastActivityRequest bad, const std::string& field,
                           grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT) {
    bad.set_idempotency_key(absl::StrCat("bad-", ++keys_));
    v1::RecordPastActivityResponse resp;
    grpc::Status s = env_.stub().RecordPastActivity(env_.With(env_.west_staff).get(), bad, &resp);
    EXPECT_EQ(s.error_code(), code) << field << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(field), std::string::npos) << s.error_message();
  };
  v1::RecordPastActivityRequest bad = req;
  SetTime(bad.mutable_activity()->mutable_start_time(), Us(absl::Now() - absl::Hours(24 * 31)));
  SetTime(bad.mutable_activity()->mutable_end_time(),
          Us(absl::Now() - absl::Hours(24 * 31) + absl::Hours(2)));
  refused(bad, "activity.start_time");
  bad = req;
  SetTime(bad.mutable_activity()->mutable_end_time(), Us(absl::Now() + absl::Hours(1)));
  refused(bad, "activity.end_time");
  bad = req;
  bad.clear_rider_ids();
  refused(bad, "rider_ids");
  bad = req;
  bad.add_rider_ids(first);
  refused(bad, "rider_ids");
  bad = req;
  bad.add_rider_ids("p_nobody");
  refused(bad, "p_nobody", grpc::StatusCode::NOT_FOUND);
  bad = req;
  bad.clear_sign_in_sheet_ref();
  refused(bad, "sign_in_sheet");
  bad = req;
  bad.mutable_activity()->set_capacity(1);
  refused(bad, "activity.capacity");
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM activities"), activities_before);

  v1::RecordPastActivityResponse recorded;
  grpc::Status s = env_.stub().RecordPastActivity(env_.With(env_.west_staff).get(), req, &recorded);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::Activity& a = recorded.activity();
  EXPECT_TRUE(a.recorded_afterwards());
  EXPECT_EQ(a.sign_in_sheet_ref(), "uploads/2026/12/mooncakes-sign-in.jpg");
  EXPECT_EQ(a.status(), v1::ACTIVITY_STATUS_ENDED);
  EXPECT_EQ(a.capacity(), 2);
  EXPECT_EQ(a.checked_in_count(), 2);
  ASSERT_EQ(recorded.enrolments_size(), 2);
  for (const v1::Enrolment& e : recorded.enrolments()) {
    EXPECT_EQ(e.status(), v1::ENROLMENT_STATUS_CHECKED_IN);
    EXPECT_EQ(e.check_in_method(), v1::CHECK_IN_METHOD_RECORDED_AFTERWARDS);
  }
  // The same request again is the same record.
  v1::RecordPastActivityResponse again;
  ASSERT_TRUE(env_.stub().RecordPastActivity(env_.With(env_.west_staff).get(), req, &again).ok());
  EXPECT_EQ(again.activity().activity_id(), a.activity_id());

  // Neither the recorder nor community staff confirm it; a street staff member does.
  v1::ConfirmAttendanceResponse confirmed;
  s = ConfirmAll(a.activity_id(), &confirmed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "NEEDS_SECOND_STAFF");
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM awards"), "0");
  v1::ConfirmAttendanceRequest confirm;
  confirm.set_activity_id(a.activity_id());
  confirm.set_all_checked_in(true);
  s = env_.stub().ConfirmAttendance(env_.With(env_.street_staff).get(), confirm, &confirmed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(confirmed.confirmed_size(), 2);
  // The points count on the day it took place.
  EXPECT_EQ(
      env_.Sql("SELECT count(*) FROM awards WHERE us(occur_at) = " + std::to_string(Us(start))),
      "2");
  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(10)));
  EXPECT_GT(Balance(first), 0);
  EXPECT_EQ(Balance(first), Balance(second));

  // A street staff member who recorded one does not confirm it either.
  req.set_idempotency_key("paper-2");
  req.mutable_activity()->set_organiser_org_id(env_.street);
  ASSERT_TRUE(
      env_.stub().RecordPastActivity(env_.With(env_.street_staff).get(), req, &recorded).ok());
  confirm.set_activity_id(recorded.activity().activity_id());
  s = env_.stub().ConfirmAttendance(env_.With(env_.street_staff).get(), confirm, &confirmed);
  EXPECT_EQ(ReasonOf(s), "NEEDS_SECOND_STAFF");
}

}  // namespace
}  // namespace civicpoints::activity
