#include "services/events/events_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "civicpoints/events/v1/errors.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/auth/method_policy.h"
#include "common/auth/principal.h"
#include "common/base/time_units.h"
#include "common/events/event_types.h"
#include "common/server/call_handler.h"
#include "common/server/peer_channel.h"
#include "common/status/grpc_status.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"
#include "services/events/cursor.h"
#include "services/events/event_filter.h"

namespace civicpoints::events {
namespace {

constexpr absl::Duration kDefaultHeartbeat = absl::Seconds(15);
constexpr absl::Duration kMaxWait = absl::Seconds(30);
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 500;
constexpr int kMaxPublish = 500;
// How many events one ListEvents call looks through for ones that pass its filters before it
// answers with what it has (and a cursor past what it skipped).
constexpr int kMaxScanned = 10'000;
constexpr size_t kReadBatch = 256;

bool IsUuid(absl::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !absl::ascii_isxdigit(s[i])) return false;
  }
  return true;
}

// Where a read starts: after the caller's cursor, or at the head (or the oldest retained event).
// Errors: INVALID_ARGUMENT for a malformed cursor or one ahead of the feed; OUT_OF_RANGE for one
// older than the retention.
absl::StatusOr<int64_t> StartPosition(const std::string& after, bool from_oldest,
                                      const FeedTail::Bounds& bounds) {
  if (after.empty()) return from_oldest ? bounds.pruned_through : bounds.head;
  ASSIGN_OR_RETURN(int64_t seq, DecodeCursor(after, "after"));
  if (seq > bounds.head) {
    return Refuse(absl::StatusCode::kInvalidArgument, v1::EVENTS_ERROR_REASON_BAD_CURSOR,
                  "after: is ahead of the feed (a cursor from another deployment?)");
  }
  if (seq < bounds.pruned_through) {
    return Refuse(absl::StatusCode::kOutOfRange, v1::EVENTS_ERROR_REASON_CURSOR_EXPIRED,
                  "after: the events after this cursor are older than the feed's retention and "
                  "gone; re-read the state you need and subscribe without a cursor");
  }
  return seq;
}

absl::Status CheckEvent(const v1::Event& e, int i) {
  const std::string at = absl::StrCat("events[", i, "]");
  if (!IsUuid(e.id())) return absl::InvalidArgumentError(absl::StrCat(at, ".id: is not a UUID"));
  const EventType* type = FindEventType(e.type());
  if (type == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(at, ".type: '", e.type().substr(0, 80),
                                                   "' is not an event type of the suite"));
  }
  if (e.source() != EventSource(type->service)) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ".source: must be ", EventSource(type->service), " for ", e.type()));
  }
  if (e.subject().empty() || e.subject().size() > 256) {
    return absl::InvalidArgumentError(absl::StrCat(at, ".subject: must be 1–256 characters"));
  }
  if (!e.has_time()) return absl::InvalidArgumentError(absl::StrCat(at, ".time: is required"));
  if (e.data().type_url() != absl::StrCat("type.googleapis.com/", type->data_type)) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ".data: must be a ", type->data_type, " for ", e.type()));
  }
  for (const std::string* id :
       {&e.org_path().district_id(), &e.org_path().street_id(), &e.org_path().community_id()}) {
    if (id->size() > 64) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".org_path: an id is over 64 characters"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

OrgPaths::OrgPaths(const std::string& identity_addr)
    : channel_(server::PeerChannel(identity_addr)) {}

absl::StatusOr<common::v1::OrgPath> OrgPaths::Path(const std::string& org_id,
                                                   const std::string& authorization,
                                                   absl::string_view field) {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = paths_.find(org_id); it != paths_.end()) return it->second;
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  ctx.AddMetadata("authorization", authorization);
  identity::v1::ResolveOrgPathRequest req;
  req.set_org_id(org_id);
  identity::v1::ResolveOrgPathResponse resp;
  grpc::Status s =
      identity::v1::IdentityService::NewStub(channel_)->ResolveOrgPath(&ctx, req, &resp);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    return Refuse(absl::StatusCode::kNotFound, v1::EVENTS_ERROR_REASON_ORG_NOT_FOUND,
                  absl::StrCat(field, ": org node '", org_id, "' does not exist"));
  }
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("identity could not resolve an org node: ", s.error_message()));
  }
  absl::MutexLock lock(&mu_);
  if (paths_.size() < 100'000) paths_[org_id] = resp.path();
  return resp.path();
}

