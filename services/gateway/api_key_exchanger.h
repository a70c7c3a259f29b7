// ApiKeyExchanger: turns a city system's API key (`cpk_<id>_<secret>`) into an access token with
// identity's ExchangeApiKey, and keeps the token per key until a minute before it expires, so a
// city system calling the gateway costs identity one exchange per ~14 minutes per key. At most
// `max_keys` keys are remembered; when full, the least recently used one is forgotten. Never
// blocks on identity: the exchange is an asynchronous call, at most one per key at a time (callers
// of a key being exchanged wait for that exchange by callback), and at most
// kMaxExchangesInFlight at once. Thread-safe; destruction cancels the exchanges in flight and
// waits for their callbacks.
#ifndef CIVICPOINTS_SERVICES_GATEWAY_API_KEY_EXCHANGER_H_
#define CIVICPOINTS_SERVICES_GATEWAY_API_KEY_EXCHANGER_H_

#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace civicpoints::gateway {

class ApiKeyExchanger {
 public:
  static constexpr size_t kMaxExchangesInFlight = 256;
  using Done = std::function<void(absl::StatusOr<std::string>)>;

  ApiKeyExchanger(std::shared_ptr<grpc::Channel> identity, absl::Duration timeout,
                  size_t max_keys = 10000);
  ~ApiKeyExchanger();

  // The cached token of `api_key` if it is valid for another minute.
  std::optional<std::string> Cached(absl::string_view api_key, absl::Time now);

  // Runs `done` once with the token of `api_key`: at once, on this thread, when it is cached;
  // else on a gRPC thread when identity has answered. Errors: identity's answer
  // (UNAUTHENTICATED for an unknown, expired or revoked key; INVALID_ARGUMENT for a malformed
  // one; RESOURCE_EXHAUSTED when identity throttles it; UNAVAILABLE when identity is down or
  // kMaxExchangesInFlight other keys are being exchanged).
  void TokenFor(absl::string_view api_key, absl::Time now, Done done);

  // Keys remembered now.
  size_t size();

 private:
  struct Entry {
    std::string token;
    absl::Time refresh_at;
    std::list<std::string>::iterator lru;
  };
  struct Exchange;
  void Finished(Exchange* exchange, absl::StatusOr<std::string> token);

  std::shared_ptr<grpc::Channel> identity_;
  const absl::Duration timeout_;
  const size_t max_keys_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> tokens_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // front: used most recently
  // Key → the callers waiting for its exchange in flight.
  absl::flat_hash_map<std::string, std::vector<Done>> waiting_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_API_KEY_EXCHANGER_H_
