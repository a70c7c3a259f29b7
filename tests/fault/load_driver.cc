#include "tests/fault/load_driver.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "common/status/grpc_status.h"
#include "tests/e2e/suite_client.h"

namespace civicpoints::fault {
namespace {

namespace gp = google::protobuf;
using gp::util::TimeUtil;

const std::string kIdentity = "/civicpoints.identity.v1.IdentityService/";
const std::string kActivity = "/civicpoints.activity.v1.ActivityService/";
const std::string kLedger = "/civicpoints.ledger.v1.LedgerService/";
const std::string kRewards = "/civicpoints.rewards.v1.RewardsService/";

// A rider station in 大同 and a phone 50 m from it.
constexpr double kLat = 40.0937, kLon = 113.2956, kNearLat = 40.0941;

// Each attempt's deadline: a frozen service costs a caller this long, then it retries.
constexpr absl::Duration kAttemptDeadline = absl::Seconds(5);
// How long a mutation is retried through a fault before the driver gives up on it.
constexpr absl::Duration kRetryBudget = absl::Seconds(30);

// Faults show as these; RESOURCE_EXHAUSTED is not among them: the rounds raise the gateway's rate
// limits out of reach, so it means a business limit (a rider's daily submissions, a full
// activity), which waiting half a minute does not lift.
bool Transient(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::CANCELLED:
      return true;
    default:
      return false;
  }
}

enum class Outcome { kOk, kRefused, kGaveUp };

}  // namespace

// One flow's way of calling: retries through faults with the same request, signs the person in
// again when their token was refused, and counts what happened.
class LoadDriver::Session {
 public:
  Session(LoadDriver* driver) : driver_(driver) {}

  Outcome Call(const std::string& path, Person* who, const gp::Message& request,
               gp::Message* response, grpc::Status* last = nullptr) {
    const absl::Time give_up = absl::Now() + kRetryBudget;
    int relogins = 0;
    for (int attempt = 0;; ++attempt) {
      response->Clear();
      const grpc::Status s =
          e2e::CallMethod(driver_->channel_, path, Token(who), request, response, kAttemptDeadline);
      if (last != nullptr) *last = s;
      if (s.ok()) {
        Count(&CallCounts::ok);
        return Outcome::kOk;
      }
      const bool relogin = s.error_code() == grpc::StatusCode::UNAUTHENTICATED && who != nullptr &&
                           relogins++ < 3 && Relogin(who);
      if (!relogin && !Transient(s.error_code())) {
        Count(&CallCounts::refused, &CallCounts::refusals, path, s);
        return Outcome::kRefused;
      }
      if (absl::Now() >= give_up) {
        Count(&CallCounts::given_up, &CallCounts::give_ups, path, s);
        return Outcome::kGaveUp;
      }
      Count(&CallCounts::retried);
      absl::SleepFor(absl::Milliseconds(std::min(1000, 100 * (attempt + 1))));
    }
  }

 private:
  std::string Token(const Person* who) {
    if (who == nullptr) return "";
    absl::MutexLock lock(&driver_->tokens_mu_);
    return who->token;
  }

  bool Relogin(Person* who) {
    identity::v1::LoginRequest req;
    req.set_phone(who->phone);
    req.set_password(who->password);
    identity::v1::LoginResponse resp;
    const grpc::Status s =
        e2e::CallMethod(driver_->channel_, kIdentity + "Login", "", req, &resp, kAttemptDeadline);
    if (!s.ok()) return false;
    absl::MutexLock lock(&driver_->tokens_mu_);
    who->token = resp.tokens().access_token();
    return true;
  }

  void Count(int64_t CallCounts::*field) {
    absl::MutexLock lock(&driver_->mu_);
    ++(driver_->counts_.*field);
  }
  void Count(int64_t CallCounts::*field, std::map<std::string, int64_t> CallCounts::*by_kind,
             const std::string& path, const grpc::Status& s) {
    absl::MutexLock lock(&driver_->mu_);
    ++(driver_->counts_.*field);
    ++(driver_->counts_.*
       by_kind)[absl::StrCat(path.substr(path.rfind('/') + 1), " ", GrpcCodeName(s.error_code()))];
  }

  LoadDriver* driver_;
};

