#include "services/events/webhook_dispatcher.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/auth/principal.h"
#include "common/auth/revocations.h"
#include "common/log/log.h"
#include "services/events/feed_tail.h"
#include "services/events/webhook_signature.h"
#include "services/events/webhook_store.h"

namespace civicpoints::events {
namespace {

constexpr size_t kReadBatch = 64;

// The event as a webhook's body: the JSON of Event, as the REST feed shows it.
absl::StatusOr<std::string> EventJson(const v1::Event& event) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string body;
  auto s = google::protobuf::util::MessageToJsonString(event, &body, options);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot render ", event.type(), " as JSON: ", s.message().as_string()));
  }
  return body;
}

}  // namespace

WebhookDispatcher::WebhookDispatcher(WebhookStore* store, FeedTail* tail,
                                     const auth::RevocationChecker* revocations,
                                     WebhookUrlPolicy policy, Options options)
    : store_(store),
      tail_(tail),
      revocations_(revocations),
      sender_(policy, options.timeout),
      options_(options) {}

WebhookDispatcher::~WebhookDispatcher() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& t : workers_) t.join();
}

void WebhookDispatcher::Start() {
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { Work(); });
}

bool WebhookDispatcher::Stopping() {
  absl::MutexLock lock(&mu_);
  return stop_;
}

absl::Duration WebhookDispatcher::Backoff(int failed, const Options& options) {
  const double doubled =
      absl::ToDoubleSeconds(options.first_retry) * std::pow(2.0, std::max(0, failed - 1));
  const double capped = std::min(doubled, absl::ToDoubleSeconds(options.max_retry));
  // ±25 %, so endpoints that failed together do not all come back at the same instant.
  thread_local absl::BitGen gen;
  return absl::Seconds(capped * absl::Uniform(gen, 0.75, 1.25));
}

void WebhookDispatcher::Work() {
  const auto stopping = [this] { return Stopping(); };
  while (!Stopping()) {
    const int64_t head = tail_->bounds().head;
    absl::StatusOr<std::optional<LeasedWebhook>> leased = store_->LeaseDue(head, options_.lease);
    if (!leased.ok()) {
      log::Warn("webhooks: cannot lease", {{"error", std::string(leased.status().message())}});
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.poll);
      continue;
    }
    if (!leased->has_value()) {
      // Nothing due: wait for an event past the head (or for a retry to come due), and then out
      // the rest of the idle interval.
      const absl::Time next_ask = absl::Now() + options_.idle_lease_interval;
      (void)tail_->Read(head, 1, absl::Now() + options_.poll, stopping);
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithDeadline(absl::Condition(&stop_), next_ask);
      continue;
    }
    Deliver(**leased);
  }
}

void WebhookDispatcher::Deliver(LeasedWebhook& w) {
  int64_t position = w.position;
  auth::Principal owner;
  owner.subject = w.owner_id;
  // As a token's issue time, in whole seconds: a revocation in the same second counts.
  owner.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(w.authorized_at));
  if (revocations_ != nullptr && revocations_->Revoked(owner)) {
    log::Warn("webhooks: the owner's access was revoked; stopped", {{"webhook_id", w.webhook_id}});
    if (absl::Status s = store_->Stop(w, position,
                                      "stopped: the owner's access was revoked after it was "
                                      "registered or last resumed; resume it with a current "
                                      "credential");
        !s.ok()) {
      log::Warn("webhooks: cannot stop",
                {{"webhook_id", w.webhook_id}, {"error", std::string(s.message())}});
    }
    return;
  }
  int delivered = 0;
  const absl::Time lease_ends = absl::Now() + options_.lease / 2;
  const auto stopping = [this] { return Stopping(); };
  bool feed_failed = false;
  while (delivered < options_.max_per_lease && absl::Now() < lease_ends && !Stopping()) {
    absl::StatusOr<std::vector<EventPtr>> events =
        tail_->Read(position, kReadBatch, absl::Now(), stopping);
    if (!events.ok()) {
      log::Warn("webhooks: cannot read the feed",
                {{"webhook_id", w.webhook_id}, {"error", std::string(events.status().message())}});
      feed_failed = true;
      break;
    }
    if (events->empty()) break;
    for (const EventPtr& e : *events) {
      if (!w.filter.Matches(e->event)) {
        position = e->seq;
        continue;
      }
      absl::StatusOr<std::string> body = EventJson(e->event);
      WebhookDelivery d{
          .url = w.url, .id = e->event.id(), .timestamp = absl::ToUnixSeconds(absl::Now())};
      DeliveryResult result;
      if (body.ok()) {
        d.body = *std::move(body);
        d.signature = SignWebhook(w.key, d.id, d.timestamp, d.body);
        result = sender_.Post(d);
      } else {
        result.error = std::string(body.status().message());
      }
      if (!result.delivered) {
        const absl::Time next = absl::Now() + Backoff(w.failed_attempts + 1, options_);
        log::Warn("webhooks: delivery failed", {{"webhook_id", w.webhook_id},
                                                {"event_id", e->event.id()},
                                                {"error", result.error},
                                                {"attempt", absl::StrCat(w.failed_attempts + 1)}});
        if (absl::Status s =
                store_->Failed(w, position, result.error, next, options_.give_up_after);
            !s.ok()) {
          log::Warn("webhooks: cannot record a failure",
                    {{"webhook_id", w.webhook_id}, {"error", std::string(s.message())}});
        }
        return;
      }
      absl::StatusOr<bool> held = store_->Delivered(w, e->seq, options_.lease);
      if (!held.ok() || !*held) return;  // gone, resumed elsewhere, or the database failed: resent
      position = e->seq;
      w.failed_attempts = 0;
      ++delivered;
    }
  }
  if (absl::Status s = store_->Release(w, position); !s.ok()) {
    log::Warn("webhooks: cannot release",
              {{"webhook_id", w.webhook_id}, {"error", std::string(s.message())}});
  }
  if (feed_failed) {  // not at once again
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.poll);
  }
}

}  // namespace civicpoints::events
