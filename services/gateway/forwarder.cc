#include "services/gateway/forwarder.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace civicpoints::gateway {
namespace {

// Connections per backend.
constexpr int kChannelsPerBackend = 4;
// Attempts per call for methods safe to retry (the first and one more).
constexpr int kMaxAttempts = 2;
// A retry needs at least this much of the deadline left to be worth sending.
constexpr absl::Duration kMinRetryTime = absl::Milliseconds(50);

bool PassedBack(absl::string_view key) {
  return !absl::StartsWith(key, "grpc-") && key != "content-type" && key != "x-request-id" &&
         !absl::StartsWith(key, ":");
}

void CopyMetadata(const std::multimap<grpc::string_ref, grpc::string_ref>& from,
                  std::vector<std::pair<std::string, std::string>>& to) {
  for (const auto& [key, value] : from) {
    absl::string_view k(key.data(), key.size());
    if (PassedBack(k)) to.emplace_back(std::string(k), std::string(value.data(), value.size()));
  }
}

}  // namespace

void ForwardHandle::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

struct Forwarder::Attempt {
  ForwardRequest request;
  std::shared_ptr<ForwardHandle> handle;
  std::function<void(ForwardResult)> done;
  Backend* backend = nullptr;
  absl::Time deadline;
  int attempts = 0;
  std::unique_ptr<grpc::ClientContext> context;
  grpc::ByteBuffer response;
};

absl::StatusOr<std::unique_ptr<Forwarder>> Forwarder::Create(
    const std::map<std::string, BackendOptions>& backends, const RouteTable& routes,
    int max_message_bytes) {
  std::unique_ptr<Forwarder> f(new Forwarder);
  for (const auto& route : routes.routes()) {
    if (f->backends_.contains(route->backend)) continue;
    auto it = backends.find(route->backend);
    if (it == backends.end() || it->second.address.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("no address for the ", route->backend, " service"));
    }
    auto b = std::make_unique<Backend>();
    b->options = it->second;
    for (int i = 0; i < kChannelsPerBackend; ++i) {
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(max_message_bytes);
      args.SetMaxSendMessageSize(max_message_bytes);
      // A restarted backend is found again within a couple of seconds.
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
      // A connection of its own per channel (channels with equal arguments would share one).
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("cp.gateway_channel", i);
      b->stubs.push_back(std::make_unique<grpc::GenericStub>(
          grpc::CreateCustomChannel(it->second.address, grpc::InsecureChannelCredentials(), args)));
    }
    f->backends_[route->backend] = std::move(b);
  }
  return f;
}

void Forwarder::Forward(ForwardRequest request, std::shared_ptr<ForwardHandle> handle,
                        std::function<void(ForwardResult)> done) {
  auto attempt = std::make_unique<Attempt>();
  attempt->backend = backends_.at(request.route->backend).get();
  attempt->deadline = std::min(request.deadline, absl::Now() + attempt->backend->options.timeout);
  attempt->request = std::move(request);
  attempt->handle = std::move(handle);
  attempt->done = std::move(done);
  Start(std::move(attempt));
}

