// ServiceToken: the access token a service presents when it calls another service of the suite
// (activity → ledger Award, rewards → ledger Hold, activity → identity GetPerson). A service holds
// an API key of an internal service account (ROLE_INTERNAL_SERVICE, at the city root); the token
// comes from identity's ExchangeApiKey and is reused until a minute before it expires, so calls
// between services cost identity one exchange per ~14 minutes per process. Thread-safe.
#ifndef CIVICPOINTS_COMMON_SERVER_SERVICE_TOKEN_H_
#define CIVICPOINTS_COMMON_SERVER_SERVICE_TOKEN_H_

#include <memory>
#include <string>

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

// Exchanges an API key with identity (at `identity_addr`) and caches the token.
class ApiKeyServiceToken final : public ServiceToken {
 public:
  ApiKeyServiceToken(const std::string& identity_addr, std::string api_key);
  absl::StatusOr<std::string> Get() override;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  const std::string api_key_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time expires_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
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
