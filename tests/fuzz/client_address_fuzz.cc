// The caller's address from the forwarding headers a client may forge (Forwarded, RFC 7239, and
// X-Forwarded-For), as the gateway reads them behind trusted proxies; and the trusted-proxies
// setting itself. Property: the address is the peer or an IP address the headers named (which
// may be in a trusted network when every hop after it is a trusted proxy: a client inside).
#include "services/gateway/client_address.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using civicpoints::gateway::TrustedProxies;
  civicpoints::fuzz::FuzzInput in(data, size);
  const std::string setting = in.String(80);
  const absl::StatusOr<TrustedProxies> parsed = TrustedProxies::Parse(setting);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  } else {
    (void)parsed->Contains(setting);
  }

  static const TrustedProxies* proxies =
      new TrustedProxies(*TrustedProxies::Parse("10.0.0.0/8, 127.0.0.1, fd00::/8"));
  const std::string peer = (in.Byte() & 1) != 0 ? "10.1.2.3:5555" : "198.51.100.7:443";
  const std::string x_forwarded_for = in.String();
  const std::string forwarded = in.Rest();
  const std::string caller = proxies->ClientAddress(peer, x_forwarded_for, forwarded);
  if (caller == peer) return 0;
  FUZZ_CHECK(TrustedProxies::Parse(caller).ok());
  return 0;
}
