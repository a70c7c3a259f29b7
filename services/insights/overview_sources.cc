#include "services/insights/overview_sources.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <future>
#include <vector>

#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/insights/v1/errors.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "common/server/service_token.h"
#include "common/status/grpc_status.h"
#include "common/status/refusal.h"

namespace civicpoints::insights {
namespace {

using Job = std::function<absl::Status()>;

constexpr int kTopRiders = 15;
constexpr int kMaxPages = 10;  // of 100 rows each: no node has more children, stations or days

// Runs the jobs at once, each on a thread of its own, and waits for all; the first error wins.
absl::Status RunAll(std::vector<Job> jobs) {
  std::vector<std::future<absl::Status>> running;
  running.reserve(jobs.size());
  for (Job& job : jobs) running.push_back(std::async(std::launch::async, std::move(job)));
  absl::Status first;
  for (auto& r : running) {
    absl::Status s = r.get();
    if (first.ok() && !s.ok()) first = std::move(s);
  }
  return first;
}

// The ledger's and rewards' scope of a node: the city names no node.
common::v1::OrgScope ScopeOf(const identity::v1::OrgNode& node) {
  common::v1::OrgScope scope;
  scope.set_level(node.level());
  if (node.level() != common::v1::ORG_LEVEL_CITY) scope.set_org_id(node.org_id());
  return scope;
}

bool IsCity(const identity::v1::OrgNode& node) {
  return node.level() == common::v1::ORG_LEVEL_CITY;
}

}  // namespace

OverviewSources::OverviewSources(server::DataServiceChannels channels, server::ServiceToken* token,
                                 absl::Duration timeout)
    : channels_(std::move(channels)), token_(token), timeout_(timeout) {}

namespace {

// One call to a peer with the service token; its refusal as our status: UNAVAILABLE naming the
// peer, as the overview cannot be made without it.
template <typename Call>
absl::Status Ask(server::ServiceToken* token, absl::Duration timeout, absl::string_view peer,
                 Call&& call) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  if (absl::Status s = server::AttachServiceToken(*token, ctx); !s.ok()) {
    return absl::UnavailableError(absl::StrCat("no token to ask ", peer, " with: ", s.message()));
  }
  grpc::Status s = call(&ctx);
  if (s.ok()) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat(peer, " could not be asked for the overview: ", s.error_message()));
}

}  // namespace

absl::StatusOr<identity::v1::OrgNode> OverviewSources::Node(const std::string& org_id) {
  auto identity = identity::v1::IdentityService::NewStub(channels_.identity);
  identity::v1::GetOrgNodeRequest req;
  req.set_org_id(org_id);
  identity::v1::GetOrgNodeResponse resp;
  grpc::Status answer;
  absl::Status s = Ask(token_, timeout_, "identity", [&](grpc::ClientContext* ctx) {
    answer = identity->GetOrgNode(ctx, req, &resp);
    return answer;
  });
  if (answer.error_code() == grpc::StatusCode::NOT_FOUND ||
      answer.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return Refuse(absl::StatusCode::kNotFound, v1::INSIGHTS_ERROR_REASON_ORG_NOT_FOUND,
                  absl::StrCat("org_id: '", org_id, "' is not an org node"));
  }
  if (!s.ok()) return s;
  return resp.node();
}

