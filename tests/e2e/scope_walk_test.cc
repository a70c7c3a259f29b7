// Every RPC of the five contracts, read from the linked descriptors, called through the gateway by
// staff of another street, a district admin of another district and that district's city system
// (an API key with every scope), each request naming the things of one street (its community,
// rider, station, activity, post, gift, window, entry): no call may succeed except the reads the
// contracts make public to every signed-in caller, the methods that name org-scoped things with a
// well-formed request must answer PERMISSION_DENIED or NOT_FOUND, and no table of any service
// gains a row.
//
// Every PERMISSION_DENIED a handler answers (past the method's declared policy, which the gateway
// and the services' authorizer check alike) carries a google.rpc.ErrorInfo in the service's domain
// whose reason is a value of the service's error-reason enum (docs/api-conventions.md).
//
// Requests are filled from field names (person_id → the rider, scope → the community, ...), so a
// method whose request needs more than names may answer INVALID_ARGUMENT: that writes nothing and
// tells nothing, and the summary line lists those methods. Runs against the cp_suite fixture.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "civicpoints/activity/v1/activity_service.pb.h"
#include "civicpoints/activity/v1/errors.pb.h"
#include "civicpoints/events/v1/errors.pb.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "civicpoints/insights/v1/errors.pb.h"
#include "civicpoints/ledger/v1/errors.pb.h"
#include "civicpoints/ledger/v1/ledger_service.pb.h"
#include "civicpoints/options/v1/options.pb.h"
#include "civicpoints/rewards/v1/errors.pb.h"
#include "civicpoints/rewards/v1/rewards_service.pb.h"
#include "common/auth/suite_services.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/e2e/suite_client.h"

