// RankingNameFeed: follows identity's ListRankingNames into RankingNames (ranking_names.h). At
// start it reads the whole feed (every rider), then asks for what changed every `poll`; a failed
// call is tried again after `retry`, from the same cursor, so nothing is missed. Each ledger
// process follows the feed on its own: the names live only in its memory, and identity is where
// they come from again after a restart. While identity cannot be reached the names known stay;
// riders named since show without a name. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_LEDGER_RANKING_NAME_FEED_H_
#define CIVICPOINTS_SERVICES_LEDGER_RANKING_NAME_FEED_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/ledger/ranking_names.h"

namespace grpc {
class Channel;
}
namespace civicpoints::server {
class ServiceToken;
}

namespace civicpoints::ledger {

struct RankingNameFeedOptions {
  absl::Duration poll = absl::Seconds(1);
  absl::Duration retry = absl::Seconds(2);
  absl::Duration timeout = absl::Seconds(5);  // per call
  int page_size = 1000;
};

class RankingNameFeed {
 public:
  // `token` and `names` must outlive the feed.
  RankingNameFeed(std::shared_ptr<grpc::Channel> identity, server::ServiceToken* token,
                  RankingNames* names, RankingNameFeedOptions options = {});
  ~RankingNameFeed();  // stops the thread

  void Start();
  void Stop();

  // Reads every page of changes after the cursor, on the caller's thread; returns how many names
  // it set. Errors: identity's (UNAVAILABLE while it is down); the cursor stays where the last
  // page that arrived left it.
  absl::StatusOr<int64_t> PullOnce();

 private:
  void Loop();

  const std::shared_ptr<grpc::Channel> identity_;
  server::ServiceToken* const token_;
  RankingNames* const names_;
  const RankingNameFeedOptions options_;
  absl::Mutex pull_mu_;  // one pull at a time
  std::string after_ ABSL_GUARDED_BY(pull_mu_);
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_RANKING_NAME_FEED_H_
