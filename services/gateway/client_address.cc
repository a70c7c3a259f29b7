#include "services/gateway/client_address.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace civicpoints::gateway {
namespace {

// The `for=` value of one Forwarded element ("for=192.0.2.60;proto=https"), unquoted, or
// nullopt when the element has none.
std::optional<absl::string_view> ForwardedFor(absl::string_view element) {
  for (absl::string_view pair : absl::StrSplit(element, ';')) {
    pair = absl::StripAsciiWhitespace(pair);
    const size_t eq = pair.find('=');
    if (eq == absl::string_view::npos) continue;
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(pair.substr(0, eq)), "for")) continue;
    absl::string_view value = absl::StripAsciiWhitespace(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<TrustedProxies::Ip> TrustedProxies::ParseIp(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  std::string host;
  if (absl::ConsumePrefix(&text, "[")) {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) return std::nullopt;
    absl::string_view rest = text.substr(close + 1);
    int port;
    if (!rest.empty() && !(absl::ConsumePrefix(&rest, ":") && absl::SimpleAtoi(rest, &port))) {
      return std::nullopt;
    }
    host = std::string(text.substr(0, close));
  } else if (const size_t colon = text.find(':');
             colon != absl::string_view::npos &&
             text.find(':', colon + 1) == absl::string_view::npos) {
    int port;  // "192.0.2.43:47011"
    if (!absl::SimpleAtoi(text.substr(colon + 1), &port)) return std::nullopt;
    host = std::string(text.substr(0, colon));
  } else {
    host = std::string(text);
  }
  Ip ip;
  if (host.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, host.c_str(), ip.bytes.data()) != 1) return std::nullopt;
    return ip;
  }
  ip.v6 = true;
  if (inet_pton(AF_INET6, host.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ip.bytes.data(), kMapped, sizeof(kMapped)) == 0) {
    Ip v4;
    std::memcpy(v4.bytes.data(), ip.bytes.data() + 12, 4);
    return v4;
  }
  return ip;
}

std::string TrustedProxies::Format(const Ip& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), buf, sizeof(buf)) == nullptr) {
    return "";
  }
  return buf;
}

absl::StatusOr<TrustedProxies> TrustedProxies::Parse(absl::string_view cidrs) {
  TrustedProxies out;
  for (absl::string_view entry : absl::StrSplit(cidrs, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    auto bad = [&] {
      return absl::InvalidArgumentError(
          absl::StrCat("'", entry, "' is not an IP address or CIDR (e.g. 10.0.0.0/8, fd00::/8)"));
    };
    const size_t slash = entry.find('/');
    absl::string_view host = entry.substr(0, slash);
    if (host.empty() || host.front() == '[') return bad();
    std::optional<Ip> ip = ParseIp(host);
    // A port has no place in a network.
    if (!ip || (!ip->v6 && host.find(':') != absl::string_view::npos)) return bad();
    const int bits = ip->v6 ? 128 : 32;
    int prefix = bits;
    if (slash != absl::string_view::npos &&
        (!absl::SimpleAtoi(entry.substr(slash + 1), &prefix) || prefix < 0 || prefix > bits)) {
      return bad();
    }
    out.nets_.push_back({*ip, prefix});
  }
  return out;
}

bool TrustedProxies::Contains(const Ip& ip) const {
  for (const Net& net : nets_) {
    if (net.base.v6 != ip.v6) continue;
    const int full = net.prefix / 8;
    if (std::memcmp(net.base.bytes.data(), ip.bytes.data(), full) != 0) continue;
    const int rest = net.prefix % 8;
    if (rest != 0) {
      const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
      if ((net.base.bytes[full] & mask) != (ip.bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

bool TrustedProxies::Contains(absl::string_view address) const {
  std::optional<Ip> ip = ParseIp(address);
  return ip && Contains(*ip);
}

std::string TrustedProxies::ClientAddress(absl::string_view peer, absl::string_view x_forwarded_for,
                                          absl::string_view forwarded) const {
  if (nets_.empty()) return std::string(peer);
  std::optional<Ip> peer_ip = ParseIp(peer);
  if (!peer_ip || !Contains(*peer_ip)) return std::string(peer);
  std::vector<absl::string_view> chain;
  if (!absl::StripAsciiWhitespace(forwarded).empty()) {
    for (absl::string_view element : absl::StrSplit(forwarded, ',')) {
      std::optional<absl::string_view> hop = ForwardedFor(element);
      if (!hop) return std::string(peer);
      chain.push_back(*hop);
    }
  } else {
    chain = absl::StrSplit(x_forwarded_for, ',', absl::SkipWhitespace());
  }
  for (size_t i = chain.size(); i-- > 0;) {
    std::optional<Ip> hop = ParseIp(chain[i]);
    if (!hop) return std::string(peer);
    if (i > 0 && Contains(*hop)) continue;
    return Format(*hop);
  }
  return std::string(peer);
}

}  // namespace civicpoints::gateway
