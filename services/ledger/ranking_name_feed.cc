#include "services/ledger/ranking_name_feed.h"

#include <grpcpp/grpcpp.h>

#include <utility>
#include <vector>

#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/log/log.h"
#include "common/server/service_token.h"
#include "common/status/grpc_status.h"

namespace civicpoints::ledger {

RankingNameFeed::RankingNameFeed(std::shared_ptr<grpc::Channel> identity,
                                 server::ServiceToken* token, RankingNames* names,
                                 RankingNameFeedOptions options)
    : identity_(std::move(identity)), token_(token), names_(names), options_(options) {}

RankingNameFeed::~RankingNameFeed() { Stop(); }

void RankingNameFeed::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void RankingNameFeed::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<int64_t> RankingNameFeed::PullOnce() {
  absl::MutexLock pull(&pull_mu_);
  auto stub = identity::v1::IdentityService::NewStub(identity_);
  int64_t set = 0;
  for (;;) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
    if (absl::Status s = server::AttachServiceToken(*token_, ctx); !s.ok()) return s;
    identity::v1::ListRankingNamesRequest req;
    req.set_after(after_);
    req.set_page_size(options_.page_size);
    identity::v1::ListRankingNamesResponse resp;
    if (grpc::Status s = stub->ListRankingNames(&ctx, req, &resp); !s.ok()) {
      return FromGrpcStatus(s);
    }
    std::vector<std::pair<std::string, std::string>> page;
    page.reserve(resp.names_size());
    for (const identity::v1::RankingName& n : resp.names())
      page.emplace_back(n.person_id(), n.name());
    names_->Set(page);
    set += resp.names_size();
    after_ = resp.next_after();
    if (!resp.more()) return set;
  }
}

void RankingNameFeed::Loop() {
  bool failing = false;
  for (;;) {
    absl::StatusOr<int64_t> pulled = PullOnce();
    if (!pulled.ok() && !failing) {
      log::Warn("rankings show riders' names as of the last pull until identity answers",
                {{"error", std::string(pulled.status().message())}});
    } else if (pulled.ok() && failing) {
      log::Info("rankings follow identity's names again");
    }
    failing = !pulled.ok();
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                             failing ? options_.retry : options_.poll)) {
      return;
    }
  }
}

}  // namespace civicpoints::ledger
