#include "common/server/service_token.h"

#include "common/server/peer_channel.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/status/grpc_status.h"

namespace civicpoints::server {

absl::Status AttachServiceToken(ServiceToken& token, grpc::ClientContext& ctx) {
  absl::StatusOr<std::string> t = token.Get();
  if (!t.ok()) return t.status();
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", *t));
  return absl::OkStatus();
}

ApiKeyServiceToken::ApiKeyServiceToken(const std::string& identity_addr, std::string api_key,
                                       Options options)
    // Reconnecting on the renewals' own backoff: the token is back within one step of identity's.
    : channel_(PeerChannel(
          identity_addr, {.min_backoff = options.min_backoff, .max_backoff = options.max_backoff})),
      api_key_(std::move(api_key)),
      options_(options),
      renewer_([this] { RenewLoop(); }) {}

ApiKeyServiceToken::~ApiKeyServiceToken() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  renewer_.join();
}

bool ApiKeyServiceToken::HasValidToken(absl::Time now) const { return now < valid_until_; }

absl::StatusOr<std::string> ApiKeyServiceToken::Get() {
  absl::MutexLock lock(&mu_);
  if (HasValidToken(absl::Now())) return token_;
  // Only before the first exchange has answered is there anything worth waiting for.
  if (!attempted_) {
    auto first_answer = [this]()
                            ABSL_SHARED_LOCKS_REQUIRED(mu_) { return attempted_ || stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&first_answer), options_.first_token_wait);
    if (HasValidToken(absl::Now())) return token_;
    if (!attempted_) {
      return absl::UnavailableError("cannot get a service token from identity: no answer yet");
    }
  }
  if (last_error_.ok()) return absl::UnavailableError("the service token expired; renewing");
  return last_error_;
}

int ApiKeyServiceToken::exchanges() const {
  absl::MutexLock lock(&mu_);
  return exchanges_;
}

void ApiKeyServiceToken::RenewLoop() {
  auto stub = identity::v1::IdentityService::NewStub(channel_);
  absl::Time next_attempt = absl::Now();
  absl::Duration backoff = options_.min_backoff;
  mu_.Lock();
  while (true) {
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), next_attempt);
    if (stopping_) break;
    ++exchanges_;
    mu_.Unlock();
    // The exchange runs with no lock held: Get keeps answering from the current token meanwhile.
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
    identity::v1::ExchangeApiKeyRequest req;
    req.set_api_key(api_key_);
    identity::v1::ExchangeApiKeyResponse resp;
    const grpc::Status s = stub->ExchangeApiKey(&ctx, req, &resp);
    const absl::Time now = absl::Now();
    mu_.Lock();
    attempted_ = true;
    if (s.ok()) {
      token_ = resp.access_token();
      const absl::Duration lifetime =
          std::min(absl::FromUnixSeconds(resp.access_token_expire_time().seconds()) - now,
                   options_.max_lifetime);
      // Handed out only while it will still be valid on arrival: up to 5 s before it expires.
      valid_until_ = now + lifetime - std::min(absl::Seconds(5), lifetime / 10);
      last_error_ = absl::OkStatus();
      backoff = options_.min_backoff;
      next_attempt = now + std::max(lifetime / 2, absl::Seconds(1));
      continue;
    }
    const absl::Status st = FromGrpcStatus(s);
    last_error_ = absl::Status(
        st.code(), absl::StrCat("cannot get a service token from identity: ", st.message()));
    next_attempt = now + backoff;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  mu_.Unlock();
}

absl::StatusOr<std::string> ReadApiKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read API key file '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  std::string key(absl::StripAsciiWhitespace(text.str()));
  if (!absl::StartsWith(key, "cpk_") || key.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("API key file '", path, "' does not hold one cpk_<id>_<secret> key"));
  }
  return key;
}

}  // namespace civicpoints::server