void Forwarder::Start(std::unique_ptr<Attempt> attempt) {
  ++attempt->attempts;
  attempt->context = std::make_unique<grpc::ClientContext>();
  grpc::ClientContext* ctx = attempt->context.get();
  for (const auto& [key, value] : attempt->request.metadata) ctx->AddMetadata(key, value);
  ctx->set_deadline(absl::ToChronoTime(attempt->deadline));
  if (attempt->handle != nullptr) {
    bool cancelled;
    {
      absl::MutexLock lock(&attempt->handle->mu_);
      cancelled = attempt->handle->cancelled_;
      if (!cancelled) attempt->handle->context_ = ctx;
    }
    if (cancelled) {
      attempt->done({grpc::Status(grpc::StatusCode::CANCELLED, "the caller cancelled"), {}, {}});
      return;
    }
  }
  Attempt* a = attempt.release();
  NextStub(*a->backend)
      .UnaryCall(ctx, a->request.route->grpc_path, grpc::StubOptions(), &a->request.message,
                 &a->response, [this, a](grpc::Status status) {
                   std::unique_ptr<Attempt> attempt(a);
                   if (attempt->handle != nullptr) {
                     absl::MutexLock lock(&attempt->handle->mu_);
                     attempt->handle->context_ = nullptr;
                   }
                   if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
                       attempt->request.route->policy.retry_safe &&
                       attempt->attempts < kMaxAttempts &&
                       attempt->deadline - absl::Now() > kMinRetryTime) {
                     Start(std::move(attempt));
                     return;
                   }
                   ForwardResult result;
                   result.status = std::move(status);
                   result.message = std::move(attempt->response);
                   CopyMetadata(attempt->context->GetServerInitialMetadata(), result.metadata);
                   CopyMetadata(attempt->context->GetServerTrailingMetadata(), result.metadata);
                   attempt->done(std::move(result));
                 });
}

grpc::GenericStub& Forwarder::NextStub(Backend& b) {
  return *b.stubs[b.next.fetch_add(1, std::memory_order_relaxed) % b.stubs.size()];
}

// One forwarded stream: a client reactor on the backend that reads one message at a time. A hold
// keeps the reactor alive between a message handed to the sink and the next read (started from
// the caller's side, outside this reactor's reactions); it is released when reading stops.
class Forwarder::Stream final : public ForwardStream,
                                public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  Stream(ForwardRequest request, StreamSink* sink) : request_(std::move(request)), sink_(sink) {
    for (const auto& [key, value] : request_.metadata) context_.AddMetadata(key, value);
    if (request_.deadline != absl::InfiniteFuture()) {
      context_.set_deadline(absl::ToChronoTime(request_.deadline));
    }
  }

  void Begin(grpc::GenericStub& stub) {
    stub.PrepareBidiStreamingCall(&context_, request_.route->grpc_path, grpc::StubOptions(), this);
    AddHold();
    StartWriteLast(&request_.message, grpc::WriteOptions());
    StartRead(&incoming_);
    StartCall();
  }

  void Next(bool delivered) override {
    if (!delivered) {
      context_.TryCancel();
      StopReading();
      return;
    }
    StartRead(&incoming_);
  }

  void Cancel() override { context_.TryCancel(); }

  void OnReadInitialMetadataDone(bool ok) override {
    if (!ok) return;
    std::vector<std::pair<std::string, std::string>> headers;
    CopyMetadata(context_.GetServerInitialMetadata(), headers);
    sink_->OnHeaders(std::move(headers));
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      StopReading();
      return;
    }
    sink_->OnMessage(incoming_);
  }

  void OnDone(const grpc::Status& status) override {
    std::vector<std::pair<std::string, std::string>> trailers;
    CopyMetadata(context_.GetServerTrailingMetadata(), trailers);
    sink_->OnEnd(status, std::move(trailers));
  }

 private:
  void StopReading() {
    if (!stopped_.exchange(true)) RemoveHold();
  }

  ForwardRequest request_;
  StreamSink* const sink_;
  grpc::ClientContext context_;
  grpc::ByteBuffer incoming_;
  std::atomic<bool> stopped_{false};
};

std::unique_ptr<ForwardStream> Forwarder::OpenStream(ForwardRequest request, StreamSink* sink) {
  Backend& backend = *backends_.at(request.route->backend);
  auto stream = std::make_unique<Stream>(std::move(request), sink);
  stream->Begin(NextStub(backend));
  return stream;
}

ForwardResult Forwarder::ForwardBlocking(ForwardRequest request) {
  absl::Notification finished;
  ForwardResult result;
  Forward(std::move(request), nullptr, [&](ForwardResult r) {
    result = std::move(r);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

}  // namespace civicpoints::gateway