namespace civicpoints::e2e {
namespace {

namespace gp = google::protobuf;
using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;
using gp::util::TimeUtil;

// "" when a PERMISSION_DENIED `status` of `service` keeps the error contract, else what is wrong.
// Refusals by the method's declared policy come before any handler and name the method path.
std::string ErrorContractBreach(const gp::ServiceDescriptor& service, const grpc::Status& status) {
  const std::string& message = status.error_message();
  if (absl::StartsWith(message, "civicpoints.") || absl::StartsWith(message, "/civicpoints.") ||
      absl::StartsWith(message, "method ")) {
    return "";
  }
  const std::string package = service.file()->package();  // civicpoints.<service>.v1
  const std::vector<std::string> parts = absl::StrSplit(package, '.');
  const std::string domain = absl::StrCat(parts[1], ".civicpoints");
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "details do not parse";
  for (const auto& detail : details.details()) {
    google::rpc::ErrorInfo info;
    if (!detail.UnpackTo(&info)) continue;
    if (info.domain() != domain) return absl::StrCat("domain ", info.domain(), ", not ", domain);
    // The service's error-reason enum, named here so its descriptor is linked in.
    const std::map<std::string, const gp::EnumDescriptor*> kReasonEnums = {
        {"identity", identity::v1::IdentityErrorReason_descriptor()},
        {"activity", activity::v1::ActivityErrorReason_descriptor()},
        {"ledger", ledger::v1::LedgerErrorReason_descriptor()},
        {"rewards", rewards::v1::ErrorReason_descriptor()},
        {"events", events::v1::EventsErrorReason_descriptor()},
        {"insights", insights::v1::InsightsErrorReason_descriptor()}};
    const gp::EnumDescriptor& reasons = *kReasonEnums.at(parts[1]);
    for (int i = 0; i < reasons.value_count(); ++i) {
      if (absl::EndsWith(reasons.value(i)->name(), absl::StrCat("_REASON_", info.reason()))) {
        return "";
      }
    }
    return absl::StrCat("reason ", info.reason(), " is not a value of ", reasons.name());
  }
  return "no ErrorInfo";
}

// Reads every signed-in caller may make of anything (the contracts say so: org tree, public
// places and activities, the catalog and exchange windows, ranking boards), and calls about the
// caller itself. Any other method answering OK to an outsider is a hole.
const std::set<std::string> kOpenToEveryone = {
    // identity: the org tree is public to signed-in callers; the rest are the caller's own.
    "IdentityService.GetOrgNode", "IdentityService.LookupOrgNode",
    "IdentityService.BatchGetOrgNodes", "IdentityService.ListOrgChildren",
    "IdentityService.ResolveOrgPath", "IdentityService.GetPrivacyPolicy", "IdentityService.WhoAmI",
    "IdentityService.ListPublicKeys", "IdentityService.GetJwks", "IdentityService.ListRevocations",
    "IdentityService.LogoutEverywhere", "IdentityService.ListMyCheckIns",
    // events: a caller's webhooks are its own (another's answer as absent).
    "EventService.ListWebhooks",
    // activity: places, posts and activities are browsed by riders city-wide.
    "ActivityService.GetPlace", "ActivityService.SearchNearbyPlaces",
    "ActivityService.ListPostKinds", "ActivityService.ResolveEffectivePointsRules",
    "ActivityService.GetActivity", "ActivityService.ListActivities", "ActivityService.GetPost",
    "ActivityService.ListPosts", "ActivityService.ListPlaces",
    // ledger: the ranking boards, seasons and frozen snapshots are the public leaderboard.
    "LedgerService.GetTopRanking", "LedgerService.GetRankingSnapshot", "LedgerService.GetSeason",
    "LedgerService.ListSeasons",
    // rewards: the catalog, stock and windows are what riders shop from.
    "RewardsService.GetGift", "RewardsService.ListGifts", "RewardsService.ListGiftAvailability",
    "RewardsService.ListStationStock", "RewardsService.GetExchangeWindow",
    "RewardsService.ListExchangeWindows",
    // app: the labels of the contracts' enums are the same for everyone.
    "AppService.ListLabels"};

// Methods whose filled request is well formed and names an org-scoped thing of the street: an
// outsider must be told PERMISSION_DENIED or NOT_FOUND, nothing vaguer.
const std::set<std::string> kMustRefuseByScope = {"LedgerService.GetBalance",
                                                  "LedgerService.ListEntries",
                                                  "LedgerService.GetEntry",
                                                  "LedgerService.GetPeriodTotals",
                                                  "LedgerService.GetRank",
                                                  "LedgerService.GetRankingNeighbours",
                                                  "LedgerService.ExcludeFromRankings",
                                                  "LedgerService.RestoreToRankings",
                                                  "LedgerService.ListRankingExclusions",
                                                  "LedgerService.CreateSeason",
                                                  "LedgerService.SnapshotRanking",
                                                  "LedgerService.GetOrgStatistics",
                                                  "LedgerService.Deduct",
                                                  "LedgerService.Reverse",
                                                  "RewardsService.AddStationStock",
                                                  "RewardsService.ListStockMovements",
                                                  "RewardsService.OpenExchangeWindow",
                                                  "RewardsService.CloseExchangeWindow",
                                                  "EventService.ListEvents",
                                                  "ActivityService.GetProblemCase",
                                                  "ActivityService.ListProblemCases",
                                                  "InsightsService.GetOrgOverview"};

// "IdentityService.GetOrgNode" from the method's descriptor.
std::string ShortName(const gp::MethodDescriptor& m) {
  return absl::StrCat(m.service()->name(), ".", m.name());
}

class ScopeWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string addr = SuiteSetting("CP_SUITE_GATEWAY_ADDR");
    ASSERT_FALSE(addr.empty()) << "run under ctest (fixture cp_suite sets CP_SUITE_*)";
    channel_ = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
    const RunNames names = NamesOfThisRun("walk", 3);
    run_ = names.tag;
    phone_base_ = names.phone_base;
  }

  // Any method by its descriptor, with `token` as the bearer token unless empty.
  grpc::Status Call(const gp::MethodDescriptor& method, const std::string& token,
                    const gp::Message& req, gp::Message* resp) {
    return CallMethod(channel_,
                      absl::StrCat("/", method.service()->full_name(), "/", method.name()), token,
                      req, resp);
  }