std::string LoadDriver::LogAdminInAgain() const {
  identity::v1::LoginRequest req;
  req.set_phone(options_.admin_phone);
  req.set_password(options_.admin_password);
  identity::v1::LoginResponse resp;
  const grpc::Status s =
      e2e::CallMethod(channel_, kIdentity + "Login", "", req, &resp, kAttemptDeadline);
  return s.ok() ? resp.tokens().access_token() : std::string();
}

LoadDriver::LoadDriver(LoadOptions options)
    : options_(std::move(options)),
      channel_(grpc::CreateChannel(options_.gateway_addr, grpc::InsecureChannelCredentials())) {
  tag_ = absl::StrCat("f", absl::ToUnixSeconds(absl::Now()) % 100000000);
}

LoadDriver::~LoadDriver() { Stop(); }

namespace {

// Setup's calls: retried like the flows', but any failure stops the setup with its reason.
#define SETUP_CALL(session, path, who, req, resp)                             \
  do {                                                                        \
    grpc::Status last_status;                                                 \
    if ((session).Call(path, who, req, resp, &last_status) != Outcome::kOk) { \
      return absl::InternalError(                                             \
          absl::StrCat("setup: ", path, ": ", last_status.error_message()));  \
    }                                                                         \
  } while (false)

}  // namespace

