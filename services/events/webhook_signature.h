// Webhook secrets and signatures as Standard Webhooks define them: a secret is "whsec_" and the
// base64 of the key; a delivery is signed "v1," and the base64 HMAC-SHA256 of
// "<webhook-id>.<webhook-timestamp>.<body>" under the key. A receiver checks it with any Standard
// Webhooks library, or with the few lines docs/events.md shows.
#ifndef CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_SIGNATURE_H_
#define CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_SIGNATURE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace civicpoints::events {

// A new random key of 24 bytes.
std::string NewWebhookKey();
// The secret as its owner sees it: "whsec_" + base64(key).
std::string WebhookSecret(absl::string_view key);
// The key inside a secret; nullopt when it is not one.
std::optional<std::string> WebhookKeyOf(absl::string_view secret);

// The `webhook-signature` header's value for one delivery.
std::string SignWebhook(absl::string_view key, absl::string_view id, int64_t unix_seconds,
                        absl::string_view body);

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_WEBHOOK_SIGNATURE_H_