  template <typename Resp, typename Req>
  Resp Ok(const std::string& service, const std::string& method, const std::string& token,
          const Req& req) {
    const gp::MethodDescriptor* m =
        gp::DescriptorPool::generated_pool()->FindMethodByName(service + "." + method);
    Resp resp;
    if (m == nullptr) {
      ADD_FAILURE() << "no method " << service << "." << method;
      return resp;
    }
    grpc::Status s = Call(*m, token, req, &resp);
    EXPECT_TRUE(s.ok()) << method << ": " << s.error_code() << " " << s.error_message();
    return resp;
  }
  template <typename Resp, typename Req>
  Resp Identity(const std::string& method, const std::string& token, const Req& req) {
    return Ok<Resp>("civicpoints.identity.v1.IdentityService", method, token, req);
  }
  template <typename Resp, typename Req>
  Resp Activity(const std::string& method, const std::string& token, const Req& req) {
    return Ok<Resp>("civicpoints.activity.v1.ActivityService", method, token, req);
  }
  template <typename Resp, typename Req>
  Resp Ledger(const std::string& method, const std::string& token, const Req& req) {
    return Ok<Resp>("civicpoints.ledger.v1.LedgerService", method, token, req);
  }
  template <typename Resp, typename Req>
  Resp Rewards(const std::string& method, const std::string& token, const Req& req) {
    return Ok<Resp>("civicpoints.rewards.v1.RewardsService", method, token, req);
  }

  std::string Key(const std::string& what) { return absl::StrCat(run_, "-", what); }
  std::string Phone() {
    return absl::StrCat("157", absl::Dec(phone_base_ + phones_++, absl::kZeroPad8));
  }

  std::string Login(const std::string& phone, const std::string& password) {
    identity::v1::LoginRequest req;
    req.set_phone(phone);
    req.set_password(password);
    return Identity<identity::v1::LoginResponse>("Login", "", req).tokens().access_token();
  }

  identity::v1::OrgNode MakeOrg(const std::string& parent, common::v1::OrgLevel level,
                                const std::string& code) {
    identity::v1::CreateOrgNodeRequest req;
    req.set_parent_id(parent);
    req.set_level(level);
    req.set_code(Key(code));
    req.set_name(absl::StrCat(code, "·", run_));
    return Identity<identity::v1::CreateOrgNodeResponse>("CreateOrgNode", admin_, req).node();
  }

  StaffMember MakeStaff(const std::string& name, common::v1::Role role, const std::string& org) {
    return e2e::MakeStaff(
        [&](const std::string& m, const std::string& token, const gp::Message& req,
            gp::Message* resp) {
          std::string path = "/" + m;
          path[path.rfind('.')] = '/';
          return CallMethod(channel_, path, token, req, resp);
        },
        admin_, Phone(), name, role, org, Key(""));
  }

  // Rows per table of every service's schema, for "nothing was written". Login throttles are
  // left out: counting failed attempts is their job.
  std::map<std::string, int64_t> RowCounts() {
    std::map<std::string, int64_t> counts;
    pqxx::connection c(SuiteSetting("CP_SUITE_PG_URL"));
    pqxx::work tx(c);
    for (const auto& row :
         tx.exec("SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE "
                 "table_schema IN ('identity', 'activity', 'ledger', 'rewards') AND table_type = "
                 "'BASE TABLE' AND table_name NOT LIKE '%throttle%' AND table_name NOT LIKE "
                 "'%migrations%'")) {
      const std::string table = row[0].as<std::string>();
      counts[table] = tx.exec1("SELECT count(*) FROM " + table)[0].as<int64_t>();
    }
    return counts;
  }