absl::Status LoadDriver::Setup() {
  Session session(this);
  // Phone numbers of this run: 159 + digits from the clock, so reruns do not collide.
  phone_serial_ = (absl::ToUnixSeconds(absl::Now()) % 10000) * 10000;

  Person admin{.phone = options_.admin_phone, .password = options_.admin_password};
  {
    identity::v1::LoginRequest req;
    req.set_phone(admin.phone);
    req.set_password(admin.password);
    identity::v1::LoginResponse resp;
    SETUP_CALL(session, kIdentity + "Login", nullptr, req, &resp);
    admin.token = admin_token_ = resp.tokens().access_token();
  }
  auto make_org = [&](const std::string& parent, common::v1::OrgLevel level,
                      const std::string& code, std::string* id) -> absl::Status {
    identity::v1::CreateOrgNodeRequest req;
    req.set_parent_id(parent);
    req.set_level(level);
    req.set_code(absl::StrCat(tag_, code));
    req.set_name(absl::StrCat("故障演练", code, "·", tag_));
    identity::v1::CreateOrgNodeResponse resp;
    SETUP_CALL(session, kIdentity + "CreateOrgNode", &admin, req, &resp);
    *id = resp.node().org_id();
    return absl::OkStatus();
  };
  std::string district;
  if (absl::Status s = make_org("root", common::v1::ORG_LEVEL_DISTRICT, "d", &district); !s.ok()) {
    return s;
  }
  if (absl::Status s = make_org(district, common::v1::ORG_LEVEL_STREET, "s", &street_); !s.ok()) {
    return s;
  }
  if (absl::Status s = make_org(street_, common::v1::ORG_LEVEL_COMMUNITY, "c", &community_);
      !s.ok()) {
    return s;
  }

  auto make_staff = [&](const std::string& name, common::v1::Role role, const std::string& org,
                        Person* out) -> absl::Status {
    out->phone = NextPhone();
    e2e::StaffMember m = e2e::MakeStaff(
        [&](const std::string& method, const std::string& token, const gp::Message& req,
            gp::Message* resp) {
          // MakeStaff names methods "pkg.Service.Method"; calls take "/pkg.Service/Method".
          const size_t dot = method.rfind('.');
          return e2e::CallMethod(
              channel_, absl::StrCat("/", method.substr(0, dot), "/", method.substr(dot + 1)),
              token, req, resp, absl::Seconds(20));
        },
        admin_token_, out->phone, name, role, org, absl::StrCat(tag_, "-"));
    if (m.token.empty()) return absl::InternalError(absl::StrCat("setup: staff ", name));
    out->id = m.person_id;
    out->token = m.token;
    // MakeStaff's password after the first-login change (tests/e2e/suite_client.cc): what a
    // refused token's owner signs in again with.
    out->password = e2e::kStaffPassword;
    return absl::OkStatus();
  };
  if (absl::Status s =
          make_staff("社区社工", common::v1::ROLE_COMMUNITY_STAFF, community_, &staff_);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          make_staff("街道干部", common::v1::ROLE_STREET_STAFF, street_, &street_staff_);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          make_staff("驿站站长", common::v1::ROLE_STATION_KEEPER, community_, &keeper_);
      !s.ok()) {
    return s;
  }

  // Caps high enough that every verified record earns points during the run.
  {
    activity::v1::UpdatePointsRulesRequest req;
    req.set_org_id(community_);
    req.mutable_rules()->set_org_id(community_);
    req.mutable_rules()->set_daily_cap_points(10000);
    req.mutable_rules()->set_daily_cap_service_records(100);
    activity::v1::UpdatePointsRulesResponse resp;
    SETUP_CALL(session, kActivity + "UpdatePointsRules", &street_staff_, req, &resp);
  }
  {
    activity::v1::CreatePlaceRequest req;
    activity::v1::Place* p = req.mutable_place();
    p->set_kind(activity::v1::PLACE_KIND_RIDER_STATION);
    p->set_name("故障演练驿站");
    p->set_address("大同市平城区清远西街12号");
    p->mutable_location()->set_latitude(kLat);
    p->mutable_location()->set_longitude(kLon);
    p->set_community_id(community_);
    p->mutable_opening_hours()->set_always_open(true);
    p->set_keeper_person_id(keeper_.id);
    req.set_idempotency_key(absl::StrCat(tag_, "-station"));
    activity::v1::CreatePlaceResponse resp;
    SETUP_CALL(session, kActivity + "CreatePlace", &staff_, req, &resp);
    station_ = resp.place().place_id();
  }
  std::string code;
  {
    identity::v1::GetCheckInCodeRequest req;
    req.set_org_id(community_);
    identity::v1::GetCheckInCodeResponse resp;
    SETUP_CALL(session, kIdentity + "GetCheckInCode", &keeper_, req, &resp);
    code = resp.code().code();
  }
  community_code_ = code;
  identity::v1::GetPrivacyPolicyResponse policy;
  SETUP_CALL(session, kIdentity + "GetPrivacyPolicy", nullptr,
             identity::v1::GetPrivacyPolicyRequest(), &policy);
  policy_version_ = policy.policy_version();
  for (const auto& purpose : policy.purposes()) consent_purposes_.push_back(purpose.purpose());
  for (int i = 0; i < options_.riders; ++i) {
    if (RegisterRider(session, absl::StrCat("setup-", i)) == nullptr) {
      return absl::InternalError("setup: a rider could not register");
    }
  }

  for (int cost : {3, 5}) {
    rewards::v1::CreateGiftRequest req;
    req.set_name(absl::StrCat("演练礼品", cost));
    req.set_category(rewards::v1::GIFT_CATEGORY_DAILY_NECESSITIES);
    req.set_points_cost(cost);
    req.set_owner_org_id(street_);
    req.set_idempotency_key(absl::StrCat(tag_, "-gift-", cost));
    rewards::v1::CreateGiftResponse resp;
    SETUP_CALL(session, kRewards + "CreateGift", &street_staff_, req, &resp);
    gifts_.push_back(resp.gift().gift_id());
    rewards::v1::AddStationStockRequest stock;
    stock.set_station_id(station_);
    stock.set_gift_id(resp.gift().gift_id());
    stock.set_quantity(options_.gift_stock);
    stock.set_reason("演练备货");
    stock.set_idempotency_key(absl::StrCat(tag_, "-stock-", cost));
    rewards::v1::AddStationStockResponse stocked;
    SETUP_CALL(session, kRewards + "AddStationStock", &street_staff_, stock, &stocked);
  }
  {
    rewards::v1::CreateExchangeWindowRequest req;
    rewards::v1::ExchangeWindow* w = req.mutable_window();
    w->set_title("故障演练兑换日");
    w->set_owner_org_id(street_);
    w->add_station_ids(station_);
    *w->mutable_start_time() = TimeUtil::GetCurrentTime() + TimeUtil::MinutesToDuration(1);
    *w->mutable_end_time() = TimeUtil::GetCurrentTime() + TimeUtil::HoursToDuration(8);
    for (const std::string& g : gifts_) {
      rewards::v1::WindowGift* wg = w->add_gifts();
      wg->set_gift_id(g);
      wg->set_max_per_rider(100);
    }
    req.set_idempotency_key(absl::StrCat(tag_, "-window"));
    rewards::v1::CreateExchangeWindowResponse resp;
    SETUP_CALL(session, kRewards + "CreateExchangeWindow", &street_staff_, req, &resp);
    window_ = resp.window().window_id();
    rewards::v1::OpenExchangeWindowRequest open;
    open.set_window_id(window_);
    rewards::v1::OpenExchangeWindowResponse opened;
    SETUP_CALL(session, kRewards + "OpenExchangeWindow", &street_staff_, open, &opened);
  }
  return absl::OkStatus();
}

