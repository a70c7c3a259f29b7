// EventServiceImpl: the event feed (events_service.proto). PublishEvents appends what the services'
// relays send (FeedStore), the FeedTail follows the store, and Subscribe and ListEvents read from
// the tail, each through an EventFilter made from the request and the caller's grants. A subscriber
// holds one request thread while streaming; their number is capped (RESOURCE_EXHAUSTED beyond). A
// stream ends when the caller's access token expires (UNAUTHENTICATED): the caller subscribes again
// with a fresh token from its saved cursor. Webhooks are registered here (webhook_methods.cc) and
// delivered by the WebhookDispatcher. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_EVENTS_EVENTS_SERVICE_H_
#define CIVICPOINTS_SERVICES_EVENTS_EVENTS_SERVICE_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "civicpoints/events/v1/events_service.grpc.pb.h"
#include "services/events/event_filter.h"
#include "services/events/feed_store.h"
#include "services/events/feed_tail.h"
#include "services/events/webhook_sender.h"
#include "services/events/webhook_store.h"

namespace grpc {
class Channel;
}
namespace civicpoints::pg {
class PgPool;
}
namespace civicpoints::auth {
class Authorizer;
struct Principal;
}  // namespace civicpoints::auth

namespace civicpoints::events {

// Org nodes' paths from identity's ResolveOrgPath, asked with the caller's own token (any signed-in
// caller may) and kept: a node never moves.
class OrgPaths {
 public:
  explicit OrgPaths(const std::string& identity_addr);
  // Errors: NOT_FOUND naming `field` for an unknown node; UNAVAILABLE when identity cannot answer.
  absl::StatusOr<common::v1::OrgPath> Path(const std::string& org_id,
                                           const std::string& authorization,
                                           absl::string_view field);

 private:
  std::shared_ptr<grpc::Channel> channel_;
  absl::Mutex mu_;
  std::map<std::string, common::v1::OrgPath> paths_ ABSL_GUARDED_BY(mu_);
};

// The filter of a read or a webhook: its types known, and its org node (when given) existing and
// inside the caller's scope. `authorization` is the caller's, to ask identity for the node's path.
// Errors: INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED (events_service.proto, Subscribe).
absl::StatusOr<EventFilter> ScopedFilter(
    const google::protobuf::RepeatedPtrField<std::string>& types, const std::string& org_id,
    const auth::Principal& principal, const std::string& authorization, OrgPaths& orgs);

struct EventServiceOptions {
  int max_subscribers = 128;
  WebhookUrlPolicy webhook_urls;
  int max_webhooks = 20;  // per owner
};

class EventServiceImpl final : public v1::EventService::Service {
 public:
  // All pointers must outlive the service.
  EventServiceImpl(FeedStore* store, FeedTail* tail, const auth::Authorizer* authorizer,
                   OrgPaths* orgs, WebhookStore* webhooks, pg::PgPool* pool,
                   EventServiceOptions options);

  grpc::Status Subscribe(grpc::ServerContext* ctx, const v1::SubscribeRequest* req,
                         grpc::ServerWriter<v1::SubscribeResponse>* writer) override;
  grpc::Status ListEvents(grpc::ServerContext* ctx, const v1::ListEventsRequest* req,
                          v1::ListEventsResponse* resp) override;
  grpc::Status PublishEvents(grpc::ServerContext* ctx, const v1::PublishEventsRequest* req,
                             v1::PublishEventsResponse* resp) override;

  // Webhooks (webhook_methods.cc).
  grpc::Status CreateWebhook(grpc::ServerContext* ctx, const v1::CreateWebhookRequest* req,
                             v1::CreateWebhookResponse* resp) override;
  grpc::Status GetWebhook(grpc::ServerContext* ctx, const v1::GetWebhookRequest* req,
                          v1::GetWebhookResponse* resp) override;
  grpc::Status ListWebhooks(grpc::ServerContext* ctx, const v1::ListWebhooksRequest* req,
                            v1::ListWebhooksResponse* resp) override;
  grpc::Status DeleteWebhook(grpc::ServerContext* ctx, const v1::DeleteWebhookRequest* req,
                             v1::DeleteWebhookResponse* resp) override;
  grpc::Status ResumeWebhook(grpc::ServerContext* ctx, const v1::ResumeWebhookRequest* req,
                             v1::ResumeWebhookResponse* resp) override;

 private:
  FeedStore* store_;
  FeedTail* tail_;
  const auth::Authorizer* authorizer_;
  OrgPaths* orgs_;
  WebhookStore* webhooks_;
  pg::PgPool* pool_;
  const EventServiceOptions options_;
  std::atomic<int> subscribers_{0};
};

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_EVENTS_SERVICE_H_