  // Fills the fields of `msg` that name things, from `names` (by field name); nested messages
  // are filled the same way, two levels deep.
  void Fill(gp::Message* msg, int depth = 0) {
    const gp::Descriptor* d = msg->GetDescriptor();
    const gp::Reflection* r = msg->GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const gp::FieldDescriptor* f = d->field(i);
      if (f->type() == gp::FieldDescriptor::TYPE_STRING) {
        auto it = names_.find(f->name());
        if (it == names_.end()) continue;
        if (f->is_repeated()) {
          r->AddString(msg, f, it->second);
        } else {
          r->SetString(
              msg, f,
              f->name() == "idempotency_key" ? Key(absl::StrCat("k", keys_++)) : it->second);
        }
      } else if (f->type() == gp::FieldDescriptor::TYPE_MESSAGE && !f->is_repeated() && depth < 2) {
        const std::string type = f->message_type()->full_name();
        if (type == "civicpoints.common.v1.OrgScope") {
          auto* scope = static_cast<common::v1::OrgScope*>(r->MutableMessage(msg, f));
          scope->set_level(ORG_LEVEL_COMMUNITY);
          scope->set_org_id(community_.org_id());
        } else if (type == "civicpoints.common.v1.OrgPath") {
          r->MutableMessage(msg, f)->CopyFrom(community_.path());
        } else if (type == "civicpoints.common.v1.RankingPeriod") {
          static_cast<common::v1::RankingPeriod*>(r->MutableMessage(msg, f))
              ->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
        } else if (type == "google.protobuf.Timestamp") {
          *static_cast<gp::Timestamp*>(r->MutableMessage(msg, f)) =
              TimeUtil::GetCurrentTime() +
              TimeUtil::HoursToDuration(f->name().find("end") != std::string::npos ? 48 : 24);
        } else if (absl::StartsWith(type, "civicpoints.")) {
          Fill(r->MutableMessage(msg, f), depth + 1);
        }
      } else if (f->cpp_type() == gp::FieldDescriptor::CPPTYPE_INT32 && !f->is_repeated() &&
                 (f->name() == "top_n" || f->name() == "quantity" || f->name() == "amount" ||
                  f->name() == "delta")) {
        r->SetInt32(msg, f, 1);
      } else if (f->cpp_type() == gp::FieldDescriptor::CPPTYPE_INT64 && !f->is_repeated() &&
                 (f->name() == "amount" || f->name() == "quantity" || f->name() == "delta")) {
        r->SetInt64(msg, f, 1);
      }
    }
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::string run_;
  int64_t phone_base_ = 0;
  int phones_ = 0;
  int keys_ = 0;
  std::string admin_;
  identity::v1::OrgNode community_;
  std::map<std::string, std::string> names_;
};