std::string LoadDriver::NextPhone() {
  return absl::StrCat("159", absl::Dec(phone_serial_++, absl::kZeroPad8));
}

LoadDriver::Person* LoadDriver::RegisterRider(Session& session, const std::string& key) {
  Person rider{.phone = NextPhone(), .password = "Rider-pass-2026"};
  identity::v1::RegisterRiderRequest req;
  req.set_idempotency_key(absl::StrCat(tag_, "-register-", key));
  req.set_phone(rider.phone);
  req.set_password(rider.password);
  req.set_display_name(absl::StrCat("骑手", key));
  req.set_check_in_code(community_code_);
  req.mutable_consent()->set_policy_version(policy_version_);
  for (int purpose : consent_purposes_) {
    req.mutable_consent()->add_purposes(static_cast<identity::v1::ConsentPurpose>(purpose));
  }
  identity::v1::RegisterRiderResponse resp;
  if (session.Call(kIdentity + "RegisterRider", nullptr, req, &resp) != Outcome::kOk) {
    return nullptr;
  }
  rider.id = resp.person().person_id();
  rider.token = resp.tokens().access_token();
  absl::MutexLock lock(&riders_mu_);
  riders_.push_back(std::move(rider));
  return &riders_.back();
}

LoadDriver::Person& LoadDriver::PickRider(std::mt19937_64& rng) {
  absl::MutexLock lock(&riders_mu_);
  return riders_[rng() % riders_.size()];
}

void LoadDriver::Start() {
  stopping_ = false;
  for (int w = 0; w < 2; ++w) threads_.emplace_back([this, w] { RecordsFlow(w); });
  for (int w = 0; w < 2; ++w) threads_.emplace_back([this, w] { RedemptionsFlow(w); });
  threads_.emplace_back([this] { ActivitiesFlow(0); });
  threads_.emplace_back([this] { ReadsFlow(0); });
}

