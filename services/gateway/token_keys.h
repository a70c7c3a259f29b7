// TokenKeys: the keys that verify access tokens at the gateway, looked up without ever waiting on
// identity — the keys of a JWKS file (development mode only) and identity's published keys,
// fetched by an asynchronous ListPublicKeys call at creation, again when older than the max age
// identity announces (300 s; the old keys serve meanwhile), and when a token names a kid not
// known yet (at most once every `min_refresh`, so forged kids cannot flood identity). Find never
// blocks: an unknown kid is NOT_FOUND until a refresh brings it; the Gatekeeper asks
// KnowsKidOf first and waits for the refresh by callback (AfterRefresh). Identity unreachable:
// the last keys stay in use. Thread-safe; destruction cancels a fetch in flight and waits for it.
//
//   auto keys = std::make_shared<TokenKeys>(file_keys, identity_channel);
//   auth::Authorizer authorizer(std::make_shared<auth::TokenVerifier>(keys));
//   if (!keys->KnowsKidOf(header)) keys->AfterRefresh([=] { ...authorizer.AuthorizeHeader... });
#ifndef CIVICPOINTS_SERVICES_GATEWAY_TOKEN_KEYS_H_
#define CIVICPOINTS_SERVICES_GATEWAY_TOKEN_KEYS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/jwt.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace civicpoints::gateway {

class TokenKeys final : public auth::KeyProvider {
 public:
  // `identity` may be null: the file's keys only. Starts the first fetch.
  TokenKeys(auth::KeySet file_keys, std::shared_ptr<grpc::Channel> identity,
            absl::Duration min_refresh = absl::Seconds(10),
            absl::Duration timeout = absl::Seconds(2));
  ~TokenKeys() override;

  // The key of `kid`, from what is at hand. Never waits; starts a refresh in the background when
  // the keys are older than their max age or `kid` is unknown. Errors: NOT_FOUND.
  absl::StatusOr<auth::Ed25519PublicKey> Find(const std::string& kid) override;

  // Whether verifying `authorization` ("Bearer <jwt>") needs no key that is missing: true when
  // its kid is at hand, and for a malformed token (refused without a key).
  bool KnowsKidOf(absl::string_view authorization);

  // Runs `then` once, after a fetch that may bring new keys: the one in flight, or one started
  // now; at once, on this thread, when a fetch is not allowed yet (min_refresh) or there is no
  // identity. Otherwise `then` runs on a gRPC thread.
  void AfterRefresh(std::function<void()> then);

  // Fetches completed (for tests).
  int fetches();

 private:
  struct Fetch;
  // A fetch to launch, or null when one is in flight or there is no identity. The call itself
  // is made by Launch with mu_ released (its callback takes mu_).
  Fetch* PrepareFetch(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Launch(Fetch* fetch) ABSL_LOCKS_EXCLUDED(mu_);
  void Fetched(Fetch* fetch, bool ok) ABSL_LOCKS_EXCLUDED(mu_);

  const auth::KeySet file_keys_;
  std::shared_ptr<grpc::Channel> identity_;
  const absl::Duration min_refresh_;
  const absl::Duration timeout_;
  absl::Mutex mu_;
  std::map<std::string, auth::Ed25519PublicKey> keys_ ABSL_GUARDED_BY(mu_);
  absl::Time fetched_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time tried_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration max_age_ ABSL_GUARDED_BY(mu_) = absl::Seconds(300);
  grpc::ClientContext* in_flight_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::vector<std::function<void()>> waiting_ ABSL_GUARDED_BY(mu_);
  int fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

// The kid in the header of a bearer token ("Bearer <jwt>"), or "" when it has none or is
// malformed.
std::string KidOf(absl::string_view authorization);

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_TOKEN_KEYS_H_
