#include "common/server/service_token.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/status/grpc_status.h"

namespace civicpoints::server {

absl::Status AttachServiceToken(ServiceToken& token, grpc::ClientContext& ctx) {
  absl::StatusOr<std::string> t = token.Get();
  if (!t.ok()) return t.status();
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", *t));
  return absl::OkStatus();
}

ApiKeyServiceToken::ApiKeyServiceToken(const std::string& identity_addr, std::string api_key)
    : channel_(grpc::CreateChannel(identity_addr, grpc::InsecureChannelCredentials())),
      api_key_(std::move(api_key)) {}

absl::StatusOr<std::string> ApiKeyServiceToken::Get() {
  // One exchange at a time: callers arriving while it runs wait for its token rather than
  // sending identity a burst of exchanges (it throttles a key at 60 a minute).
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (now + absl::Minutes(1) < expires_) return token_;
  auto stub = identity::v1::IdentityService::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  identity::v1::ExchangeApiKeyRequest req;
  req.set_api_key(api_key_);
  identity::v1::ExchangeApiKeyResponse resp;
  grpc::Status s = stub->ExchangeApiKey(&ctx, req, &resp);
  if (!s.ok()) {
    absl::Status st = FromGrpcStatus(s);
    return absl::Status(st.code(),
                        absl::StrCat("cannot get a service token from identity: ", st.message()));
  }
  token_ = resp.access_token();
  expires_ = absl::FromUnixSeconds(resp.access_token_expire_time().seconds());
  // A clock far behind identity's would see a token that never needs renewing; cap at 15 min.
  expires_ = std::min(expires_, now + absl::Minutes(15));
  return token_;
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