absl::StatusOr<OverviewInputs> OverviewSources::Gather(const identity::v1::OrgNode& node,
                                                       const DayRange& range, absl::Time now) {
  OverviewInputs in;
  in.node = node;
  in.range = range;
  in.now = now;
  auto identity = identity::v1::IdentityService::NewStub(channels_.identity);
  auto activity = activity::v1::ActivityService::NewStub(channels_.activity);
  auto ledger = ledger::v1::LedgerService::NewStub(channels_.ledger);
  auto rewards = rewards::v1::RewardsService::NewStub(channels_.rewards);
  auto ask = [this](absl::string_view peer, auto&& call) {
    return Ask(token_, timeout_, peer, call);
  };
  const bool community = node.level() == common::v1::ORG_LEVEL_COMMUNITY;
  auto redemptions = [&](const common::v1::OrgScope& scope, rewards::v1::StatsDimension by,
                         const std::string& page_token) {
    rewards::v1::GetRedemptionStatsRequest req;
    *req.mutable_scope() = scope;
    req.set_start_day(range.from_day);
    req.set_end_day(range.to_day);
    if (by != rewards::v1::STATS_DIMENSION_UNSPECIFIED) req.add_group_by(by);
    req.set_page_size(100);
    req.set_page_token(page_token);
    return req;
  };

  std::vector<Job> jobs;
  // identity: the node's riders, and each child's with their names.
  jobs.push_back([&] {
    identity::v1::GetOrgStatsRequest req;
    req.set_org_id(node.org_id());
    req.set_start_day(range.from_day);
    req.set_end_day(range.to_day);
    req.set_active_window_days(30);
    identity::v1::GetOrgStatsResponse resp;
    absl::Status s = ask("identity", [&](grpc::ClientContext* ctx) {
      return identity->GetOrgStats(ctx, req, &resp);
    });
    in.org_stats = std::move(*resp.mutable_stats());
    return s;
  });
  jobs.push_back([&]() -> absl::Status {
    if (community) return absl::OkStatus();
    identity::v1::ListChildOrgStatsRequest req;
    req.set_org_id(node.org_id());
    req.set_active_window_days(30);
    req.set_page_size(100);
    for (int page = 0; page < kMaxPages; ++page) {
      identity::v1::ListChildOrgStatsResponse resp;
      absl::Status s = ask("identity", [&](grpc::ClientContext* ctx) {
        return identity->ListChildOrgStats(ctx, req, &resp);
      });
      if (!s.ok()) return s;
      for (auto& stats : *resp.mutable_stats()) in.child_org_stats.push_back(std::move(stats));
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    std::sort(in.child_org_stats.begin(), in.child_org_stats.end(),
              [](const auto& a, const auto& b) { return a.org_id() < b.org_id(); });
    // rewards: what each child's stations handed over.
    std::vector<Job> per_child;
    std::vector<rewards::v1::GetRedemptionStatsResponse> answers(in.child_org_stats.size());
    for (size_t i = 0; i < in.child_org_stats.size(); ++i) {
      per_child.push_back([&, i] {
        common::v1::OrgScope scope;
        scope.set_level(in.child_org_stats[i].org_level());
        scope.set_org_id(in.child_org_stats[i].org_id());
        auto req = redemptions(scope, rewards::v1::STATS_DIMENSION_UNSPECIFIED, "");
        return ask("rewards", [&](grpc::ClientContext* ctx) {
          return rewards->GetRedemptionStats(ctx, req, &answers[i]);
        });
      });
    }
    absl::Status s = RunAll(std::move(per_child));
    for (size_t i = 0; i < answers.size(); ++i) {
      in.child_redemptions[in.child_org_stats[i].org_id()] = answers[i].totals();
    }
    return s;
  });
  // activity: activities, posts, records; places per community with their names.
  jobs.push_back([&] {
    activity::v1::GetActivityStatsRequest req;
    if (!IsCity(node)) req.set_org_id(node.org_id());
    req.set_from_day(range.from_day);
    req.set_to_day(range.to_day);
    req.set_include_children(!community);
    return ask("activity", [&](grpc::ClientContext* ctx) {
      return activity->GetActivityStats(ctx, req, &in.activity);
    });
  });
  jobs.push_back([&]() -> absl::Status {
    activity::v1::GetPlaceCoverageStatsRequest req;
    // Coverage is counted per street: a community's comes from its street's rows.
    if (community) {
      req.set_org_id(node.path().street_id());
    } else if (!IsCity(node)) {
      req.set_org_id(node.org_id());
    }
    req.set_include_communities(true);
    absl::Status s = ask("activity", [&](grpc::ClientContext* ctx) {
      return activity->GetPlaceCoverageStats(ctx, req, &in.coverage);
    });
    if (!s.ok()) return s;
    identity::v1::BatchGetOrgNodesRequest names;
    auto flush = [&]() -> absl::Status {
      if (names.org_ids_size() == 0) return absl::OkStatus();
      identity::v1::BatchGetOrgNodesResponse resp;
      absl::Status s = ask("identity", [&](grpc::ClientContext* ctx) {
        return identity->BatchGetOrgNodes(ctx, names, &resp);
      });
      for (const auto& n : resp.nodes()) in.community_names[n.org_id()] = n.name();
      names.clear_org_ids();
      return s;
    };
    for (const auto& c : in.coverage.communities()) {
      if (community && c.scope().org_id() != node.org_id()) continue;
      names.add_org_ids(c.scope().org_id());
      if (names.org_ids_size() == 100) {
        if (absl::Status s = flush(); !s.ok()) return s;
      }
    }
    return flush();
  });
  // ledger: points, and the month's top with the riders' names.
  jobs.push_back([&] {
    ledger::v1::GetOrgStatisticsRequest req;
    *req.mutable_scope() = ScopeOf(node);
    req.set_start_day(range.from_day);
    req.set_end_day(range.to_day);
    return ask("ledger", [&](grpc::ClientContext* ctx) {
      return ledger->GetOrgStatistics(ctx, req, &in.points);
    });
  });
  jobs.push_back([&]() -> absl::Status {
    ledger::v1::GetTopRankingRequest req;
    *req.mutable_scope() = ScopeOf(node);
    req.mutable_period()->set_kind(common::v1::RANKING_PERIOD_KIND_MONTH);
    req.set_top_n(kTopRiders);
    return ask("ledger",
               [&](grpc::ClientContext* ctx) { return ledger->GetTopRanking(ctx, req, &in.top); });
  });
  // rewards: by gift, by station (with the stations' names), by day.
  jobs.push_back([&] {
    auto req = redemptions(ScopeOf(node), rewards::v1::STATS_DIMENSION_GIFT, "");
    return ask("rewards", [&](grpc::ClientContext* ctx) {
      return rewards->GetRedemptionStats(ctx, req, &in.by_gift);
    });
  });
  jobs.push_back([&]() -> absl::Status {
    auto req = redemptions(ScopeOf(node), rewards::v1::STATS_DIMENSION_STATION, "");
    absl::Status s = ask("rewards", [&](grpc::ClientContext* ctx) {
      return rewards->GetRedemptionStats(ctx, req, &in.by_station);
    });
    if (!s.ok() || in.by_station.rows_size() == 0 || IsCity(node)) return s;
    activity::v1::ListPlacesRequest places;
    places.set_org_id(node.org_id());
    places.add_kinds(activity::v1::PLACE_KIND_RIDER_STATION);
    places.set_include_retired(true);
    places.set_page_size(100);
    for (int page = 0; page < kMaxPages; ++page) {
      activity::v1::ListPlacesResponse resp;
      s = ask("activity",
              [&](grpc::ClientContext* ctx) { return activity->ListPlaces(ctx, places, &resp); });
      if (!s.ok()) return s;
      for (const auto& p : resp.places()) in.station_names[p.place_id()] = p.name();
      if (resp.next_page_token().empty()) break;
      places.set_page_token(resp.next_page_token());
    }
    return absl::OkStatus();
  });
  jobs.push_back([&]() -> absl::Status {
    std::string token;
    for (int page = 0; page < kMaxPages; ++page) {
      auto req = redemptions(ScopeOf(node), rewards::v1::STATS_DIMENSION_DAY, token);
      rewards::v1::GetRedemptionStatsResponse resp;
      absl::Status s = ask("rewards", [&](grpc::ClientContext* ctx) {
        return rewards->GetRedemptionStats(ctx, req, &resp);
      });
      if (!s.ok()) return s;
      for (auto& row : *resp.mutable_rows()) in.by_day.push_back(std::move(row));
      token = resp.next_page_token();
      if (token.empty()) break;
    }
    return absl::OkStatus();
  });
  if (absl::Status s = RunAll(std::move(jobs)); !s.ok()) return s;
  return in;
}

}  // namespace civicpoints::insights
