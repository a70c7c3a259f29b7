#include "services/events/webhook_sender.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "civicpoints/events/v1/errors.pb.h"
#include "common/status/refusal.h"

namespace civicpoints::events {
namespace {

constexpr size_t kMaxUrl = 2000;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool InV4(uint32_t a, uint32_t net, int bits) {
  return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits));
}

constexpr uint32_t V4(int a, int b, int c, int d) {
  return (static_cast<uint32_t>(a) << 24) | (b << 16) | (c << 8) | d;
}

bool IsInternalV4(uint32_t a, bool allow_loopback) {
  if (InV4(a, V4(127, 0, 0, 0), 8)) return !allow_loopback;
  struct Net {
    uint32_t net;
    int bits;
  };
  static constexpr Net kInternal[] = {
      {V4(0, 0, 0, 0), 8},      {V4(10, 0, 0, 0), 8},    {V4(100, 64, 0, 0), 10},
      {V4(169, 254, 0, 0), 16}, {V4(172, 16, 0, 0), 12}, {V4(192, 0, 0, 0), 24},
      {V4(192, 168, 0, 0), 16}, {V4(198, 18, 0, 0), 15}, {V4(224, 0, 0, 0), 4},
      {V4(240, 0, 0, 0), 4},
  };
  for (const Net& n : kInternal) {
    if (InV4(a, n.net, n.bits)) return true;
  }
  return false;
}

bool IsLoopback(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    const uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr);
    return InV4(a, V4(127, 0, 0, 0), 8);
  }
  if (addr->sa_family == AF_INET6) {
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr);
  }
  return false;
}

struct ParsedUrl {
  std::string scheme;
  std::string host;
  std::string port;
};

absl::Status NotAllowed(absl::string_view field, absl::string_view why) {
  return Refuse(absl::StatusCode::kInvalidArgument, v1::EVENTS_ERROR_REASON_WEBHOOK_URL_NOT_ALLOWED,
                absl::StrCat(field, ": ", why));
}

// The URL's parts, or why it cannot be one.
absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url, absl::string_view field) {
  if (url.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  if (url.size() > kMaxUrl) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": is longer than ", kMaxUrl, " characters"));
  }
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  const std::string text(url);
  if (curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": is not an absolute URL"));
  }
  auto part = [&](CURLUPart which) -> std::string {
    char* value = nullptr;
    if (curl_url_get(u.get(), which, &value, 0) != CURLUE_OK || value == nullptr) return "";
    std::string out(value);
    curl_free(value);
    return out;
  };
  if (!part(CURLUPART_USER).empty() || !part(CURLUPART_PASSWORD).empty()) {
    return NotAllowed(field, "must not carry a user or password");
  }
  ParsedUrl parsed{absl::AsciiStrToLower(part(CURLUPART_SCHEME)), part(CURLUPART_HOST),
                   part(CURLUPART_PORT)};
  if (parsed.scheme != "https" && parsed.scheme != "http") {
    return NotAllowed(field, "must be an https URL");
  }
  if (parsed.host.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": has no host"));
  return parsed;
}

// What the connect-time check needs, and what it found.
struct ConnectGuard {
  bool allow_loopback = false;
  bool plain_http = false;  // http: loopback only
  std::string refused;      // why the address was not dialled
};

