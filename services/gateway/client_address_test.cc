#include "services/gateway/client_address.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace civicpoints::gateway {
namespace {

TrustedProxies Proxies(absl::string_view cidrs) {
  absl::StatusOr<TrustedProxies> p = TrustedProxies::Parse(cidrs);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : TrustedProxies();
}

TEST(TrustedProxiesTest, ParsesIpv4AndIpv6NetworksAndSingleAddresses) {
  TrustedProxies p = Proxies(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8, ::1");
  EXPECT_TRUE(p.Contains("10.200.3.4"));
  EXPECT_TRUE(p.Contains("192.168.1.7"));
  EXPECT_FALSE(p.Contains("192.168.1.8"));
  EXPECT_FALSE(p.Contains("11.0.0.1"));
  EXPECT_TRUE(p.Contains("fd12:3456::1"));
  EXPECT_TRUE(p.Contains("::1"));
  EXPECT_FALSE(p.Contains("2001:db8::1"));
  // An IPv4 peer seen through an IPv6 socket is the same address.
  EXPECT_TRUE(p.Contains("::ffff:10.1.2.3"));
  EXPECT_TRUE(Proxies("172.16.0.0/12").Contains("172.31.255.255"));
  EXPECT_FALSE(Proxies("172.16.0.0/12").Contains("172.32.0.0"));
  EXPECT_TRUE(Proxies("").empty());
}

TEST(TrustedProxiesTest, RefusesWhatIsNotANetworkNamingIt) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "fd00::/129", "ingress", "10.0.0.1:80",
                          "[::1]", "10.0.0.0/x", "/8"}) {
    absl::StatusOr<TrustedProxies> p = TrustedProxies::Parse(absl::StrCat("10.0.0.0/8,", bad));
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(bad), absl::string_view::npos) << p.status();
  }
}

TEST(TrustedProxiesTest, AnUntrustedPeersHeadersAreIgnored) {
  TrustedProxies p = Proxies("10.0.0.0/8");
  EXPECT_EQ(p.ClientAddress("203.0.113.9", "198.51.100.1", ""), "203.0.113.9");
  EXPECT_EQ(p.ClientAddress("203.0.113.9", "", "for=198.51.100.1"), "203.0.113.9");
  // Nobody is trusted by default.
  EXPECT_EQ(TrustedProxies().ClientAddress("10.0.0.1", "198.51.100.1", ""), "10.0.0.1");
}

TEST(TrustedProxiesTest, ATrustedPeersChainIsWalkedFromTheRightPastTrustedHops) {
  TrustedProxies p = Proxies("10.0.0.0/8, 2001:db8:ffff::/48");
  // The client put a forged address first; the ingress appended the real one.
  EXPECT_EQ(p.ClientAddress("10.0.0.2", "1.2.3.4, 198.51.100.7", ""), "198.51.100.7");
  // Two proxies of ours in a row.
  EXPECT_EQ(p.ClientAddress("10.0.0.2", "198.51.100.7, 10.9.9.9", ""), "198.51.100.7");
  // Every hop trusted: the leftmost.
  EXPECT_EQ(p.ClientAddress("10.0.0.2", "10.1.1.1, 10.9.9.9", ""), "10.1.1.1");
  // Ports and IPv6.
  EXPECT_EQ(p.ClientAddress("10.0.0.2", "198.51.100.7:5123", ""), "198.51.100.7");
  EXPECT_EQ(p.ClientAddress("10.0.0.2", "2001:db8::17", ""), "2001:db8::17");
  EXPECT_EQ(p.ClientAddress("2001:db8:ffff::1", "[2001:DB8::17]:4711", ""), "2001:db8::17");
  // Headers sent twice arrive joined.
  EXPECT_EQ(p.ClientAddress("10.0.0.2", "1.2.3.4, 198.51.100.8", ""), "198.51.100.8");
}

TEST(TrustedProxiesTest, ForwardedIsReadAsRfc7239SaysAndWinsOverXForwardedFor) {
  TrustedProxies p = Proxies("10.0.0.0/8");
  EXPECT_EQ(p.ClientAddress("10.0.0.2", "", "for=198.51.100.60;proto=https;by=10.0.0.2"),
            "198.51.100.60");
  EXPECT_EQ(p.ClientAddress("10.0.0.2", "", R"(for=1.2.3.4, For="[2001:db8:cafe::17]:4711")"),
            "2001:db8:cafe::17");
  EXPECT_EQ(p.ClientAddress("10.0.0.2", "", R"(for="198.51.100.9:80", for=10.3.3.3)"),
            "198.51.100.9");
  EXPECT_EQ(p.ClientAddress("10.0.0.2", "203.0.113.1", "for=198.51.100.60"), "198.51.100.60");
}

TEST(TrustedProxiesTest, MalformedChainsLeaveThePeer) {
  TrustedProxies p = Proxies("10.0.0.0/8");
  for (const char* xff : {"not-an-ip", "198.51.100.7, garbage", "1.2.3.4:port", "", " , "}) {
    EXPECT_EQ(p.ClientAddress("10.0.0.2", xff, ""), "10.0.0.2") << xff;
  }
  for (const char* fwd : {"for=unknown", "for=_hidden", "proto=https", "for=\"[::1\"",
                          "for=198.51.100.7, by=10.0.0.2"}) {
    EXPECT_EQ(p.ClientAddress("10.0.0.2", "", fwd), "10.0.0.2") << fwd;
  }
}

}  // namespace
}  // namespace civicpoints::gateway
