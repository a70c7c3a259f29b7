#include "services/gateway/api_key_exchanger.h"

#include <grpcpp/grpcpp.h>

#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/status/grpc_status.h"

namespace civicpoints::gateway {
namespace {

// A token is used until this long before it expires, so it never expires in flight.
constexpr absl::Duration kMargin = absl::Minutes(1);

}  // namespace

struct ApiKeyExchanger::Exchange {
  std::string api_key;
  absl::Time started;
  grpc::ClientContext context;
  identity::v1::ExchangeApiKeyRequest request;
  identity::v1::ExchangeApiKeyResponse response;
  std::unique_ptr<identity::v1::IdentityService::Stub> stub;
};

ApiKeyExchanger::ApiKeyExchanger(std::shared_ptr<grpc::Channel> identity, absl::Duration timeout,
                                 size_t max_keys)
    : identity_(std::move(identity)), timeout_(timeout), max_keys_(std::max<size_t>(1, max_keys)) {}

ApiKeyExchanger::~ApiKeyExchanger() {
  absl::MutexLock lock(&mu_);
  for (auto& [key, ctx] : contexts_) ctx->TryCancel();
  mu_.Await(absl::Condition(
      +[](absl::flat_hash_map<std::string, grpc::ClientContext*>* c) { return c->empty(); },
      &contexts_));
}

std::optional<std::string> ApiKeyExchanger::Cached(absl::string_view api_key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = tokens_.find(api_key);
  if (it == tokens_.end() || now >= it->second.refresh_at) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.token;
}

size_t ApiKeyExchanger::size() {
  absl::MutexLock lock(&mu_);
  return tokens_.size();
}

void ApiKeyExchanger::TokenFor(absl::string_view api_key, absl::Time now, Done done) {
  if (std::optional<std::string> cached = Cached(api_key, now)) {
    done(*std::move(cached));
    return;
  }
  auto exchange = std::make_unique<Exchange>();
  bool busy = false;
  {
    absl::MutexLock lock(&mu_);
    auto waiting = waiting_.find(api_key);
    if (waiting != waiting_.end()) {
      waiting->second.push_back(std::move(done));
      return;
    }
    busy = waiting_.size() >= kMaxExchangesInFlight;
    if (!busy) {
      exchange->api_key = std::string(api_key);
      waiting_[exchange->api_key].push_back(std::move(done));
      contexts_[exchange->api_key] = &exchange->context;
    }
  }
  if (busy) {
    done(absl::UnavailableError("too many API keys being exchanged with identity at once; retry"));
    return;
  }
  exchange->started = now;
  exchange->request.set_api_key(exchange->api_key);
  exchange->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  exchange->stub = identity::v1::IdentityService::NewStub(identity_);
  Exchange* e = exchange.release();
  e->stub->async()->ExchangeApiKey(&e->context, &e->request, &e->response,
                                   [this, e](grpc::Status s) {
                                     if (!s.ok()) {
                                       Finished(e, FromGrpcStatus(s));
                                     } else {
                                       Finished(e, e->response.access_token());
                                     }
                                   });
}

void ApiKeyExchanger::Finished(Exchange* exchange, absl::StatusOr<std::string> token) {
  std::unique_ptr<Exchange> owned(exchange);
  std::vector<Done> waiters;
  {
    absl::MutexLock lock(&mu_);
    waiters = std::move(waiting_[exchange->api_key]);
    waiting_.erase(exchange->api_key);
    contexts_.erase(exchange->api_key);
    if (token.ok()) {
      const absl::Time expires =
          absl::FromUnixSeconds(exchange->response.access_token_expire_time().seconds());
      auto it = tokens_.find(exchange->api_key);
      if (it == tokens_.end()) {
        if (tokens_.size() >= max_keys_) {
          tokens_.erase(lru_.back());
          lru_.pop_back();
        }
        lru_.push_front(exchange->api_key);
        it =
            tokens_.emplace(exchange->api_key, Entry{"", absl::InfinitePast(), lru_.begin()}).first;
      } else {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
      }
      it->second.token = *token;
      it->second.refresh_at = expires - kMargin;
    }
  }
  for (Done& done : waiters) done(token);
}

}  // namespace civicpoints::gateway
