// ApiKeyExchanger: turns a city system's API key (`cpk_<id>_<secret>`) into an access token with
// identity's ExchangeApiKey, and keeps the token per key until a minute before it expires, so a
// city system calling the gateway costs identity one exchange per ~14 minutes per key. At most
// `max_keys` keys are remembered (the expired ones are dropped first, then all). Thread-safe; an
// exchange blocks the calling thread for one call to identity.
#ifndef CIVICPOINTS_SERVICES_GATEWAY_API_KEY_EXCHANGER_H_
#define CIVICPOINTS_SERVICES_GATEWAY_API_KEY_EXCHANGER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}

namespace civicpoints::gateway {

class ApiKeyExchanger {
 public:
  ApiKeyExchanger(std::shared_ptr<grpc::Channel> identity, absl::Duration timeout,
                  size_t max_keys = 10000);

  // The cached token of `api_key` if it is valid for another minute.
  std::optional<std::string> Cached(absl::string_view api_key, absl::Time now);

  // The cached token, or a fresh one from identity. Errors: identity's answer
  // (UNAUTHENTICATED for an unknown, expired or revoked key; INVALID_ARGUMENT for a malformed
  // one; RESOURCE_EXHAUSTED when identity throttles it; UNAVAILABLE when identity is down).
  absl::StatusOr<std::string> TokenFor(absl::string_view api_key, absl::Time now);

 private:
  struct Entry {
    std::string token;
    absl::Time refresh_at;
  };
  std::shared_ptr<grpc::Channel> identity_;
  const absl::Duration timeout_;
  const size_t max_keys_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_API_KEY_EXCHANGER_H_
