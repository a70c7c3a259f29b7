#include "services/app/home_sources.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <future>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "common/base/time_units.h"

namespace civicpoints::app {
namespace {

constexpr int kStationRadiusMeters = 5000;

// The parts of the answer, named as in GetMyHomeResponse.unavailable.
constexpr char kPoints[] = "points";
constexpr char kStanding[] = "standing";
constexpr char kNearest[] = "nearest_station";
constexpr char kWindows[] = "open_windows";
constexpr char kPickups[] = "ready_pickups";

// One call with the rider's token and the deadline.
template <typename Call>
grpc::Status Ask(const std::string& token, absl::Duration timeout, Call&& call) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  ctx.AddMetadata("authorization", "Bearer " + token);
  return call(&ctx);
}

// What the calls found, filled from several threads.
class Parts {
 public:
  void Unavailable(const char* part) {
    absl::MutexLock lock(&mu_);
    unavailable_.push_back(part);
  }
  void Failed(absl::Status s) {
    absl::MutexLock lock(&mu_);
    if (failed_.ok()) failed_ = std::move(s);
  }
  template <typename Fn>
  void Fill(Fn&& fn) {
    absl::MutexLock lock(&mu_);
    fn(resp_);
  }
  std::vector<std::string> unavailable() {
    absl::MutexLock lock(&mu_);
    return unavailable_;
  }
  absl::Status failed() {
    absl::MutexLock lock(&mu_);
    return failed_;
  }
  v1::GetMyHomeResponse Take() {
    absl::MutexLock lock(&mu_);
    for (const std::string& p : unavailable_) resp_.add_unavailable(p);
    return std::move(resp_);
  }

 private:
  absl::Mutex mu_;
  v1::GetMyHomeResponse resp_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> unavailable_ ABSL_GUARDED_BY(mu_);
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
};

void RunAll(std::vector<std::function<void()>> jobs) {
  std::vector<std::future<void>> running;
  running.reserve(jobs.size());
  for (auto& job : jobs) running.push_back(std::async(std::launch::async, std::move(job)));
  for (auto& r : running) r.get();
}

}  // namespace

HomeSources::HomeSources(server::DataServiceChannels channels, absl::Duration timeout)
    : channels_(std::move(channels)), timeout_(timeout) {}

