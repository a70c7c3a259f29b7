// WebhookSender posts one signed event to a webhook's endpoint (libcurl), and the URL rules both
// registration and every delivery apply: https only, no credentials in the URL, and no address on
// a loopback, private, link-local or otherwise internal network — checked at connect time against
// the address actually dialled, so a name that later resolves inward (DNS rebinding) is refused
// too. A deployment for development may allow loopback, over http as well. Redirects are not
// followed (a 3xx is a failed attempt). Thread-safe: each Post uses its own handle.
#ifndef CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_SENDER_H_
#define CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_SENDER_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace civicpoints::events {

struct WebhookUrlPolicy {
  bool allow_loopback = false;  // development: http://127.0.0.1:…/ and https to loopback
};

// Whether `addr` (AF_INET or AF_INET6) is on a network a webhook may not reach; loopback counts
// as internal unless `allow_loopback`.
bool IsInternalAddress(const sockaddr* addr, bool allow_loopback);

// Checks a URL given at registration, resolving its host. Errors: INVALID_ARGUMENT naming `field`
// and the rule broken (reason WEBHOOK_URL_NOT_ALLOWED).
absl::Status CheckWebhookUrl(absl::string_view url, const WebhookUrlPolicy& policy,
                             absl::string_view field);

struct WebhookDelivery {
  std::string url;
  std::string id;  // webhook-id: the event's id
  int64_t timestamp = 0;
  std::string signature;
  std::string body;  // the event's JSON
};

struct DeliveryResult {
  bool delivered = false;  // a 2xx answer
  int http_status = 0;     // 0 when no answer came
  std::string error;       // why not, for the webhook's last_error
};

class WebhookSender {
 public:
  WebhookSender(WebhookUrlPolicy policy, absl::Duration timeout);
  DeliveryResult Post(const WebhookDelivery& delivery) const;

 private:
  const WebhookUrlPolicy policy_;
  const absl::Duration timeout_;
};

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_SENDER_H_
