// DemoLoader puts the story of SEED-STORY.md into a running suite through the gateway's public
// gRPC API, as the people of the story would: the admin builds the org tree and creates the staff,
// staff set up places, posts, rules, gifts and the exchange window, riders register, check in,
// claim posts and report their services, staff verify, and the awards travel activity → ledger.
//
// Idempotent: every write carries an idempotency key or a natural key, and phases whose result is
// already there (riders checked in, points held, stock delivered, the window open) are skipped
// after a lookup, so running it again changes nothing. Not thread-safe itself; it runs its own
// worker threads for the per-rider work.
#ifndef CIVICPOINTS_TOOLS_DEMO_LOADER_H_
#define CIVICPOINTS_TOOLS_DEMO_LOADER_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tools/demo/gateway_client.h"
#include "tools/demo/story.h"

namespace civicpoints::demo {

struct DemoOptions {
  std::string admin_phone = "13900000000";
  // The bootstrap admin's password, which must be changed at first login ...
  std::string admin_password = "Dev-admin-2026";
  // ... to this one (the admin keeps it on later runs).
  std::string admin_demo_password = "Demo-admin-2026";
  // The street and community workers' password after their first login.
  std::string staff_password = "Staff-demo-2026";
  std::string rider_password = "Rider-demo-2026";
  int threads = 4;
  // How long to wait for the award relay to bring every rider's points to the ledger.
  absl::Duration award_wait = absl::Minutes(2);
};

struct DemoAccount {
  std::string title;
  std::string phone;
  std::string password;
};

// What the loaded suite shows, read back through the gateway.
struct DemoSummary {
  std::vector<DemoAccount> accounts;
  std::string community_id, street_id;
  int riders_checked_in = 0;
  int stations = 0;
  int love_corners = 0;
  std::string leader_id, leader_name;
  int64_t leader_points = 0;
  int64_t leader_rank = 0;
  std::string window_id, window_title, window_rule;
  int window_eligible = 0;
};

struct Session {
  std::string person_id;
  std::string token;
};

class DemoLoader {
 public:
  DemoLoader(GatewayClient* gw, DemoOptions options);

  // Loads whatever is missing and reads the figures back. Errors: the first failed call's status
  // (its message names the request); DEADLINE_EXCEEDED when the awards did not all reach the
  // ledger within options.award_wait.
  absl::StatusOr<DemoSummary> Run();

 private:
  // loader_people.cc
  absl::Status SignInAdmin();
  absl::Status LoadOrgTree();
  absl::Status LoadStaff();
  absl::StatusOr<Session> SignInStaff(const StaffSpec& spec, const std::string& person_id);
  // loader_places.cc
  absl::Status LoadPlaces();
  absl::Status LoadPosts();
  absl::Status LoadRules();
  // loader_riders.cc
  absl::Status LoadRiders();
  absl::Status LoadClaims();
  absl::StatusOr<std::string> RiderToken(int index);
  // loader_history.cc
  absl::Status LoadHistory();
  absl::Status LoadPendingReports();
  absl::Status LoadProblemCase();
  absl::Status AwaitAwards();
  // loader_rewards.cc
  absl::Status LoadRewards();
  absl::Status LoadUpcomingActivities();
  // loader.cc
  absl::StatusOr<DemoSummary> Summarise();
  // Runs fn(0..n-1) on the loader's threads; returns the first error (and starts no more work
  // after it).
  absl::Status ForEach(int n, const std::function<absl::Status(int)>& fn);
  // The staff member who reviews rider `index`'s work: the two workers share the load, which
  // also halves the wait on the gateway's per-caller rate limit.
  const Session& Reviewer(int index) const;

  const std::string& Org(const std::string& code) const { return org_ids_.at(code); }
  const std::string& Community() const { return Org(kQingyuanWestCode); }
  const std::string& Street() const { return Org(kQingyuanStreetCode); }

  GatewayClient* gw_;
  DemoOptions opt_;
  Session admin_;
  std::string admin_password_now_;
  std::map<std::string, std::string> org_ids_;  // code → org id
  absl::Time anchor_;                           // when 清远西街社区 was created
  Session street_, community_, department_;
  std::vector<std::string> place_ids_;  // StoryPlaces() order
  std::string venue_id_;
  std::map<int, std::string> post_ids_;  // PostKind → post id
  std::vector<std::string> rider_ids_;   // StoryRiders() order
  std::vector<bool> history_loaded_;     // riders whose history this run entered
  absl::Mutex mu_;
  std::map<int, std::string> rider_tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace civicpoints::demo

#endif  // CIVICPOINTS_TOOLS_DEMO_LOADER_H_
