#include "common/server/identity_keys.h"
#include "common/server/peer_channel.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/log/log.h"
#include "common/status/grpc_status.h"

namespace civicpoints::server {

IdentityKeyProvider::IdentityKeyProvider(const std::string& address,
                                         std::shared_ptr<auth::KeyProvider> fallback,
                                         absl::Duration min_refresh)
    : channel_(PeerChannel(address)), fallback_(std::move(fallback)), min_refresh_(min_refresh) {}

absl::Status IdentityKeyProvider::Refresh() {
  auto stub = identity::v1::IdentityService::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  identity::v1::ListPublicKeysResponse resp;
  grpc::Status s = stub->ListPublicKeys(&ctx, {}, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  std::map<std::string, auth::Ed25519PublicKey> keys;
  for (const identity::v1::SigningKey& k : resp.keys()) {
    std::string raw;
    auth::Ed25519PublicKey key;
    if (!auth::Base64UrlDecode(k.public_key(), &raw) || raw.size() != key.size()) continue;
    std::copy(raw.begin(), raw.end(), key.begin());
    keys[k.kid()] = key;
  }
  absl::MutexLock lock(&mu_);
  keys_ = std::move(keys);
  fetched_at_ = absl::Now();
  if (resp.max_age_seconds() > 0) max_age_ = absl::Seconds(resp.max_age_seconds());
  return absl::OkStatus();
}

absl::StatusOr<auth::Ed25519PublicKey> IdentityKeyProvider::Find(const std::string& kid) {
  if (fallback_ != nullptr) {
    absl::StatusOr<auth::Ed25519PublicKey> key = fallback_->Find(kid);
    if (key.ok()) return key;
  }
  bool refresh = false;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    auto it = keys_.find(kid);
    const bool stale = now - fetched_at_ >= max_age_;
    if (it != keys_.end() && !stale) return it->second;
    // Unknown kid or stale cache: refresh, unless we just tried.
    if (now - tried_at_ >= min_refresh_ || (stale && now - tried_at_ >= absl::Seconds(1))) {
      tried_at_ = now;
      refresh = true;
    } else if (it != keys_.end()) {
      return it->second;
    }
  }
  if (refresh) {
    if (absl::Status s = Refresh(); !s.ok()) {
      log::Warn("cannot refresh token keys from identity; keeping the last ones",
                {{"error", std::string(s.message())}});
    }
  }
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(kid);
  if (it != keys_.end()) return it->second;
  return absl::NotFoundError(absl::StrCat("no published key with kid '", kid, "'"));
}

}  // namespace civicpoints::server