curl_socket_t OpenCheckedSocket(void* clientp, curlsocktype, curl_sockaddr* address) {
  auto* guard = static_cast<ConnectGuard*>(clientp);
  const sockaddr* addr = &address->addr;
  if (IsInternalAddress(addr, guard->allow_loopback)) {
    guard->refused = "refused to connect: the host resolves to an internal address";
    return CURL_SOCKET_BAD;
  }
  if (guard->plain_http && !IsLoopback(addr)) {
    guard->refused = "refused to connect: plain http is only for loopback";
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

size_t DropBody(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

bool IsInternalAddress(const sockaddr* addr, bool allow_loopback) {
  if (addr->sa_family == AF_INET) {
    return IsInternalV4(ntohl(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr),
                        allow_loopback);
  }
  if (addr->sa_family != AF_INET6) return true;
  const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
  if (IN6_IS_ADDR_LOOPBACK(&a)) return !allow_loopback;
  if (IN6_IS_ADDR_V4MAPPED(&a) || IN6_IS_ADDR_V4COMPAT(&a)) {
    uint32_t v4;
    std::memcpy(&v4, &a.s6_addr[12], 4);
    return IsInternalV4(ntohl(v4), allow_loopback);
  }
  const uint8_t b0 = a.s6_addr[0], b1 = a.s6_addr[1];
  return IN6_IS_ADDR_UNSPECIFIED(&a) || (b0 & 0xfe) == 0xfc /* unique local fc00::/7 */ ||
         (b0 == 0xfe && (b1 & 0xc0) == 0x80) /* link-local fe80::/10 */ ||
         (b0 == 0xfe && (b1 & 0xc0) == 0xc0) /* site-local fec0::/10 */ ||
         b0 == 0xff /* multicast */ ||
         (b0 == 0x00 && b1 == 0x64 && a.s6_addr[2] == 0xff && a.s6_addr[3] == 0x9b) /* NAT64 */;
}

absl::Status CheckWebhookUrl(absl::string_view url, const WebhookUrlPolicy& policy,
                             absl::string_view field) {
  InitCurlOnce();
  absl::StatusOr<ParsedUrl> parsed = ParseUrl(url, field);
  if (!parsed.ok()) return parsed.status();
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(parsed->host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": the host '", parsed->host.substr(0, 100), "' does not resolve"));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (IsInternalAddress(a->ai_addr, policy.allow_loopback)) {
      return NotAllowed(field, "its host resolves to a loopback, private or internal address");
    }
    if (parsed->scheme == "http" && !IsLoopback(a->ai_addr)) {
      return NotAllowed(field, "must be an https URL (http only to loopback, in development)");
    }
  }
  return absl::OkStatus();
}

WebhookSender::WebhookSender(WebhookUrlPolicy policy, absl::Duration timeout)
    : policy_(policy), timeout_(timeout) {
  InitCurlOnce();
}

DeliveryResult WebhookSender::Post(const WebhookDelivery& d) const {
  DeliveryResult result;
  absl::StatusOr<ParsedUrl> parsed = ParseUrl(d.url, "url");
  if (!parsed.ok()) {
    result.error = std::string(parsed.status().message());
    return result;
  }
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (curl == nullptr) {
    result.error = "could not make an HTTP client";
    return result;
  }
  ConnectGuard guard{.allow_loopback = policy_.allow_loopback,
                     .plain_http = parsed->scheme == "http"};
  curl_slist* headers = nullptr;
  for (const std::string& h :
       {std::string("content-type: application/json"), absl::StrCat("webhook-id: ", d.id),
        absl::StrCat("webhook-timestamp: ", d.timestamp),
        absl::StrCat("webhook-signature: ", d.signature), std::string("expect:")}) {
    headers = curl_slist_append(headers, h.c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers,
                                                                          &curl_slist_free_all);
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, d.url.c_str());
  // http is let through to the connect-time check, which allows it to loopback only.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  // No proxy from the environment: the address check must see the endpoint itself.
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout_)));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout_) / 2));
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &OpenCheckedSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &guard);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "civicpoints-webhooks/1");
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, d.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(d.body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &DropBody);
  const CURLcode code = curl_easy_perform(c);
  if (!guard.refused.empty()) {
    result.error = guard.refused;
    return result;
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    result.error = absl::StrCat("timed out after ", absl::FormatDuration(timeout_));
    return result;
  }
  if (code != CURLE_OK) {
    result.error = curl_easy_strerror(code);
    return result;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  result.http_status = static_cast<int>(status);
  result.delivered = status >= 200 && status < 300;
  if (!result.delivered) result.error = absl::StrCat("HTTP ", status);
  return result;
}

}  // namespace civicpoints::events
