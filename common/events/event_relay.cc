#include "common/events/event_relay.h"

#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <pqxx/pqxx>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "civicpoints/events/v1/events_service.grpc.pb.h"
#include "common/base/time_units.h"
#include "common/events/event_types.h"
#include "common/events/outbox.h"
#include "common/log/log.h"
#include "common/pg/pg_errors.h"
#include "common/server/peer_channel.h"
#include "common/server/service_main.h"
#include "common/server/service_token.h"
#include "common/status/grpc_status.h"

namespace civicpoints::events {
namespace {

constexpr absl::Duration kPruneEvery = absl::Minutes(10);
constexpr absl::Duration kStandbyPoll = absl::Seconds(2);

}  // namespace

PendingEvents OutboxLog::Unpublished(pqxx::connection_base& conn, int limit) {
  pqxx::work tx(conn);
  pqxx::result rows = tx.exec_params(
      "SELECT seq, event_id::text, type, subject, "
      "(extract(epoch FROM occurred_at) * 1000000)::bigint, district_id, street_id, "
      "community_id, data_type, data FROM outbox_events WHERE published_at IS NULL "
      "ORDER BY seq LIMIT $1",
      limit);
  tx.commit();
  PendingEvents out;
  out.read = static_cast<int>(rows.size());
  const std::string source = EventSource(service_);
  for (const auto& row : rows) {
    out.keys.push_back(row[0].as<int64_t>());
    v1::Event* e = out.request.add_events();
    e->set_id(row[1].as<std::string>());
    e->set_source(source);
    e->set_type(row[2].as<std::string>());
    e->set_subject(row[3].as<std::string>());
    times::SetTime(e->mutable_time(), row[4].as<int64_t>());
    e->mutable_org_path()->set_district_id(row[5].as<std::string>());
    e->mutable_org_path()->set_street_id(row[6].as<std::string>());
    e->mutable_org_path()->set_community_id(row[7].as<std::string>());
    e->mutable_data()->set_type_url(absl::StrCat("type.googleapis.com/", row[8].as<std::string>()));
    e->mutable_data()->set_value(pqxx::binarystring(row[9]).str());
  }
  return out;
}

void OutboxLog::MarkPublished(pqxx::connection_base& conn, const PendingEvents& batch) {
  if (batch.keys.empty()) return;
  pqxx::work tx(conn);
  tx.exec_params("UPDATE outbox_events SET published_at = now() WHERE seq = ANY($1::bigint[])",
                 absl::StrCat("{", absl::StrJoin(batch.keys, ","), "}"));
  tx.commit();
}

void OutboxLog::Prune(pqxx::connection_base& conn) {
  pqxx::nontransaction q(conn);
  q.exec_params("DELETE FROM outbox_events WHERE published_at < now() - make_interval(secs => $1)",
                absl::ToDoubleSeconds(keep_published_));
}

EventRelay::EventRelay(std::string service, std::unique_ptr<EventLog> log, pg::PgOptions pg,
                       const std::string& events_addr, server::ServiceToken* token, Options options)
    : service_(std::move(service)),
      log_(std::move(log)),
      pg_(std::move(pg)),
      channel_(server::PeerChannel(events_addr)),
      token_(token),
      options_(options),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

EventRelay::~EventRelay() {
  RemoveLocalRelay(this);
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  Nudge();
  if (thread_.joinable()) thread_.join();
  close(wake_fd_);
}

void EventRelay::Start() {
  thread_ = std::thread([this] { Run(); });
  AddLocalRelay(this);
}

void EventRelay::Nudge() {
  const uint64_t one = 1;
  // A full counter (it cannot be, at 2^64 - 1) would only mean a wake-up is already pending.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

bool EventRelay::Stopping() {
  absl::MutexLock lock(&mu_);
  return stop_;
}

void EventRelay::Run() {
  absl::Duration backoff = options_.first_backoff;
  // Waits `d` unless asked to stop; true when stopping.
  auto pause = [this](absl::Duration d) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), d);
    return stop_;
  };
  auto failed = [&](absl::string_view what, absl::string_view error) {
    log::Warn("event relay: " + std::string(what), {{"service", service_},
                                                    {"error", std::string(error)},
                                                    {"retry_in", absl::FormatDuration(backoff)}});
    const bool stopping = pause(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
    return stopping;
  };
  while (!Stopping()) {
    absl::StatusOr<pg::Connection> conn =
        pg::ConnectWithRetry(pg_.url, pg_.schema, pg_.statement_timeout, absl::Seconds(5));
    if (!conn.ok()) {
      if (failed("cannot reach the database", conn.status().message())) return;
      continue;
    }
    try {
      // One publisher per schema at a time: the lock lives as long as this connection.
      bool leader = false;
      while (!leader) {
        pqxx::nontransaction q(**conn);
        leader =
            q.exec("SELECT pg_try_advisory_lock(hashtext(current_schema() || '.outbox_events'))")
                [0][0]
                    .as<bool>();
        if (!leader && pause(kStandbyPoll)) return;
      }
      absl::Time next_prune = absl::Now();
      while (!Stopping()) {
        absl::StatusOr<int> published = PublishDue(**conn);
        if (!published.ok()) {
          if (failed("publishing failed", published.status().message())) return;
          if (!(*conn)->is_open()) break;
          continue;
        }
        backoff = options_.first_backoff;
        if (*published >= options_.batch) continue;  // more may be waiting
        if (absl::Now() >= next_prune) {
          log_->Prune(**conn);
          next_prune = absl::Now() + kPruneEvery;
        }
        // Sleep until a commit in this process nudges us (the eventfd) or idle_poll passes.
        pollfd wake = {wake_fd_, POLLIN, 0};
        if (poll(&wake, 1, static_cast<int>(absl::ToInt64Milliseconds(options_.idle_poll))) > 0) {
          uint64_t count;
          [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof count);
        }
      }
    } catch (const std::exception& e) {
      if (failed("lost its database connection", e.what())) return;
    }
  }
}

absl::StatusOr<int> EventRelay::PublishDue(pqxx::connection_base& conn) {
  PendingEvents batch = log_->Unpublished(conn, options_.batch);
  if (!batch.request.events().empty()) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     absl::ToChronoMilliseconds(options_.call_deadline));
    if (absl::Status s = server::AttachServiceToken(*token_, ctx); !s.ok()) return s;
    v1::PublishEventsResponse resp;
    grpc::Status s = v1::EventService::NewStub(channel_)->PublishEvents(&ctx, batch.request, &resp);
    if (!s.ok()) return FromGrpcStatus(s);
  }
  log_->MarkPublished(conn, batch);
  return batch.read;
}

std::unique_ptr<EventRelay> StartEventRelay(const std::string& service,
                                            const server::ServiceDeps& deps,
                                            std::unique_ptr<EventLog> log) {
  if (deps.config->events_addr.empty()) {
    log::Warn("no --events_addr: domain events stay in the outbox", {{"service", service}});
    return nullptr;
  }
  if (log == nullptr) log = std::make_unique<OutboxLog>(service);
  auto relay = std::make_unique<EventRelay>(service, std::move(log), deps.pg->options(),
                                            deps.config->events_addr, deps.service_token,
                                            EventRelay::Options());
  relay->Start();
  return relay;
}

}  // namespace civicpoints::events