EventServiceImpl::EventServiceImpl(FeedStore* store, FeedTail* tail,
                                   const auth::Authorizer* authorizer, OrgPaths* orgs,
                                   WebhookStore* webhooks, pg::PgPool* pool,
                                   EventServiceOptions options)
    : store_(store),
      tail_(tail),
      authorizer_(authorizer),
      orgs_(orgs),
      webhooks_(webhooks),
      pool_(pool),
      options_(options) {}

namespace {

// The filter and start position of a read, every check of the request done.
struct OpenedFeed {
  EventFilter filter;
  int64_t position = 0;
};

template <typename Request>
absl::StatusOr<OpenedFeed> OpenFeed(const Request& req, const auth::Principal& principal,
                                    const grpc::ServerContext& ctx, FeedTail& tail,
                                    OrgPaths& orgs) {
  ASSIGN_OR_RETURN(EventFilter filter,
                   ScopedFilter(req.types(), req.org_id(), principal,
                                server::ClientMetadata(ctx, "authorization"), orgs));
  ASSIGN_OR_RETURN(int64_t position, StartPosition(req.after(), req.from_oldest(), tail.bounds()));
  return OpenedFeed{std::move(filter), position};
}

}  // namespace

absl::StatusOr<EventFilter> ScopedFilter(
    const google::protobuf::RepeatedPtrField<std::string>& types, const std::string& org_id,
    const auth::Principal& principal, const std::string& authorization, OrgPaths& orgs) {
  ASSIGN_OR_RETURN(EventFilter filter, EventFilter::Make(types, org_id, principal));
  if (!org_id.empty()) {
    common::v1::OrgPath path;  // the city root's is empty
    if (!IsCityRoot(org_id)) {
      ASSIGN_OR_RETURN(path, orgs.Path(org_id, authorization, "org_id"));
    }
    RETURN_IF_ERROR(WithReason(auth::CheckStaffCovers(principal, path, "org_id"),
                               v1::EVENTS_ERROR_REASON_OUTSIDE_ORG_SCOPE));
  }
  return filter;
}

grpc::Status EventServiceImpl::Subscribe(grpc::ServerContext* ctx, const v1::SubscribeRequest* req,
                                         grpc::ServerWriter<v1::SubscribeResponse>* writer) {
  return server::HandleCall(
      ctx, *authorizer_, v1::EventService::service_full_name(), "Subscribe",
      [&](const server::Call& call) -> absl::Status {
        absl::Duration heartbeat = kDefaultHeartbeat;
        if (req->has_heartbeat_interval()) {
          heartbeat = absl::Seconds(req->heartbeat_interval().seconds()) +
                      absl::Nanoseconds(req->heartbeat_interval().nanos());
          if (heartbeat < absl::Seconds(1) || heartbeat > absl::Seconds(60)) {
            return absl::InvalidArgumentError("heartbeat_interval: must be 1–60 s");
          }
        }
        ASSIGN_OR_RETURN(OpenedFeed feed, OpenFeed(*req, *call.principal, *ctx, *tail_, *orgs_));
        if (subscribers_.fetch_add(1) >= options_.max_subscribers) {
          subscribers_.fetch_sub(1);
          return Refuse(
              absl::StatusCode::kResourceExhausted, v1::EVENTS_ERROR_REASON_TOO_MANY_SUBSCRIBERS,
              absl::StrCat("the feed already serves its maximum of ", options_.max_subscribers,
                           " subscribers; retry later or use ListEvents"),
              {{"max_subscribers", absl::StrCat(options_.max_subscribers)}});
        }
        struct Release {
          std::atomic<int>& n;
          ~Release() { n.fetch_sub(1); }
        } release{subscribers_};
        // Headers go out at once, so the caller knows the subscription was accepted.
        writer->SendInitialMetadata();
        const absl::Time token_expiry = call.principal->expires_at;
        const auto cancelled = [ctx] { return ctx->IsCancelled(); };
        int64_t position = feed.position;
        absl::Time last_sent = absl::Now();
        v1::SubscribeResponse item;
        while (!ctx->IsCancelled()) {
          if (absl::Now() >= token_expiry) {
            return absl::UnauthenticatedError(
                "the access token expired; subscribe again with a fresh one from your last cursor");
          }
          const absl::Time wake = std::min(last_sent + heartbeat, token_expiry);
          ASSIGN_OR_RETURN(std::vector<EventPtr> batch,
                           tail_->Read(position, kReadBatch, wake, cancelled));
          for (const EventPtr& e : batch) {
            position = e->seq;
            if (!feed.filter.Matches(e->event)) continue;
            *item.mutable_event() = e->event;
            if (!writer->Write(item)) return absl::OkStatus();  // the caller went away
            last_sent = absl::Now();
          }
          if (batch.empty() && absl::Now() >= last_sent + heartbeat) {
            v1::Heartbeat* beat = item.mutable_heartbeat();
            beat->set_cursor(EncodeCursor(position));
            times::SetTime(beat->mutable_time(), absl::Now());
            if (!writer->Write(item)) return absl::OkStatus();
            last_sent = absl::Now();
          }
        }
        return absl::OkStatus();
      });
}

