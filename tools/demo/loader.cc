#include "tools/demo/loader.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace civicpoints::demo {
namespace {

namespace av1 = activity::v1;
namespace iv1 = identity::v1;

absl::StatusOr<int> CountPlaces(GatewayClient* gw, const Session& staff, const std::string& org,
                                av1::PlaceKind kind) {
  av1::ListPlacesRequest req;
  req.set_org_id(org);
  req.add_kinds(kind);
  req.set_page_size(100);
  int count = 0;
  do {
    av1::ListPlacesResponse page;
    RETURN_IF_ERROR(gw->Call(&ActivityStub::ListPlaces, staff.token, req, &page));
    count += page.places_size();
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  return count;
}

}  // namespace

DemoLoader::DemoLoader(GatewayClient* gw, DemoOptions options)
    : gw_(gw), opt_(std::move(options)) {}

absl::StatusOr<DemoSummary> DemoLoader::Run() {
  RETURN_IF_ERROR(SignInAdmin());
  RETURN_IF_ERROR(LoadOrgTree());
  RETURN_IF_ERROR(LoadStaff());
  RETURN_IF_ERROR(LoadRules());
  RETURN_IF_ERROR(LoadPlaces());
  RETURN_IF_ERROR(LoadPosts());
  RETURN_IF_ERROR(LoadRiders());
  RETURN_IF_ERROR(LoadClaims());
  RETURN_IF_ERROR(LoadHistory());
  RETURN_IF_ERROR(AwaitAwards());
  RETURN_IF_ERROR(LoadPendingReports());
  RETURN_IF_ERROR(LoadProblemCase());
  RETURN_IF_ERROR(LoadRewards());
  RETURN_IF_ERROR(LoadUpcomingActivities());
  return Summarise();
}

absl::Status DemoLoader::ForEach(int n, const std::function<absl::Status(int)>& fn) {
  std::atomic<int> next{0};
  absl::Mutex mu;
  absl::Status first;
  std::atomic<bool> failed{false};
  auto worker = [&] {
    while (!failed.load()) {
      const int i = next.fetch_add(1);
      if (i >= n) return;
      absl::Status s = fn(i);
      if (!s.ok()) {
        absl::MutexLock lock(&mu);
        if (first.ok()) first = s;
        failed.store(true);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, opt_.threads); ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  return first;
}

const Session& DemoLoader::Reviewer(int index) const {
  return index % 2 == 0 ? community_ : street_;
}

absl::StatusOr<DemoSummary> DemoLoader::Summarise() {
  DemoSummary out;
  out.community_id = Community();
  out.street_id = Street();
  out.accounts.push_back(
      {"admin (district admin, whole city)", opt_.admin_phone, admin_password_now_});
  for (const StaffSpec& s : StoryStaff()) {
    out.accounts.push_back({s.title, s.phone, opt_.staff_password});
  }
  const RiderSpec& leader = StoryRiders()[0];
  out.accounts.push_back(
      {absl::StrCat("rider ", leader.display_name, " (the leader; the other riders are ",
                    StoryRiders()[1].phone, " to ", StoryRiders().back().phone, ")"),
       leader.phone, opt_.rider_password});

  iv1::ListCheckInsRequest check_ins;
  check_ins.set_org_id(Community());
  check_ins.add_statuses(iv1::CHECK_IN_STATUS_ACTIVE);
  check_ins.set_page_size(100);
  do {
    iv1::ListCheckInsResponse page;
    RETURN_IF_ERROR(gw_->Call(&IdentityStub::ListCheckIns, community_.token, check_ins, &page));
    out.riders_checked_in += page.check_ins_size();
    check_ins.set_page_token(page.next_page_token());
  } while (!check_ins.page_token().empty());

  ASSIGN_OR_RETURN(out.stations,
                   CountPlaces(gw_, street_, Street(), av1::PLACE_KIND_RIDER_STATION));
  ASSIGN_OR_RETURN(out.love_corners,
                   CountPlaces(gw_, street_, Street(), av1::PLACE_KIND_LOVE_CORNER));

  ledger::v1::GetTopRankingRequest top;
  top.mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
  top.mutable_scope()->set_org_id(Community());
  top.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_ALL_TIME);
  top.set_top_n(1);
  ledger::v1::GetTopRankingResponse ranking;
  RETURN_IF_ERROR(gw_->Call(&LedgerStub::GetTopRanking, community_.token, top, &ranking));
  if (!ranking.entries().empty()) {
    const ledger::v1::RankingEntry& first = ranking.entries(0);
    out.leader_id = first.person_id();
    out.leader_points = first.score();
    out.leader_rank = first.rank();
    for (size_t i = 0; i < rider_ids_.size(); ++i) {
      if (rider_ids_[i] == first.person_id()) out.leader_name = StoryRiders()[i].display_name;
    }
  }

  rewards::v1::ListExchangeWindowsRequest windows;
  windows.set_owner_org_id(Community());
  windows.set_page_size(100);
  rewards::v1::ListExchangeWindowsResponse found;
  RETURN_IF_ERROR(gw_->Call(&RewardsStub::ListExchangeWindows, community_.token, windows, &found));
  for (const rewards::v1::ExchangeWindow& w : found.windows()) {
    if (w.state() != rewards::v1::EXCHANGE_WINDOW_STATE_OPEN) continue;
    out.window_id = w.window_id();
    out.window_title = w.title();
    out.window_rule = w.rule_text();
    out.window_eligible = w.snapshot().eligible_count();
  }
  return out;
}

}  // namespace civicpoints::demo