absl::StatusOr<v1::GetMyHomeResponse> HomeSources::Gather(const std::string& rider_id,
                                                          const std::string& token,
                                                          const v1::GetMyHomeRequest& request,
                                                          absl::Time now) {
  auto identity = identity::v1::IdentityService::NewStub(channels_.identity);
  auto activity = activity::v1::ActivityService::NewStub(channels_.activity);
  auto ledger = ledger::v1::LedgerService::NewStub(channels_.ledger);
  auto rewards = rewards::v1::RewardsService::NewStub(channels_.rewards);
  Parts parts;
  std::vector<std::function<void()>> jobs;

  // Points: the ledger's balance and activity's awards on their way to it.
  jobs.push_back([&] {
    ledger::v1::GetBalanceRequest req;
    req.set_person_id(rider_id);
    ledger::v1::GetBalanceResponse balance;
    activity::v1::ListAwardsRequest pending;
    pending.set_status(activity::v1::AWARD_STATUS_PENDING);
    pending.set_page_size(100);
    activity::v1::ListAwardsResponse awards;
    // The two at once, as the other parts are: neither waits for the other.
    auto awards_call = std::async(std::launch::async, [&] {
      return Ask(token, timeout_,
                 [&](grpc::ClientContext* c) { return activity->ListAwards(c, pending, &awards); });
    });
    grpc::Status s = Ask(token, timeout_, [&](grpc::ClientContext* c) {
      return ledger->GetBalance(c, req, &balance);
    });
    grpc::Status a = awards_call.get();
    // A rider with no points yet has no account: zero, not missing.
    if (!s.ok() && s.error_code() != grpc::StatusCode::NOT_FOUND) {
      parts.Unavailable(kPoints);
      return;
    }
    int64_t on_the_way = 0;
    for (const activity::v1::Award& award : awards.awards()) on_the_way += award.points();
    parts.Fill([&](v1::GetMyHomeResponse& r) {
      v1::PointsSummary* p = r.mutable_points();
      p->set_available(balance.account().available());
      p->set_held(balance.account().held());
      p->set_lifetime_earned(balance.account().lifetime_earned());
      p->set_on_the_way(a.ok() ? on_the_way : 0);
    });
    if (!a.ok()) parts.Unavailable(kPoints);
  });

  // Standing: the home community (identity), then its two rankings (the ledger).
  jobs.push_back([&] {
    identity::v1::WhoAmIResponse me;
    grpc::Status s = Ask(token, timeout_, [&](grpc::ClientContext* c) {
      return identity->WhoAmI(c, identity::v1::WhoAmIRequest(), &me);
    });
    if (!s.ok()) {
      parts.Unavailable(kStanding);
      return;
    }
    const identity::v1::HomeCommunity& home = me.person().rider().home_community();
    if (home.community_id().empty()) return;  // not checked in anywhere: no standing
    auto rank = [&](common::v1::RankingPeriodKind kind, ledger::v1::GetRankResponse* out) {
      ledger::v1::GetRankRequest req;
      req.set_person_id(rider_id);
      req.mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
      req.mutable_scope()->set_org_id(home.community_id());
      req.mutable_period()->set_kind(kind);
      return Ask(token, timeout_,
                 [&](grpc::ClientContext* c) { return ledger->GetRank(c, req, out); });
    };
    ledger::v1::GetRankResponse all_time, month;
    auto month_call = std::async(
        std::launch::async, [&] { return rank(common::v1::RANKING_PERIOD_KIND_MONTH, &month); });
    grpc::Status a = rank(common::v1::RANKING_PERIOD_KIND_ALL_TIME, &all_time);
    grpc::Status m = month_call.get();
    if (!a.ok() || !m.ok()) {
      parts.Unavailable(kStanding);
      return;
    }
    parts.Fill([&](v1::GetMyHomeResponse& r) {
      v1::CommunityStanding* st = r.mutable_standing();
      st->set_community_id(home.community_id());
      st->set_community_name(home.community_name());
      *st->mutable_all_time() = all_time.entry();
      *st->mutable_this_month() = month.entry();
      st->set_ranked_all_time(all_time.total_ranked());
      st->set_ranked_this_month(month.total_ranked());
    });
  });

  // The nearest open rider station.
  if (request.has_location()) {
    jobs.push_back([&] {
      activity::v1::SearchNearbyPlacesRequest req;
      *req.mutable_location() = request.location();
      req.set_radius_meters(kStationRadiusMeters);
      req.add_kinds(activity::v1::PLACE_KIND_RIDER_STATION);
      req.set_page_size(1);
      activity::v1::SearchNearbyPlacesResponse near;
      grpc::Status s = Ask(token, timeout_, [&](grpc::ClientContext* c) {
        return activity->SearchNearbyPlaces(c, req, &near);
      });
      if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
        parts.Failed(absl::InvalidArgumentError(s.error_message()));
        return;
      }
      if (!s.ok()) {
        parts.Unavailable(kNearest);
        return;
      }
      if (near.places_size() > 0) {
        parts.Fill(
            [&](v1::GetMyHomeResponse& r) { *r.mutable_nearest_station() = near.places(0); });
      }
    });
  }

  // Open windows the rider qualifies for.
  jobs.push_back([&] {
    rewards::v1::ListMyEligibleExchangeWindowsRequest req;
    req.set_page_size(20);
    rewards::v1::ListMyEligibleExchangeWindowsResponse windows;
    grpc::Status s = Ask(token, timeout_, [&](grpc::ClientContext* c) {
      return rewards->ListMyEligibleExchangeWindows(c, req, &windows);
    });
    if (!s.ok()) {
      parts.Unavailable(kWindows);
      return;
    }
    parts.Fill([&](v1::GetMyHomeResponse& r) {
      for (rewards::v1::EligibleWindow& w : *windows.mutable_windows()) {
        if (w.eligibility().eligible()) *r.add_open_windows() = std::move(w);
      }
    });
  });

  // Orders ready for pickup.
  jobs.push_back([&] {
    rewards::v1::ListMyRedemptionsRequest req;
    req.add_states(rewards::v1::REDEMPTION_STATE_READY);
    req.set_page_size(20);
    rewards::v1::ListMyRedemptionsResponse ready;
    grpc::Status s = Ask(token, timeout_, [&](grpc::ClientContext* c) {
      return rewards->ListMyRedemptions(c, req, &ready);
    });
    if (!s.ok()) {
      parts.Unavailable(kPickups);
      return;
    }
    parts.Fill([&](v1::GetMyHomeResponse& r) {
      for (rewards::v1::Redemption& red : *ready.mutable_redemptions()) {
        *r.add_ready_pickups() = std::move(red);
      }
    });
  });

  RunAll(std::move(jobs));
  if (absl::Status s = parts.failed(); !s.ok()) return s;
  if (parts.unavailable().size() == (request.has_location() ? 5u : 4u)) {
    return absl::UnavailableError("no part of the home screen could be read; retry");
  }
  v1::GetMyHomeResponse resp = parts.Take();
  times::SetTime(resp.mutable_as_of(), now);
  return resp;
}

}  // namespace civicpoints::app