grpc::Status EventServiceImpl::ListEvents(grpc::ServerContext* ctx,
                                          const v1::ListEventsRequest* req,
                                          v1::ListEventsResponse* resp) {
  return server::HandleCall(
      ctx, *authorizer_, v1::EventService::service_full_name(), "ListEvents",
      [&](const server::Call& call) -> absl::Status {
        const absl::Duration wait =
            absl::Seconds(req->wait().seconds()) + absl::Nanoseconds(req->wait().nanos());
        if (wait < absl::ZeroDuration() || wait > kMaxWait) {
          return absl::InvalidArgumentError("wait: must be 0–30 s");
        }
        if (req->page_size() < 0 || req->page_size() > kMaxPageSize) {
          return absl::InvalidArgumentError("page_size: must be 0–500");
        }
        const size_t page = req->page_size() == 0 ? kDefaultPageSize : req->page_size();
        ASSIGN_OR_RETURN(OpenedFeed feed, OpenFeed(*req, *call.principal, *ctx, *tail_, *orgs_));
        // The caller's deadline bounds the wait too, with a little left to answer.
        const absl::Time deadline = std::min(
            absl::Now() + wait, absl::FromChrono(ctx->deadline()) - absl::Milliseconds(200));
        const auto cancelled = [ctx] { return ctx->IsCancelled(); };
        int64_t position = feed.position;
        int scanned = 0;
        while (resp->events_size() < static_cast<int>(page) && scanned < kMaxScanned) {
          // Once something is found, only what is already there is added: no more waiting.
          const absl::Time until = resp->events().empty() ? deadline : absl::InfinitePast();
          ASSIGN_OR_RETURN(std::vector<EventPtr> batch,
                           tail_->Read(position, kReadBatch, until, cancelled));
          if (batch.empty()) break;  // the wait ran out, or nothing more is there
          for (const EventPtr& e : batch) {
            position = e->seq;
            ++scanned;
            if (feed.filter.Matches(e->event)) *resp->add_events() = e->event;
            if (resp->events_size() == static_cast<int>(page)) break;
          }
        }
        resp->set_next_cursor(EncodeCursor(position));
        return absl::OkStatus();
      });
}

grpc::Status EventServiceImpl::PublishEvents(grpc::ServerContext* ctx,
                                             const v1::PublishEventsRequest* req,
                                             v1::PublishEventsResponse* resp) {
  return server::HandleCall(ctx, *authorizer_, v1::EventService::service_full_name(),
                            "PublishEvents", [&](const server::Call&) -> absl::Status {
                              if (req->events().empty() || req->events_size() > kMaxPublish) {
                                return absl::InvalidArgumentError("events: must hold 1–500 events");
                              }
                              std::vector<const v1::Event*> events;
                              events.reserve(req->events_size());
                              for (int i = 0; i < req->events_size(); ++i) {
                                RETURN_IF_ERROR(CheckEvent(req->events(i), i));
                                events.push_back(&req->events(i));
                              }
                              ASSIGN_OR_RETURN(FeedStore::Appended appended,
                                               store_->Append(events));
                              tail_->Wake();
                              resp->set_appended(appended.appended);
                              resp->set_duplicates(appended.duplicates);
                              times::SetTime(resp->mutable_commit_time(), appended.commit_time);
                              return absl::OkStatus();
                            });
}

}  // namespace civicpoints::events
