// The story's money flows run at once through the gateway's gRPC face, for the fault rounds:
//   records      riders report services, community staff verify them (awards via the relay)
//   redemptions  riders order gifts (hold, stock), keepers hand them over (capture) or riders
//                cancel (release); some stay READY
//   activities   staff open an activity, riders enrol and check in at the station, staff confirm
//                (awards via the relay)
//   reads        the street's ranking and riders' balances
// Every mutation carries an idempotency key and is retried with it through crashes (UNAVAILABLE,
// DEADLINE_EXCEEDED, ...) for up to half a minute; what finally answers OK is remembered as
// acknowledged, for the invariants to find in the books afterwards.
#ifndef CIVICPOINTS_TESTS_FAULT_LOAD_DRIVER_H_
#define CIVICPOINTS_TESTS_FAULT_LOAD_DRIVER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "tests/fault/invariants.h"

namespace grpc {
class Channel;
}

namespace civicpoints::fault {

struct LoadOptions {
  std::string gateway_addr;
  std::string admin_phone, admin_password;
  uint64_t seed = 1;
  // Each rider may submit 20 service records a day: 40 keep the records flowing for an hour.
  int riders = 40;
  int gift_stock = 40;  // per gift at the station: small enough to sell out
};

// Calls made, by outcome, for the summary.
struct CallCounts {
  int64_t ok = 0;
  int64_t retried = 0;   // attempts that failed and were tried again
  int64_t given_up = 0;  // mutations still failing after the retry budget
  int64_t refused = 0;   // answered with a business refusal (sold out, too few points, ...)
  // "Method CODE" → count, of the refusals and of the calls given up.
  std::map<std::string, int64_t> refusals;
  std::map<std::string, int64_t> give_ups;
};

class LoadDriver {
 public:
  explicit LoadDriver(LoadOptions options);
  ~LoadDriver();

  // The city for the run: an org tree, staff, a station, riders checked in with a first award,
  // gifts stocked and an exchange window open. Runs before any fault.
  absl::Status Setup();
  // Starts the flows' threads; Stop() asks them to finish their current step and joins them.
  void Start();
  void Stop();

  Acknowledged acknowledged() const;
  CallCounts counts() const;
  const std::string& admin_token() const { return admin_token_; }
  // A new access token for the admin (tokens last 15 minutes); "" when the login failed.
  std::string LogAdminInAgain() const;
  const std::string& street() const { return street_; }

  struct Person {
    std::string id, phone, password, token;
  };

 private:
  class Session;

  void RecordsFlow(int worker);
  void RedemptionsFlow(int worker);
  void ActivitiesFlow(int worker);
  void ReadsFlow(int worker);
  void Restock(Session& session, int64_t n);
  // A new rider, registered with the community's check-in code, added to the pool (nullptr when
  // registration failed through every retry).
  Person* RegisterRider(Session& session, const std::string& key);
  Person& PickRider(std::mt19937_64& rng);
  std::string NextPhone();

  LoadOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string tag_;
  std::string admin_token_;
  std::string community_, street_, station_, window_;
  std::vector<std::string> gifts_;
  Person staff_, street_staff_, keeper_;
  std::string community_code_, policy_version_;
  std::vector<int> consent_purposes_;  // identity.v1.ConsentPurpose values
  std::atomic<int64_t> phone_serial_{0};
  // Riders join during the run (each may submit 20 records a day); a deque keeps references to
  // those already in it valid as it grows.
  absl::Mutex riders_mu_;
  std::deque<Person> riders_ ABSL_GUARDED_BY(riders_mu_);

  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;

  mutable absl::Mutex mu_;
  Acknowledged acked_ ABSL_GUARDED_BY(mu_);
  CallCounts counts_ ABSL_GUARDED_BY(mu_);
  // Riders' tokens are refreshed by whichever flow finds one expired.
  absl::Mutex tokens_mu_;
};

}  // namespace civicpoints::fault

#endif  // CIVICPOINTS_TESTS_FAULT_LOAD_DRIVER_H_
