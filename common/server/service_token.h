// ServiceToken: the access token a service presents when it calls another service of the suite
// (activity → ledger Award, rewards → ledger Hold, activity → identity GetPerson). A service holds
// an API key of an internal service account (ROLE_INTERNAL_SERVICE, at the city root); the token
// comes from identity's ExchangeApiKey and is renewed in the background at half its lifetime, so
// calls between services cost identity one exchange per ~7 minutes per process and never wait on
// identity. Thread-safe.
#ifndef CIVICPOINTS_COMMON_SERVER_SERVICE_TOKEN_H_
#define CIVICPOINTS_COMMON_SERVER_SERVICE_TOKEN_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace civicpoints::server {

class ServiceToken {
 public:
  virtual ~ServiceToken() = default;
  // A token valid for at least another minute. Errors: identity's status when a fresh token
  // cannot be had (UNAVAILABLE while identity is down, UNAUTHENTICATED for a revoked key).
  virtual absl::StatusOr<std::string> Get() = 0;
};

// Puts `authorization: Bearer <token>` on ctx. Errors: as ServiceToken::Get.
absl::Status AttachServiceToken(ServiceToken& token, grpc::ClientContext& ctx);

// Exchanges an API key with identity (at `identity_addr`) and keeps the token fresh from a
// background thread: it renews at half the token's lifetime, one exchange at a time, backing off
// (0.5 s doubling to 30 s) while identity fails, and keeps handing out the token it has until that
// expires. So an identity outage shorter than half a token's lifetime goes unnoticed, and a longer
// one makes Get fail at once (UNAVAILABLE) rather than wait: no caller ever waits on identity,
// except the very first callers after construction, who wait up to `first_token_wait` for the
// first exchange's outcome.
class ApiKeyServiceToken final : public ServiceToken {
 public:
  struct Options {
    absl::Duration call_timeout = absl::Seconds(3);
    absl::Duration first_token_wait = absl::Seconds(5);
    absl::Duration min_backoff = absl::Milliseconds(500);
    absl::Duration max_backoff = absl::Seconds(30);
    // The longest a token is used, whatever identity says (a clock far behind identity's would
    // otherwise see a token that never needs renewing).
    absl::Duration max_lifetime = absl::Minutes(15);
  };
  ApiKeyServiceToken(const std::string& identity_addr, std::string api_key)
      : ApiKeyServiceToken(identity_addr, std::move(api_key), Options()) {}
  ApiKeyServiceToken(const std::string& identity_addr, std::string api_key, Options options);
  // Stops the renewing thread (waits for an exchange in flight, at most `call_timeout`).
  ~ApiKeyServiceToken() override;

  // The token while it is valid for another 5 s (a tenth of its lifetime if that is shorter).
  // Errors: the last exchange's status when there is
  // no such token (UNAVAILABLE while identity is down, UNAUTHENTICATED for a revoked key).
  absl::StatusOr<std::string> Get() override;

  // How many exchanges were sent to identity (for tests and metrics).
  int exchanges() const;

 private:
  void RenewLoop();
  bool HasValidToken(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::shared_ptr<grpc::Channel> channel_;
  const std::string api_key_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time valid_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  bool attempted_ ABSL_GUARDED_BY(mu_) = false;  // the first exchange has answered
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int exchanges_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread renewer_;
};

// A token given once (tests that mint their own).
class FixedServiceToken final : public ServiceToken {
 public:
  explicit FixedServiceToken(std::string token) : token_(std::move(token)) {}
  absl::StatusOr<std::string> Get() override { return token_; }

 private:
  const std::string token_;
};

// The API key in `path` (surrounding whitespace dropped). Errors: INVALID_ARGUMENT naming the
// file when it cannot be read or does not hold a `cpk_` key.
absl::StatusOr<std::string> ReadApiKeyFile(const std::string& path);

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_SERVICE_TOKEN_H_