TEST_F(ScopeWalkTest, CallersFromAnotherStreetOrDistrictReachNothingOfAStreet) {
  admin_ = Login(SuiteSetting("CP_SUITE_ADMIN_PHONE"), SuiteSetting("CP_SUITE_ADMIN_PASSWORD"));
  ASSERT_FALSE(admin_.empty());

  // The street everything belongs to, a second street of its district, a second district.
  const auto district = MakeOrg("root", ORG_LEVEL_DISTRICT, "da");
  const auto street = MakeOrg(district.org_id(), ORG_LEVEL_STREET, "sa1");
  community_ = MakeOrg(street.org_id(), ORG_LEVEL_COMMUNITY, "ca1");
  const auto other_street = MakeOrg(district.org_id(), ORG_LEVEL_STREET, "sa2");
  const auto other_district = MakeOrg("root", ORG_LEVEL_DISTRICT, "db");
  ASSERT_FALSE(community_.org_id().empty() || other_district.org_id().empty());

  const StaffMember worker =
      MakeStaff("社工", common::v1::ROLE_COMMUNITY_STAFF, community_.org_id());
  const StaffMember street_staff =
      MakeStaff("街道干部", common::v1::ROLE_STREET_STAFF, street.org_id());
  const StaffMember keeper =
      MakeStaff("站长", common::v1::ROLE_STATION_KEEPER, community_.org_id());

  // A station, a post and an activity of the community.
  activity::v1::CreatePlaceRequest place_req;
  activity::v1::Place* p = place_req.mutable_place();
  p->set_kind(activity::v1::PLACE_KIND_RIDER_STATION);
  p->set_name("驿站");
  p->set_address("清远西街12号");
  p->mutable_location()->set_latitude(40.0937);
  p->mutable_location()->set_longitude(113.2956);
  p->set_community_id(community_.org_id());
  p->mutable_opening_hours()->set_always_open(true);
  p->set_keeper_person_id(keeper.person_id);
  place_req.set_idempotency_key(Key("station"));
  const std::string station =
      Activity<activity::v1::CreatePlaceResponse>("CreatePlace", worker.token, place_req)
          .place()
          .place_id();
  activity::v1::CreatePostRequest post_req;
  post_req.mutable_post()->set_community_id(community_.org_id());
  post_req.mutable_post()->set_kind(activity::v1::POST_KIND_MOBILE_GRID_MONITOR);
  post_req.mutable_post()->set_title("网格员");
  post_req.mutable_post()->set_seats_total(2);
  post_req.set_idempotency_key(Key("post"));
  const std::string post =
      Activity<activity::v1::CreatePostResponse>("CreatePost", worker.token, post_req)
          .post()
          .post_id();
  activity::v1::CreateActivityRequest act_req;
  activity::v1::Activity* a = act_req.mutable_activity();
  a->set_title("环境整治");
  a->set_category(activity::v1::ACTIVITY_CATEGORY_ENVIRONMENTAL_CLEANUP);
  a->set_place_id(station);
  a->set_organiser_org_id(community_.org_id());
  *a->mutable_start_time() = TimeUtil::GetCurrentTime() + TimeUtil::HoursToDuration(2);
  *a->mutable_end_time() = TimeUtil::GetCurrentTime() + TimeUtil::HoursToDuration(4);
  a->set_capacity(30);
  act_req.set_idempotency_key(Key("activity"));
  const std::string activity =
      Activity<activity::v1::CreateActivityResponse>("CreateActivity", worker.token, act_req)
          .activity()
          .activity_id();

  // A rider of the community with points: a verified report pays through the relay.
  auto policy = Identity<identity::v1::GetPrivacyPolicyResponse>(
      "GetPrivacyPolicy", "", identity::v1::GetPrivacyPolicyRequest());
  identity::v1::GetCheckInCodeRequest code_req;
  code_req.set_org_id(community_.org_id());
  const std::string code =
      Identity<identity::v1::GetCheckInCodeResponse>("GetCheckInCode", keeper.token, code_req)
          .code()
          .code();
  identity::v1::RegisterRiderRequest reg;
  reg.set_idempotency_key(Key("register"));
  reg.set_phone(Phone());
  reg.set_password("Rider-pass-2026");
  reg.set_display_name("李师傅");
  reg.set_check_in_code(code);
  reg.mutable_consent()->set_policy_version(policy.policy_version());
  for (const auto& purpose : policy.purposes())
    reg.mutable_consent()->add_purposes(purpose.purpose());
  auto registered = Identity<identity::v1::RegisterRiderResponse>("RegisterRider", "", reg);
  const std::string rider = registered.person().person_id();
  const std::string rider_token = registered.tokens().access_token();
  activity::v1::SubmitServiceRecordRequest report;
  activity::v1::ServiceRecord* rec = report.mutable_service_record();
  rec->set_kind(activity::v1::SERVICE_RECORD_KIND_ROAD_OCCUPATION);
  rec->set_description("菜市场门口占道经营，影响通行");
  rec->mutable_location()->set_latitude(40.0937);
  rec->mutable_location()->set_longitude(113.2956);
  rec->set_address("清远西街12号");
  rec->set_community_id(community_.org_id());
  report.set_idempotency_key(Key("report"));
  const std::string record = Activity<activity::v1::SubmitServiceRecordResponse>(
                                 "SubmitServiceRecord", rider_token, report)
                                 .service_record()
                                 .service_record_id();
  activity::v1::VerifyServiceRecordRequest verify;
  verify.set_service_record_id(record);
  verify.set_note("已核实");
  // Verified, the report opens a problem case (or joins one of the same problem nearby).
  const std::string problem_case = Activity<activity::v1::VerifyServiceRecordResponse>(
                                       "VerifyServiceRecord", worker.token, verify)
                                       .service_record()
                                       .problem_case_id();
  activity::v1::ClaimPostRequest claim_req;
  claim_req.set_post_id(post);
  claim_req.set_idempotency_key(Key("claim"));
  const std::string claim =
      Activity<activity::v1::ClaimPostResponse>("ClaimPost", rider_token, claim_req)
          .claim()
          .claim_id();
  std::string entry;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (entry.empty() && std::chrono::steady_clock::now() < deadline) {
    ledger::v1::ListEntriesRequest list;
    list.set_person_id(rider);
    ledger::v1::ListEntriesResponse listed;
    const gp::MethodDescriptor* m = gp::DescriptorPool::generated_pool()->FindMethodByName(
        "civicpoints.ledger.v1.LedgerService.ListEntries");
    if (Call(*m, rider_token, list, &listed).ok() && listed.entries_size() > 0) {
      entry = listed.entries(0).entry_id();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_FALSE(entry.empty()) << "the report's award never reached the ledger";

  // A gift of the street, stocked at the station, and a window there starting tomorrow (so no
  // background pass opens it during the walk).
  rewards::v1::CreateGiftRequest gift_req;
  gift_req.set_name(Key("毛巾"));
  gift_req.set_category(rewards::v1::GIFT_CATEGORY_DAILY_NECESSITIES);
  gift_req.set_points_cost(5);
  gift_req.set_owner_org_id(street.org_id());
  gift_req.set_idempotency_key(Key("gift"));
  const std::string gift =
      Rewards<rewards::v1::CreateGiftResponse>("CreateGift", street_staff.token, gift_req)
          .gift()
          .gift_id();
  rewards::v1::AddStationStockRequest stock;
  stock.set_station_id(station);
  stock.set_gift_id(gift);
  stock.set_quantity(5);
  stock.set_reason("配送");
  stock.set_idempotency_key(Key("stock"));
  Rewards<rewards::v1::AddStationStockResponse>("AddStationStock", street_staff.token, stock);
  rewards::v1::CreateExchangeWindowRequest window_req;
  rewards::v1::ExchangeWindow* w = window_req.mutable_window();
  w->set_title("兑换日");
  w->set_owner_org_id(street.org_id());
  w->add_station_ids(station);
  *w->mutable_start_time() = TimeUtil::GetCurrentTime() + TimeUtil::HoursToDuration(24);
  *w->mutable_end_time() = TimeUtil::GetCurrentTime() + TimeUtil::HoursToDuration(30);
  w->add_gifts()->set_gift_id(gift);
  auto* ranking = w->mutable_eligibility()->mutable_ranking();
  ranking->mutable_scope()->set_level(ORG_LEVEL_STREET);
  ranking->mutable_scope()->set_org_id(street.org_id());
  ranking->mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  ranking->set_top_n(15);
  window_req.set_idempotency_key(Key("window"));
  const std::string window = Rewards<rewards::v1::CreateExchangeWindowResponse>(
                                 "CreateExchangeWindow", street_staff.token, window_req)
                                 .window()
                                 .window_id();
  ASSERT_FALSE(station.empty() || post.empty() || activity.empty() || gift.empty() ||
               window.empty() || claim.empty());

  const StaffMember outsider_street =
      MakeStaff("外街干部", common::v1::ROLE_STREET_STAFF, other_street.org_id());
  const StaffMember outsider_district =
      MakeStaff("外区管理员", common::v1::ROLE_DISTRICT_ADMIN, other_district.org_id());
  ASSERT_FALSE(outsider_street.token.empty() || outsider_district.token.empty());
  // And another district's city system, with every scope a key may carry.
  identity::v1::CreateServiceAccountRequest account_req;
  account_req.set_idempotency_key(Key("city-system"));
  account_req.set_display_name("外区网格系统");
  account_req.set_role(common::v1::ROLE_CITY_SYSTEM);
  account_req.set_org_id(other_district.org_id());
  const std::string account = Identity<identity::v1::CreateServiceAccountResponse>(
                                  "CreateServiceAccount", admin_, account_req)
                                  .service_account()
                                  .service_account_id();
  identity::v1::CreateApiKeyRequest key_req;
  key_req.set_idempotency_key(Key("city-system-key"));
  key_req.set_service_account_id(account);
  key_req.set_display_name("walk");
  for (const char* scope :
       {"activity.activities.write", "activity.read", "activity.service_records.write",
        "activity.stats.read", "activity.cases.read", "identity.people.read", "identity.stats.read",
        "ledger.audit", "ledger.read", "rewards.read"}) {
    key_req.add_scopes(scope);
  }
  identity::v1::ExchangeApiKeyRequest exchange;
  exchange.set_api_key(
      Identity<identity::v1::CreateApiKeyResponse>("CreateApiKey", admin_, key_req).secret());
  const StaffMember outsider_system = {
      .person_id = account,
      .token = Identity<identity::v1::ExchangeApiKeyResponse>("ExchangeApiKey", "", exchange)
                   .access_token()};
  ASSERT_FALSE(outsider_system.token.empty());

  const std::string here = "scope walk";
  names_ = {{"person_id", rider},
            {"rider_id", rider},
            {"rider_person_id", rider},
            {"org_id", community_.org_id()},
            {"community_id", community_.org_id()},
            {"organiser_org_id", community_.org_id()},
            {"owner_org_id", street.org_id()},
            {"parent_id", street.org_id()},
            {"street_id", street.org_id()},
            {"district_id", district.org_id()},
            {"place_id", station},
            {"station_id", station},
            {"station_ids", station},
            {"activity_id", activity},
            {"post_id", post},
            {"claim_id", claim},
            {"service_record_id", record},
            {"case_id", problem_case},
            {"gift_id", gift},
            {"window_id", window},
            {"entry_id", entry},
            {"order_id", Key("order")},
            {"redemption_id", Key("order")},
            {"idempotency_key", ""},
            {"reason", here},
            {"note", here},
            {"title", here},
            {"display_name", here},
            {"name", here},
            {"description", here}};

  // Background work of the set-up (the award relay, its bookkeeping) must be over before the
  // walk: wait until two counts half a second apart agree, at most 15 s.
  std::map<std::string, int64_t> before = RowCounts();
  for (int i = 0; i < 30; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::map<std::string, int64_t> again = RowCounts();
    if (again == before) break;
    before = std::move(again);
  }

  std::map<std::string, std::vector<std::string>> vague;  // code -> methods, for the summary
  for (const StaffMember* who : {&outsider_street, &outsider_district, &outsider_system}) {
    const std::string as = who == &outsider_street     ? "other street"
                           : who == &outsider_district ? "other district"
                                                       : "other district's city system";
    for (const auth::SuiteService& suite_service : auth::kSuiteServices) {
      const gp::ServiceDescriptor* service =
          gp::DescriptorPool::generated_pool()->FindServiceByName(suite_service.full_name);
      ASSERT_NE(service, nullptr) << suite_service.full_name;
      for (int i = 0; i < service->method_count(); ++i) {
        const gp::MethodDescriptor& m = *service->method(i);
        if (m.client_streaming() || m.server_streaming()) continue;
        const std::string name = ShortName(m);
        // Signing out would end the outsider's session for the rest of the walk; it acts on the
        // caller only.
        if (name == "IdentityService.Logout" || name == "IdentityService.LogoutEverywhere") {
          continue;
        }
        std::unique_ptr<gp::Message> req(
            gp::MessageFactory::generated_factory()->GetPrototype(m.input_type())->New());
        std::unique_ptr<gp::Message> resp(
            gp::MessageFactory::generated_factory()->GetPrototype(m.output_type())->New());
        Fill(req.get());
        grpc::Status s = Call(m, who->token, *req, resp.get());
        // The gateway's per-caller rate limit answers a fast walk "retry after 1 s": wait, as a
        // client would, so every method gets its own answer.
        for (int tries = 0; s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED && tries < 5;
             ++tries) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1100));
          s = Call(m, who->token, *req, resp.get());
        }
        const bool open = kOpenToEveryone.count(name) > 0;
        if (s.ok()) {
          EXPECT_TRUE(open) << as << " got OK from " << name << " with " << req->ShortDebugString();
          continue;
        }
        if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
          const std::string breach = ErrorContractBreach(*service, s);
          EXPECT_EQ(breach, "") << as << ": " << name << " answered PERMISSION_DENIED \""
                                << s.error_message() << "\"";
        }
        if (kMustRefuseByScope.count(name) > 0) {
          EXPECT_TRUE(s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
                      s.error_code() == grpc::StatusCode::NOT_FOUND)
              << as << ": " << name << " answered " << s.error_code() << " " << s.error_message();
        } else if (s.error_code() != grpc::StatusCode::PERMISSION_DENIED &&
                   s.error_code() != grpc::StatusCode::NOT_FOUND && !open) {
          vague[absl::StrCat(s.error_code())].push_back(absl::StrCat(as, ":", name));
        }
      }
    }
  }
  for (const auto& [code, methods] : vague) {
    std::cout << "refused with code " << code
              << " before any scope question: " << absl::StrJoin(methods, ", ") << "\n";
  }

  const std::map<std::string, int64_t> after = RowCounts();
  for (const auto& [table, rows] : after) {
    auto it = before.find(table);
    EXPECT_EQ(it == before.end() ? 0 : it->second, rows) << table << " gained rows";
  }
}

}  // namespace
}  // namespace civicpoints::e2e
