#include "services/gateway/api_key_exchanger.h"

#include <grpcpp/grpcpp.h>

#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/status/grpc_status.h"

namespace civicpoints::gateway {
namespace {

// A token is used until this long before it expires, so it never expires in flight.
constexpr absl::Duration kMargin = absl::Minutes(1);

}  // namespace

ApiKeyExchanger::ApiKeyExchanger(std::shared_ptr<grpc::Channel> identity, absl::Duration timeout,
                                 size_t max_keys)
    : identity_(std::move(identity)), timeout_(timeout), max_keys_(max_keys) {}

std::optional<std::string> ApiKeyExchanger::Cached(absl::string_view api_key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = tokens_.find(api_key);
  if (it == tokens_.end() || now >= it->second.refresh_at) return std::nullopt;
  return it->second.token;
}

absl::StatusOr<std::string> ApiKeyExchanger::TokenFor(absl::string_view api_key, absl::Time now) {
  if (std::optional<std::string> cached = Cached(api_key, now)) return *std::move(cached);
  identity::v1::ExchangeApiKeyRequest request;
  request.set_api_key(std::string(api_key));
  identity::v1::ExchangeApiKeyResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(now + timeout_));
  grpc::Status s =
      identity::v1::IdentityService::NewStub(identity_)->ExchangeApiKey(&ctx, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  const absl::Time expires = absl::FromUnixSeconds(response.access_token_expire_time().seconds());
  absl::MutexLock lock(&mu_);
  if (tokens_.size() >= max_keys_) {
    absl::erase_if(tokens_, [&](const auto& e) { return now >= e.second.refresh_at; });
    if (tokens_.size() >= max_keys_) tokens_.clear();
  }
  tokens_[std::string(api_key)] = Entry{response.access_token(), expires - kMargin};
  return response.access_token();
}

}  // namespace civicpoints::gateway
