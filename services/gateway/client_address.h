// TrustedProxies: who is calling when the gateway stands behind proxies (an ingress, a load
// balancer). The TCP peer is the caller unless it is one of the trusted proxies (CIDRs, the
// gateway's trusted_proxies setting; none by default); then the caller is read from
// `Forwarded` (RFC 7239) or, without it, `X-Forwarded-For`, walking the chain from the right and
// skipping hops that are trusted proxies too. A chain with a hop that is not an IP address
// ("unknown", an obfuscated name, garbage) leaves the peer, so a forged header can at worst make
// its sender share the proxy's limits. Immutable after Parse; thread-safe.
//
//   ASSIGN_OR_RETURN(TrustedProxies proxies, TrustedProxies::Parse("10.0.0.0/8, fd00::/8"));
//   std::string caller = proxies.ClientAddress(peer, x_forwarded_for, forwarded);
#ifndef CIVICPOINTS_SERVICES_GATEWAY_CLIENT_ADDRESS_H_
#define CIVICPOINTS_SERVICES_GATEWAY_CLIENT_ADDRESS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace civicpoints::gateway {

class TrustedProxies {
 public:
  TrustedProxies() = default;  // trusts nobody

  // `cidrs`: comma-separated IPv4 or IPv6 networks ("10.0.0.0/8", "fd00::/8") or single
  // addresses; empty trusts nobody. Errors: INVALID_ARGUMENT naming the entry that is neither.
  static absl::StatusOr<TrustedProxies> Parse(absl::string_view cidrs);

  bool empty() const { return nets_.empty(); }
  // Whether `address` (an IP address, optionally with a port) is in one of the networks.
  bool Contains(absl::string_view address) const;

  // The caller's address: `peer` unless it is trusted and the forwarding headers name another
  // (see above). Headers sent several times are passed joined by ", ".
  std::string ClientAddress(absl::string_view peer, absl::string_view x_forwarded_for,
                            absl::string_view forwarded) const;

 private:
  struct Ip {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4
  };
  struct Net {
    Ip base;
    int prefix = 0;
  };
  static std::optional<Ip> ParseIp(absl::string_view text);
  static std::string Format(const Ip& ip);
  bool Contains(const Ip& ip) const;

  std::vector<Net> nets_;
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_CLIENT_ADDRESS_H_