void LoadDriver::Stop() {
  stopping_ = true;
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

Acknowledged LoadDriver::acknowledged() const {
  absl::MutexLock lock(&mu_);
  return acked_;
}

CallCounts LoadDriver::counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

void LoadDriver::RecordsFlow(int worker) {
  Session session(this);
  std::mt19937_64 rng(options_.seed * 101 + worker);
  Person* submitter = &PickRider(rng);
  for (int64_t n = 0; !stopping_; ++n) {
    Person& rider = *submitter;
    activity::v1::SubmitServiceRecordRequest submit;
    activity::v1::ServiceRecord* r = submit.mutable_service_record();
    r->set_kind(activity::v1::SERVICE_RECORD_KIND_ROAD_OCCUPATION);
    r->set_description("菜市场门口占道经营，影响通行");
    r->mutable_location()->set_latitude(kLat);
    r->mutable_location()->set_longitude(kLon);
    r->set_address("清远西街12号");
    r->set_community_id(community_);
    submit.set_idempotency_key(absl::StrCat(tag_, "-record-", worker, "-", n));
    activity::v1::SubmitServiceRecordResponse submitted;
    grpc::Status status;
    const Outcome outcome =
        session.Call(kActivity + "SubmitServiceRecord", &rider, submit, &submitted, &status);
    if (outcome == Outcome::kRefused &&
        status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      // This rider's 20 records of the day are in: a new rider takes over.
      Person* joined = RegisterRider(session, absl::StrCat("w", worker, "-", n));
      submitter = joined != nullptr ? joined : &PickRider(rng);
    }
    if (outcome != Outcome::kOk) continue;
    if (rng() % 4 == 0) submitter = &PickRider(rng);
    // Paced, so records do not crowd out the other flows or need a new rider every second.
    absl::SleepFor(absl::Milliseconds(100));
    activity::v1::VerifyServiceRecordRequest verify;
    verify.set_service_record_id(submitted.service_record().service_record_id());
    verify.set_note("已核实");
    activity::v1::VerifyServiceRecordResponse verified;
    if (session.Call(kActivity + "VerifyServiceRecord", &staff_, verify, &verified) ==
        Outcome::kOk) {
      absl::MutexLock lock(&mu_);
      acked_.verified_records.push_back(verify.service_record_id());
    }
  }
}

void LoadDriver::RedemptionsFlow(int worker) {
  Session session(this);
  std::mt19937_64 rng(options_.seed * 211 + worker);
  for (int64_t n = 0; !stopping_; ++n) {
    Person& rider = PickRider(rng);
    rewards::v1::CreateRedemptionRequest req;
    req.set_window_id(window_);
    req.set_station_id(station_);
    req.set_gift_id(gifts_[rng() % gifts_.size()]);
    req.set_quantity(1);
    req.set_idempotency_key(absl::StrCat(tag_, "-redeem-", worker, "-", n));
    if (worker == 0 && n % 40 == 39) Restock(session, n);
    rewards::v1::CreateRedemptionResponse created;
    if (session.Call(kRewards + "CreateRedemption", &rider, req, &created) != Outcome::kOk) {
      // Sold out or too few points: wait for more awards rather than spin.
      absl::SleepFor(absl::Milliseconds(200));
      continue;
    }
    const rewards::v1::Redemption& order = created.redemption();
    const bool ready = order.state() == rewards::v1::REDEMPTION_STATE_READY;
    {
      absl::MutexLock lock(&mu_);
      acked_.redemptions[order.redemption_id()] = ready ? "READY" : "PENDING";
    }
    if (!ready) continue;
    const uint64_t choice = rng() % 10;
    if (choice < 4) {
      rewards::v1::FulfilRedemptionRequest fulfil;
      fulfil.set_station_id(station_);
      fulfil.set_pickup_code(order.pickup_code());
      fulfil.set_idempotency_key(absl::StrCat(tag_, "-fulfil-", worker, "-", n));
      rewards::v1::FulfilRedemptionResponse fulfilled;
      if (session.Call(kRewards + "FulfilRedemption", &keeper_, fulfil, &fulfilled) ==
          Outcome::kOk) {
        absl::MutexLock lock(&mu_);
        acked_.redemptions[order.redemption_id()] = "FULFILLED";
      }
    } else if (choice < 7) {
      rewards::v1::CancelRedemptionRequest cancel;
      cancel.set_redemption_id(order.redemption_id());
      cancel.set_reason("今天去不了驿站");
      rewards::v1::CancelRedemptionResponse cancelled;
      if (session.Call(kRewards + "CancelRedemption", &rider, cancel, &cancelled) == Outcome::kOk) {
        absl::MutexLock lock(&mu_);
        acked_.redemptions[order.redemption_id()] = "CANCELLED";
      }
    }
  }
}

// Stock added while orders take it: the gifts sell out and come back, so the stock books see
// every kind of movement under faults.
void LoadDriver::Restock(Session& session, int64_t n) {
  for (size_t g = 0; g < gifts_.size(); ++g) {
    rewards::v1::AddStationStockRequest stock;
    stock.set_station_id(station_);
    stock.set_gift_id(gifts_[g]);
    stock.set_quantity(10);
    stock.set_reason("演练补货");
    stock.set_idempotency_key(absl::StrCat(tag_, "-restock-", n, "-", g));
    rewards::v1::AddStationStockResponse stocked;
    session.Call(kRewards + "AddStationStock", &street_staff_, stock, &stocked);
  }
}

void LoadDriver::ActivitiesFlow(int worker) {
  Session session(this);
  std::mt19937_64 rng(options_.seed * 307 + worker);
  for (int64_t n = 0; !stopping_; ++n) {
    activity::v1::CreateActivityRequest create;
    activity::v1::Activity* a = create.mutable_activity();
    a->set_title(absl::StrCat("演练活动", n));
    a->set_category(activity::v1::ACTIVITY_CATEGORY_ENVIRONMENTAL_CLEANUP);
    a->set_place_id(station_);
    a->set_organiser_org_id(community_);
    // The suite runs with a short minimum lead (CP_ACTIVITY_MIN_START_LEAD).
    const gp::Timestamp start = TimeUtil::GetCurrentTime() + TimeUtil::SecondsToDuration(4);
    *a->mutable_start_time() = start;
    *a->mutable_end_time() = start + TimeUtil::HoursToDuration(1);
    a->set_capacity(50);
    create.set_idempotency_key(absl::StrCat(tag_, "-activity-", worker, "-", n));
    activity::v1::CreateActivityResponse created;
    if (session.Call(kActivity + "CreateActivity", &staff_, create, &created) != Outcome::kOk) {
      continue;
    }
    const std::string activity_id = created.activity().activity_id();
    activity::v1::GetCheckInCodeRequest code_req;
    code_req.set_activity_id(activity_id);
    activity::v1::GetCheckInCodeResponse code;
    if (session.Call(kActivity + "GetCheckInCode", &staff_, code_req, &code) != Outcome::kOk) {
      continue;
    }
    activity::v1::ConfirmAttendanceRequest confirm;
    confirm.set_activity_id(activity_id);
    for (int i = 0; i < 4; ++i) {
      Person& rider = PickRider(rng);
      activity::v1::EnrolInActivityRequest enrol;
      enrol.set_activity_id(activity_id);
      enrol.set_idempotency_key(absl::StrCat(tag_, "-enrol-", n, "-", rider.id));
      activity::v1::EnrolInActivityResponse enrolled;
      if (session.Call(kActivity + "EnrolInActivity", &rider, enrol, &enrolled) != Outcome::kOk) {
        continue;
      }
      activity::v1::CheckInToActivityRequest check_in;
      check_in.set_activity_id(activity_id);
      check_in.set_code(code.code());
      check_in.mutable_location()->set_latitude(kNearLat);
      check_in.mutable_location()->set_longitude(kLon);
      check_in.set_location_accuracy_meters(10);
      check_in.set_idempotency_key(absl::StrCat(tag_, "-checkin-", n, "-", rider.id));
      activity::v1::CheckInToActivityResponse checked_in;
      if (session.Call(kActivity + "CheckInToActivity", &rider, check_in, &checked_in) ==
          Outcome::kOk) {
        bool named = false;
        for (const std::string& id : confirm.rider_ids()) named |= id == rider.id;
        if (!named) confirm.add_rider_ids(rider.id);
      }
    }
    if (confirm.rider_ids().empty()) continue;
    while (TimeUtil::GetCurrentTime() < start + TimeUtil::MillisecondsToDuration(200)) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    activity::v1::ConfirmAttendanceResponse confirmed;
    if (session.Call(kActivity + "ConfirmAttendance", &staff_, confirm, &confirmed) ==
        Outcome::kOk) {
      absl::MutexLock lock(&mu_);
      for (const auto& e : confirmed.confirmed()) {
        acked_.confirmed_attendance.emplace_back(activity_id, e.rider_id());
      }
      for (const std::string& id : confirmed.already_confirmed_rider_ids()) {
        acked_.confirmed_attendance.emplace_back(activity_id, id);
      }
    }
  }
}

void LoadDriver::ReadsFlow(int worker) {
  Session session(this);
  std::mt19937_64 rng(options_.seed * 401 + worker);
  while (!stopping_) {
    ledger::v1::GetTopRankingRequest top;
    top.mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
    top.mutable_scope()->set_org_id(street_);
    top.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
    top.set_top_n(20);
    ledger::v1::GetTopRankingResponse ranking;
    session.Call(kLedger + "GetTopRanking", &street_staff_, top, &ranking);
    Person& rider = PickRider(rng);
    ledger::v1::GetBalanceRequest balance;
    balance.set_person_id(rider.id);
    ledger::v1::GetBalanceResponse account;
    session.Call(kLedger + "GetBalance", &rider, balance, &account);
    absl::SleepFor(absl::Milliseconds(50));
  }
}

}  // namespace civicpoints::fault
