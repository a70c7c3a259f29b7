#include "tools/demo/gateway_client.h"

#include <algorithm>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"

namespace civicpoints::demo {
namespace {

// The gateway's rate limiter answers with a retry-after of a second or two; identity's login and
// registration throttles answer with minutes, which are not worth waiting for.
constexpr absl::Duration kLongestWait = absl::Seconds(5);
constexpr absl::Duration kCallDeadline = absl::Seconds(30);

std::optional<absl::Duration> RetryAfter(const grpc::ClientContext& ctx) {
  auto it = ctx.GetServerTrailingMetadata().find("retry-after");
  if (it == ctx.GetServerTrailingMetadata().end()) return std::nullopt;
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &seconds)) {
    return std::nullopt;
  }
  return absl::Seconds(std::max<int64_t>(seconds, 0));
}

}  // namespace

GatewayClient::GatewayClient(const std::string& address)
    : channel_(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
      identity_(identity::v1::IdentityService::NewStub(channel_)),
      activity_(activity::v1::ActivityService::NewStub(channel_)),
      ledger_(ledger::v1::LedgerService::NewStub(channel_)),
      rewards_(rewards::v1::RewardsService::NewStub(channel_)) {}

absl::Status GatewayClient::Retrying(
    const std::string& what, const std::function<grpc::Status(grpc::ClientContext*)>& attempt) {
  const absl::Time give_up = absl::Now() + patience_;
  absl::Duration backoff = absl::Milliseconds(200);
  while (true) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
    grpc::Status status = attempt(&ctx);
    if (status.ok()) return absl::OkStatus();
    std::optional<absl::Duration> wait;
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      wait = RetryAfter(ctx);
      if (wait && *wait > kLongestWait) wait.reset();
      if (wait) *wait = std::max(*wait, absl::Milliseconds(250));
    } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      wait = backoff;
      backoff = std::min(backoff * 2, absl::Seconds(3));
    }
    if (!wait || absl::Now() + *wait > give_up) {
      absl::Status out = FromGrpcStatus(status);
      return absl::Status(out.code(), absl::StrCat(what, ": ", out.message()));
    }
    absl::SleepFor(*wait);
  }
}

}  // namespace civicpoints::demo
