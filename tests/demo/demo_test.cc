// The demo loader against the running suite (ctest fixture cp_suite): cp_demo loads the story,
// and the story's figures are read back through the gateway — the leader's 109 points at the top
// of the community ranking, 56 riders checked in at 清远西街社区, 9 rider stations and 137 love
// corners in 清远街道 — then cp_demo runs again and nothing is doubled. Other tests share the
// suite, so every figure is read inside the demo's own org nodes.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "tools/demo/history_plan.h"
#include "tools/demo/story.h"

namespace civicpoints::demo {
namespace {

namespace av1 = activity::v1;
namespace iv1 = identity::v1;
namespace lv1 = ledger::v1;
namespace rv1 = rewards::v1;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

struct RunResult {
  int exit_code = -1;
  std::string output;
};

// Runs cp_demo with `args` and returns its exit code and stdout and stderr.
RunResult RunDemo(const std::string& args) {
  RunResult out;
  const std::string command = absl::StrCat(CP_DEMO_BIN, " ", args, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.output.append(buf.data(), n);
  const int status = pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// Everything the demo put in, counted inside its own nodes; two loads must give equal figures.
struct Figures {
  int riders_checked_in = 0;    // ACTIVE check-ins at 清远西街社区
  int check_ins_any_state = 0;  // every check-in there, any state
  int riders_listed = 0;        // people whose home is 清远西街社区
  int stations = 0, love_corners = 0, on_demonstration_street = 0, venues = 0;
  std::set<int> love_corner_services;
  int posts = 0;
  std::set<int> post_kinds;
  int approved_claims = 0, all_claims = 0;
  int service_records = 0, verified_records = 0, cleanup_records = 0;
  int cases_fixed = 0;  // problem cases closed as fixed in 清远西街社区
  int shifts = 0, confirmed_shifts = 0;
  int64_t ranked = 0, ranked_points = 0;
  std::vector<std::pair<std::string, int64_t>> top;  // the community's top 16
  int windows = 0, windows_open = 0, window_eligible = 0;
  int64_t window_cutoff = 0;
  std::map<std::string, int64_t> stock_on_hand;  // gift name → items at 清远西街小哥驿站
  int stock_movements = 0;
  int gifts = 0, activities = 0, enrolments = 0;
  int64_t rules_version = 0;

  bool operator==(const Figures&) const = default;
};

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gateway_ = Env("CP_SUITE_GATEWAY_ADDR");
    admin_password_ = Env("CP_SUITE_ADMIN_PASSWORD");
    ASSERT_FALSE(gateway_.empty()) << "run through ctest (fixture cp_suite)";
    auto channel = grpc::CreateChannel(gateway_, grpc::InsecureChannelCredentials());
    identity_ = iv1::IdentityService::NewStub(channel);
    activity_ = av1::ActivityService::NewStub(channel);
    ledger_ = lv1::LedgerService::NewStub(channel);
    rewards_ = rv1::RewardsService::NewStub(channel);
  }

  std::string DemoArgs() const {
    return absl::StrCat("--gateway=", gateway_, " --admin_password=", admin_password_,
                        " --admin_demo_password=", admin_password_);
  }

  // Signs in a staff account the loader printed.
  void SignIn(const std::string& phone, const std::string& password, std::string* token) {
    iv1::LoginRequest req;
    req.set_phone(phone);
    req.set_password(password);
    iv1::LoginResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = identity_->Login(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << phone << ": " << s.error_message();
    EXPECT_FALSE(resp.password_change_required());
    *token = resp.tokens().access_token();
  }

  template <typename Stub, typename Req, typename Resp>
  void Call(Stub* stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
            const std::string& token, const Req& req, Resp* resp) {
    grpc::Status s;
    // The gateway limits calls per caller; the loader has just spent the staff's burst.
    for (int attempt = 0; attempt < 60; ++attempt) {
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + token);
      s = (stub->*method)(&ctx, req, resp);
      if (s.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED ||
          ctx.GetServerTrailingMetadata().count("retry-after") == 0) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ASSERT_TRUE(s.ok()) << Req::descriptor()->name() << ": " << s.error_code() << " "
                        << s.error_message();
  }

  std::string Lookup(const std::string& code) {
    iv1::LookupOrgNodeRequest req;
    req.set_code(code);
    iv1::LookupOrgNodeResponse resp;
    Call(identity_.get(), &iv1::IdentityService::Stub::LookupOrgNode, community_token_, req, &resp);
    return resp.node().org_id();
  }

  // Pages through a List call, handing each page to `take`.
  template <typename Stub, typename Req, typename Resp, typename Take>
  void Pages(Stub* stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
             const std::string& token, Req req, Take take) {
    do {
      Resp page;
      Call(stub, method, token, req, &page);
      if (::testing::Test::HasFatalFailure()) return;
      take(page);
      req.set_page_token(page.next_page_token());
    } while (!req.page_token().empty());
  }

  Figures Read() {
    Figures f;
    using IS = iv1::IdentityService::Stub;
    using AS = av1::ActivityService::Stub;
    using LS = lv1::LedgerService::Stub;
    using RS = rv1::RewardsService::Stub;
    const std::string& t = community_token_;

    iv1::ListCheckInsRequest check_ins;
    check_ins.set_org_id(community_);
    check_ins.set_page_size(100);
    Pages(identity_.get(), &IS::ListCheckIns, t, check_ins, [&](const auto& page) {
      for (const iv1::CheckIn& c : page.check_ins()) {
        ++f.check_ins_any_state;
        f.riders_checked_in += c.status() == iv1::CHECK_IN_STATUS_ACTIVE;
      }
    });
    iv1::ListPeopleRequest people;
    people.set_org_id(community_);
    people.add_roles(common::v1::ROLE_RIDER);
    people.set_page_size(100);
    Pages(identity_.get(), &IS::ListPeople, t, people,
          [&](const auto& page) { f.riders_listed += page.people_size(); });

    av1::ListPlacesRequest places;
    places.set_org_id(street_);
    places.set_page_size(100);
    Pages(activity_.get(), &AS::ListPlaces, street_token_, places, [&](const auto& page) {
      for (const av1::Place& p : page.places()) {
        if (p.kind() == av1::PLACE_KIND_RIDER_STATION) ++f.stations;
        if (p.kind() == av1::PLACE_KIND_ACTIVITY_VENUE) ++f.venues;
        if (p.kind() != av1::PLACE_KIND_LOVE_CORNER) continue;
        ++f.love_corners;
        f.on_demonstration_street += p.address().find("清远西街") != std::string::npos;
        for (int s : p.services()) f.love_corner_services.insert(s);
      }
    });

    av1::ListPostsRequest posts;
    posts.set_org_id(community_);
    posts.set_page_size(100);
    Pages(activity_.get(), &AS::ListPosts, t, posts, [&](const auto& page) {
      for (const av1::Post& p : page.posts()) {
        ++f.posts;
        f.post_kinds.insert(p.kind());
      }
    });
    av1::ListPostClaimsRequest claims;
    claims.set_post_id("-");
    claims.set_org_id(community_);
    claims.set_page_size(100);
    Pages(activity_.get(), &AS::ListPostClaims, t, claims, [&](const auto& page) {
      for (const av1::PostClaim& c : page.claims()) {
        ++f.all_claims;
        f.approved_claims += c.status() == av1::POST_CLAIM_STATUS_APPROVED;
      }
    });
    av1::ListServiceRecordsRequest records;
    records.set_org_id(community_);
    records.set_page_size(100);
    Pages(activity_.get(), &AS::ListServiceRecords, t, records, [&](const auto& page) {
      for (const av1::ServiceRecord& r : page.service_records()) {
        ++f.service_records;
        f.verified_records += r.status() == av1::SERVICE_RECORD_STATUS_VERIFIED;
        f.cleanup_records += r.kind() == av1::SERVICE_RECORD_KIND_ENVIRONMENT_CLEANUP;
      }
    });
    av1::ListProblemCasesRequest cases;
    cases.set_org_id(community_);
    cases.add_statuses(av1::PROBLEM_CASE_STATUS_CLOSED);
    cases.set_page_size(100);
    Pages(activity_.get(), &AS::ListProblemCases, t, cases, [&](const auto& page) {
      for (const av1::ProblemCase& c : page.problem_cases()) {
        f.cases_fixed += c.outcome() == av1::PROBLEM_CASE_OUTCOME_FIXED;
      }
    });
    av1::ListDutyShiftsRequest shifts;
    shifts.set_post_id("-");
    shifts.set_org_id(community_);
    shifts.set_page_size(100);
    Pages(activity_.get(), &AS::ListDutyShifts, t, shifts, [&](const auto& page) {
      for (const av1::DutyShift& s : page.shifts()) {
        ++f.shifts;
        f.confirmed_shifts += s.status() == av1::DUTY_SHIFT_STATUS_CONFIRMED;
      }
    });
    av1::ListActivitiesRequest activities;
    activities.set_org_id(community_);
    activities.set_page_size(100);
    Pages(activity_.get(), &AS::ListActivities, t, activities, [&](const auto& page) {
      for (const av1::Activity& a : page.activities()) {
        ++f.activities;
        f.enrolments += a.enrolled_count();
      }
    });
    av1::GetPointsRulesRequest rules;
    rules.set_org_id(street_);
    av1::GetPointsRulesResponse rules_resp;
    Call(activity_.get(), &AS::GetPointsRules, street_token_, rules, &rules_resp);
    f.rules_version = rules_resp.rules().version();

    lv1::GetTopRankingRequest top;
    top.mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
    top.mutable_scope()->set_org_id(community_);
    top.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
    top.set_top_n(100);
    lv1::GetTopRankingResponse ranking;
    Call(ledger_.get(), &LS::GetTopRanking, t, top, &ranking);
    f.ranked = ranking.total_ranked();
    for (const lv1::RankingEntry& e : ranking.entries()) {
      f.ranked_points += e.score();
      if (f.top.size() < kExchangeTopN + 1) f.top.emplace_back(e.person_id(), e.score());
    }

    rv1::ListExchangeWindowsRequest windows;
    windows.set_owner_org_id(community_);
    windows.set_page_size(100);
    std::string station;
    Pages(rewards_.get(), &RS::ListExchangeWindows, t, windows, [&](const auto& page) {
      for (const rv1::ExchangeWindow& w : page.windows()) {
        ++f.windows;
        if (w.state() != rv1::EXCHANGE_WINDOW_STATE_OPEN) continue;
        ++f.windows_open;
        f.window_eligible = w.snapshot().eligible_count();
        f.window_cutoff = w.snapshot().cutoff_points();
        station = w.station_ids(0);
        f.gifts = w.gifts_size();
      }
    });
    if (!station.empty()) {
      rv1::ListStationStockRequest stock;
      stock.set_station_id(station);
      stock.set_page_size(100);
      Pages(rewards_.get(), &RS::ListStationStock, t, stock, [&](const auto& page) {
        for (const rv1::StationStock& s : page.stock())
          f.stock_on_hand[s.gift_name()] = s.on_hand_quantity();
      });
      rv1::ListStockMovementsRequest moves;
      moves.set_station_id(station);
      moves.set_page_size(100);
      Pages(rewards_.get(), &RS::ListStockMovements, t, moves,
            [&](const auto& page) { f.stock_movements += page.movements_size(); });
    }
    return f;
  }

  // Signs in the staff the loader created and finds the demo's nodes.
  void Connect() {
    SignIn(StoryStaff()[1].phone, "Staff-demo-2026", &community_token_);
    SignIn(StoryStaff()[0].phone, "Staff-demo-2026", &street_token_);
    community_ = Lookup(kQingyuanWestCode);
    street_ = Lookup(kQingyuanStreetCode);
  }

  std::string gateway_, admin_password_;
  std::unique_ptr<iv1::IdentityService::Stub> identity_;
  std::unique_ptr<av1::ActivityService::Stub> activity_;
  std::unique_ptr<lv1::LedgerService::Stub> ledger_;
  std::unique_ptr<rv1::RewardsService::Stub> rewards_;
  std::string community_token_, street_token_, community_, street_;
};

TEST_F(DemoTest, LoadsTheStorysFiguresAndASecondRunDoublesNothing) {
  RunResult first = RunDemo(DemoArgs());
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("109 points"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("17035209002"), std::string::npos) << first.output;
  ASSERT_NO_FATAL_FAILURE(Connect());
  const Figures loaded = Read();
  ASSERT_FALSE(HasFatalFailure());

  // The story's figures.
  EXPECT_EQ(loaded.riders_checked_in, 56);
  EXPECT_EQ(loaded.riders_listed, 56);
  EXPECT_EQ(loaded.check_ins_any_state, 56);
  EXPECT_EQ(loaded.stations, 9);
  EXPECT_EQ(loaded.love_corners, 137);
  EXPECT_EQ(loaded.on_demonstration_street, 107);
  EXPECT_EQ(loaded.love_corner_services.size(), 9u);
  EXPECT_EQ(loaded.posts, 5);
  EXPECT_EQ(loaded.post_kinds.size(), 5u);
  EXPECT_EQ(loaded.approved_claims, 56);
  ASSERT_GE(loaded.top.size(), static_cast<size_t>(kExchangeTopN + 1));
  EXPECT_EQ(loaded.top[0].second, 109);
  EXPECT_GT(loaded.top[kExchangeTopN - 1].second, loaded.top[kExchangeTopN].second);

  // The leader is rider 17035200001, and the ledger holds exactly 109 for him.
  iv1::FindPersonByPhoneRequest find;
  find.set_phone(StoryRiders()[0].phone);
  iv1::FindPersonByPhoneResponse leader;
  Call(identity_.get(), &iv1::IdentityService::Stub::FindPersonByPhone, community_token_, find,
       &leader);
  EXPECT_EQ(leader.person().display_name(), StoryRiders()[0].display_name);
  EXPECT_EQ(loaded.top[0].first, leader.person().person_id());
  lv1::GetBalanceRequest balance;
  balance.set_person_id(leader.person().person_id());
  lv1::GetBalanceResponse account;
  Call(ledger_.get(), &lv1::LedgerService::Stub::GetBalance, community_token_, balance, &account);
  EXPECT_EQ(account.account().available(), 109);
  EXPECT_EQ(account.account().net_earned(), 109);
  lv1::GetRankRequest rank;
  rank.set_person_id(leader.person().person_id());
  rank.mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
  rank.mutable_scope()->set_org_id(community_);
  rank.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  lv1::GetRankResponse ranked;
  Call(ledger_.get(), &lv1::LedgerService::Stub::GetRank, community_token_, rank, &ranked);
  EXPECT_EQ(ranked.entry().rank(), 1);

  // The history behind the points, as the plan has it, all verified and confirmed.
  int records = 0, shifts = 0, ranked_riders = 0, cleanup = 0;
  int64_t points = 0;
  for (const RiderSpec& r : StoryRiders()) {
    ranked_riders += r.points > 0;
    points += r.points;
    cleanup += r.in_cleanup;
    for (const HistoryItem& item : PlanHistory(r)) {
      (item.kind == HistoryItem::Kind::kShift ? shifts : records) += 1;
    }
  }
  // The story's problem case adds one verified report, whose rider earns its points and, the
  // case fixed, the bonus.
  EXPECT_EQ(loaded.service_records, records + kPendingReports + 1);
  EXPECT_EQ(loaded.verified_records, records + 1);
  EXPECT_EQ(loaded.cleanup_records, cleanup);
  EXPECT_EQ(loaded.shifts, shifts);
  EXPECT_EQ(loaded.confirmed_shifts, shifts);
  EXPECT_EQ(loaded.ranked, ranked_riders + 1);
  EXPECT_EQ(loaded.ranked_points, points + kProblemPoints + kProblemFixedBonus);
  EXPECT_EQ(loaded.cases_fixed, 1);

  // The first exchange: open for exactly the top 15, the story's gifts stocked at the station.
  EXPECT_EQ(loaded.windows, 1);
  EXPECT_EQ(loaded.windows_open, 1);
  EXPECT_EQ(loaded.window_eligible, kExchangeTopN);
  EXPECT_EQ(loaded.window_cutoff, StoryRiders()[kExchangeTopN - 1].points);
  EXPECT_EQ(loaded.gifts, static_cast<int>(StoryGifts().size()));
  for (const GiftSpec& g : StoryGifts()) EXPECT_EQ(loaded.stock_on_hand.at(g.name), g.stock);
  EXPECT_EQ(loaded.stock_movements, static_cast<int>(StoryGifts().size()));
  EXPECT_EQ(loaded.activities, 2);
  EXPECT_EQ(loaded.venues, 1);

  // Again: the same accounts, and not one figure moved.
  RunResult second = RunDemo(DemoArgs());
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("109 points"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("17035209001"), std::string::npos) << second.output;
  const Figures again = Read();
  EXPECT_TRUE(again == loaded) << "the second run changed the demo's figures";
  EXPECT_EQ(again.rules_version, loaded.rules_version);
  EXPECT_EQ(again.stock_on_hand, loaded.stock_on_hand);
  EXPECT_EQ(again.service_records, loaded.service_records);
  EXPECT_EQ(again.shifts, loaded.shifts);
  EXPECT_EQ(again.enrolments, loaded.enrolments);
  EXPECT_EQ(again.top, loaded.top);
}

TEST(DemoSettingsTest, BadSettingsAndAnUnreachableGatewayAreReported) {
  RunResult bad = RunDemo("--threads=0");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("threads"), std::string::npos) << bad.output;
  RunResult nobody = RunDemo("--gateway=127.0.0.1:1 --patience=1s");
  EXPECT_EQ(nobody.exit_code, 1) << nobody.output;
  EXPECT_NE(nobody.output.find("127.0.0.1:1"), std::string::npos) << nobody.output;
}

}  // namespace
}  // namespace civicpoints::demo
