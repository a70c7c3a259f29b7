#include "services/gateway/token_keys.h"

#include <grpcpp/grpcpp.h>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/log/log.h"

namespace civicpoints::gateway {

struct TokenKeys::Fetch {
  grpc::ClientContext context;
  identity::v1::ListPublicKeysRequest request;
  identity::v1::ListPublicKeysResponse response;
  std::unique_ptr<identity::v1::IdentityService::Stub> stub;
};

std::string KidOf(absl::string_view authorization) {
  if (!absl::ConsumePrefix(&authorization, "Bearer ")) return "";
  const size_t dot = authorization.find('.');
  if (dot == absl::string_view::npos) return "";
  std::string header;
  if (!auth::Base64UrlDecode(authorization.substr(0, dot), &header)) return "";
  nlohmann::json h = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (!h.is_object() || !h.contains("kid") || !h["kid"].is_string()) return "";
  return h["kid"].get<std::string>();
}

TokenKeys::TokenKeys(auth::KeySet file_keys, std::shared_ptr<grpc::Channel> identity,
                     absl::Duration min_refresh, absl::Duration timeout)
    : file_keys_(std::move(file_keys)),
      identity_(std::move(identity)),
      min_refresh_(min_refresh),
      timeout_(timeout) {
  Fetch* fetch;
  {
    absl::MutexLock lock(&mu_);
    fetch = PrepareFetch(absl::Now());
  }
  Launch(fetch);
}

TokenKeys::~TokenKeys() {
  absl::MutexLock lock(&mu_);
  if (in_flight_ != nullptr) in_flight_->TryCancel();
  mu_.Await(absl::Condition(
      +[](grpc::ClientContext** in_flight) { return *in_flight == nullptr; }, &in_flight_));
}

int TokenKeys::fetches() {
  absl::MutexLock lock(&mu_);
  return fetches_;
}

TokenKeys::Fetch* TokenKeys::PrepareFetch(absl::Time now) {
  if (identity_ == nullptr || in_flight_ != nullptr) return nullptr;
  tried_at_ = now;
  auto fetch = std::make_unique<Fetch>();
  fetch->context.set_deadline(absl::ToChronoTime(now + timeout_));
  fetch->stub = identity::v1::IdentityService::NewStub(identity_);
  in_flight_ = &fetch->context;
  return fetch.release();
}

void TokenKeys::Launch(Fetch* f) {
  if (f == nullptr) return;
  f->stub->async()->ListPublicKeys(&f->context, &f->request, &f->response,
                                   [this, f](grpc::Status s) {
                                     if (!s.ok()) {
                                       log::Warn(
                                           "cannot fetch token keys from identity; keeping the "
                                           "last ones",
                                           {{"error", s.error_message()}});
                                     }
                                     Fetched(f, s.ok());
                                   });
}

void TokenKeys::Fetched(Fetch* fetch, bool ok) {
  std::unique_ptr<Fetch> owned(fetch);
  std::map<std::string, auth::Ed25519PublicKey> keys;
  if (ok) {
    for (const identity::v1::SigningKey& k : fetch->response.keys()) {
      std::string raw;
      auth::Ed25519PublicKey key;
      if (!auth::Base64UrlDecode(k.public_key(), &raw) || raw.size() != key.size()) continue;
      std::copy(raw.begin(), raw.end(), key.begin());
      keys[k.kid()] = key;
    }
  }
  std::vector<std::function<void()>> waiting;
  {
    absl::MutexLock lock(&mu_);
    if (ok) {
      keys_ = std::move(keys);
      fetched_at_ = absl::Now();
      if (fetch->response.max_age_seconds() > 0) {
        max_age_ = absl::Seconds(fetch->response.max_age_seconds());
      }
    }
    ++fetches_;
    in_flight_ = nullptr;
    waiting.swap(waiting_);
  }
  for (auto& then : waiting) then();
}

absl::StatusOr<auth::Ed25519PublicKey> TokenKeys::Find(const std::string& kid) {
  if (const auth::Ed25519PublicKey* key = file_keys_.Find(kid)) return *key;
  Fetch* fetch = nullptr;
  absl::StatusOr<auth::Ed25519PublicKey> found;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    auto it = keys_.find(kid);
    const bool stale = now - fetched_at_ >= max_age_;
    // A stale set is fetched again (once a second at most while identity is away); an unknown
    // kid at most every min_refresh.
    if ((stale && now - tried_at_ >= absl::Seconds(1)) ||
        (it == keys_.end() && now - tried_at_ >= min_refresh_)) {
      fetch = PrepareFetch(now);
    }
    if (it != keys_.end()) {
      found = it->second;
    } else {
      found = absl::NotFoundError(absl::StrCat("no published key with kid '", kid, "'"));
    }
  }
  Launch(fetch);
  return found;
}

bool TokenKeys::KnowsKidOf(absl::string_view authorization) {
  const std::string kid = KidOf(authorization);
  if (kid.empty() || file_keys_.Find(kid) != nullptr) return true;
  absl::MutexLock lock(&mu_);
  return keys_.contains(kid);
}

void TokenKeys::AfterRefresh(std::function<void()> then) {
  Fetch* fetch = nullptr;
  bool waits = false;
  {
    absl::MutexLock lock(&mu_);
    if (in_flight_ == nullptr && absl::Now() - tried_at_ >= min_refresh_) {
      fetch = PrepareFetch(absl::Now());
    }
    waits = in_flight_ != nullptr;
    if (waits) waiting_.push_back(std::move(then));
  }
  if (!waits) {
    then();
    return;
  }
  Launch(fetch);
}

}  // namespace civicpoints::gateway
