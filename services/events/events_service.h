// EventServiceImpl: the event feed (events_service.proto). PublishEvents appends what the services'
// relays send (FeedStore), the FeedTail follows the store, and Subscribe and ListEvents read from
// the tail, each through an EventFilter made from the request and the caller's grants. A subscriber
// holds one request thread while streaming; their number is capped (RESOURCE_EXHAUSTED beyond). A
// stream ends when the caller's access token expires (UNAUTHENTICATED): the caller subscribes again
// with a fresh token from its saved cursor. Thread-safe.
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
#include "services/events/feed_store.h"
#include "services/events/feed_tail.h"

namespace grpc {
class Channel;
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

struct EventServiceOptions {
  int max_subscribers = 128;
};

class EventServiceImpl final : public v1::EventService::Service {
 public:
  // All pointers must outlive the service.
  EventServiceImpl(FeedStore* store, FeedTail* tail, const auth::Authorizer* authorizer,
                   OrgPaths* orgs, EventServiceOptions options);

  grpc::Status Subscribe(grpc::ServerContext* ctx, const v1::SubscribeRequest* req,
                         grpc::ServerWriter<v1::SubscribeResponse>* writer) override;
  grpc::Status ListEvents(grpc::ServerContext* ctx, const v1::ListEventsRequest* req,
                          v1::ListEventsResponse* resp) override;
  grpc::Status PublishEvents(grpc::ServerContext* ctx, const v1::PublishEventsRequest* req,
                             v1::PublishEventsResponse* resp) override;

 private:
  FeedStore* store_;
  FeedTail* tail_;
  const auth::Authorizer* authorizer_;
  OrgPaths* orgs_;
  const EventServiceOptions options_;
  std::atomic<int> subscribers_{0};
};

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_EVENTS_SERVICE_H_
