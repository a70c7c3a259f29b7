#include "services/gateway/grpc_face.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/labels/label_catalogue.h"
#include "common/log/log.h"
#include "common/server/call_handler.h"
#include "common/server/call_interceptor.h"
#include "services/gateway/localized_errors.h"

namespace civicpoints::gateway {
namespace {

absl::string_view Header(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                         const char* key) {
  auto it = md.find(key);
  if (it == md.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

// Every value of `key`, joined by ", " (metadata may repeat a key).
std::string JoinedHeader(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                         const char* key) {
  std::string out;
  auto [begin, end] = md.equal_range(key);
  for (auto it = begin; it != end; ++it) {
    if (!out.empty()) out.append(", ");
    out.append(it->second.data(), it->second.size());
  }
  return out;
}

}  // namespace

// One call: read the request, admit, forward, answer (a server-streaming method: pass each message
// of the backend's stream on as the caller takes it). Deletes itself when done.
class GrpcFace::Call final : public grpc::ServerGenericBidiReactor, public StreamSink {
 public:
  Call(GrpcFace* face, grpc::GenericCallbackServerContext* ctx)
      : face_(face), ctx_(ctx), start_(absl::Now()), handle_(std::make_shared<ForwardHandle>()) {
    route_ = face_->routes_->FindGrpc(ctx->method());
    request_id_ = std::string(Header(ctx->client_metadata(), server::kRequestIdHeader));
    if (request_id_.empty()) request_id_ = log::NewRequestId();
    locale_ = labels::NegotiateLocale(JoinedHeader(ctx->client_metadata(), "accept-language"));
    if (route_ == nullptr) {
      Answer(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          absl::StrCat("unknown method ", ctx->method())));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Answer(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    const auto& md = ctx_->client_metadata();
    client_address_ = server::PeerHost(ctx_->peer());
    if (face_->proxies_ != nullptr && !face_->proxies_->empty()) {
      client_address_ = face_->proxies_->ClientAddress(
          client_address_, JoinedHeader(md, "x-forwarded-for"), JoinedHeader(md, "forwarded"));
    }
    face_->gatekeeper_->Admit(*route_,
                              {.authorization = Header(md, "authorization"),
                               .api_key = Header(md, "x-api-key"),
                               .client_address = client_address_},
                              start_,
                              [this](Admission admission) { Admitted(std::move(admission)); });
  }

  void OnCancel() override {
    handle_->Cancel();
    absl::MutexLock lock(&mu_);
    if (stream_ != nullptr) stream_->Cancel();
  }

  // The streaming side (StreamSink), called by the backend's stream one at a time.
  void OnHeaders(std::vector<std::pair<std::string, std::string>> metadata) override {
    absl::MutexLock lock(&mu_);
    if (headers_sent_) return;  // a message got there first and carried gRPC's own headers
    headers_sent_ = true;
    for (const auto& [key, value] : metadata) ctx_->AddInitialMetadata(key, value);
    StartSendInitialMetadata();
  }
  void OnMessage(const grpc::ByteBuffer& message) override {
    {
      absl::MutexLock lock(&mu_);
      headers_sent_ = true;
    }
    StartWrite(&message);
  }
  void OnWriteDone(bool ok) override {
    ForwardStream* stream;
    {
      absl::MutexLock lock(&mu_);
      stream = stream_.get();
    }
    if (stream != nullptr) stream->Next(ok);
  }
  void OnEnd(grpc::Status status,
             std::vector<std::pair<std::string, std::string>> trailers) override {
    for (const auto& [key, value] : trailers) ctx_->AddTrailingMetadata(key, value);
    Answer(std::move(status));
  }

  void OnDone() override {
    face_->log_->Record({.face = "grpc",
                         .route = route_ != nullptr ? absl::string_view(route_->grpc_path)
                                                    : absl::string_view("unknown"),
                         .principal = principal_,
                         .code = status_.error_code(),
                         .message = status_.error_message(),
                         .seconds = absl::ToDoubleSeconds(absl::Now() - start_),
                         .request_id = request_id_,
                         .client_address = client_address_});
    delete this;
  }

 private:
  // Runs on the thread that decided: the reactor's, or a gRPC thread after identity answered.
  void Admitted(Admission admission) {
    principal_ = std::move(admission.principal);
    if (!admission.status.ok()) {
      if (admission.retry_after) {
        ctx_->AddTrailingMetadata("retry-after",
                                  absl::StrCat(absl::ToInt64Seconds(*admission.retry_after)));
      }
      Answer(admission.status);
      return;
    }
    ForwardRequest forward;
    forward.route = route_;
    forward.message = std::move(request_);
    if (!admission.authorization.empty()) {
      forward.metadata.emplace_back("authorization", std::move(admission.authorization));
    }
    forward.metadata.emplace_back(server::kRequestIdHeader, request_id_);
    forward.metadata.emplace_back("x-client-address", client_address_);
    // Only when the caller named a language (as on the REST face).
    if (ctx_->client_metadata().count("accept-language") > 0) {
      forward.metadata.emplace_back("accept-language", std::string(LocaleTag(locale_)));
    }
    if (ctx_->deadline() != std::chrono::system_clock::time_point::max()) {
      forward.deadline = absl::FromChrono(ctx_->deadline());
    }
    if (route_->method->server_streaming()) {
      absl::MutexLock lock(&mu_);
      stream_ = face_->forwarder_->OpenStream(std::move(forward), this);
      return;
    }
    face_->forwarder_->Forward(std::move(forward), handle_, [this](ForwardResult result) {
      for (const auto& [key, value] : result.metadata) ctx_->AddTrailingMetadata(key, value);
      if (!result.status.ok()) {
        Answer(result.status);
        return;
      }
      response_ = std::move(result.message);
      status_ = grpc::Status::OK;
      StartWriteAndFinish(&response_, grpc::WriteOptions(), status_);
    });
  }

  void Answer(const grpc::Status& status) {
    status_ = WithLocalizedMessage(status, locale_, labels::LabelCatalogue::Builtin());
    Finish(status_);
  }

  GrpcFace* const face_;
  grpc::GenericCallbackServerContext* const ctx_;
  const absl::Time start_;
  std::shared_ptr<ForwardHandle> handle_;
  const Route* route_ = nullptr;
  std::string request_id_;
  std::string client_address_;
  std::string principal_;
  labels::Locale locale_ = labels::kDefaultLocale;  // of error messages, from accept-language
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  grpc::Status status_;
  absl::Mutex mu_;
  std::unique_ptr<ForwardStream> stream_ ABSL_GUARDED_BY(mu_);  // a streaming method's
  bool headers_sent_ ABSL_GUARDED_BY(mu_) = false;
};

grpc::ServerGenericBidiReactor* GrpcFace::CreateReactor(grpc::GenericCallbackServerContext* ctx) {
  return new Call(this, ctx);
}

}  // namespace civicpoints::gateway
