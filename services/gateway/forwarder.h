// Forwarder: sends a call to the backend that serves it, as bytes (the message is never decoded),
// over a few connections per backend taken in turn (so the backend's transports work in
// parallel, as they would for many separate clients), with the caller's deadline capped by the
// backend's timeout. A call the backend could not take (UNAVAILABLE) is sent once more when its
// method is safe to retry (declared NO_SIDE_EFFECTS or IDEMPOTENT) and time is left; others are
// never resent. A backend that is down answers UNAVAILABLE at once (calls do not wait for it to
// come up). Server-streaming methods pass through too (OpenStream): any such method of the
// contracts, with no code of its own here. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_GATEWAY_FORWARDER_H_
#define CIVICPOINTS_SERVICES_GATEWAY_FORWARDER_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/gateway/route_table.h"

namespace civicpoints::gateway {

struct BackendOptions {
  std::string address;  // host:port
  absl::Duration timeout = absl::Seconds(10);
};

// One forwarded call. The metadata goes to the backend as is (authorization, x-request-id,
// x-client-address).
struct ForwardRequest {
  const Route* route = nullptr;
  grpc::ByteBuffer message;
  std::vector<std::pair<std::string, std::string>> metadata;
  absl::Time deadline = absl::InfiniteFuture();  // the caller's; capped by the backend timeout
};

struct ForwardResult {
  grpc::Status status;
  grpc::ByteBuffer message;
  // The backend's response metadata, initial then trailing, without gRPC's own keys.
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Cancels a call in flight (the caller went away). Safe to call after the call ended.
class ForwardHandle {
 public:
  void Cancel();

 private:
  friend class Forwarder;
  absl::Mutex mu_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// The caller's side of a forwarded server-streaming call (OpenStream). Calls come one at a time,
// in order: OnHeaders at most once, then OnMessage any number of times, each answered by the
// stream's Next, then OnEnd, last.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // The backend accepted the call: its initial metadata, without gRPC's own keys.
  virtual void OnHeaders(std::vector<std::pair<std::string, std::string>> metadata) = 0;
  // A message for the caller, valid until Next is called.
  virtual void OnMessage(const grpc::ByteBuffer& message) = 0;
  // The backend's final status and trailing metadata.
  virtual void OnEnd(grpc::Status status,
                     std::vector<std::pair<std::string, std::string>> trailers) = 0;
};

// A forwarded server-streaming call in flight. It reads the backend's next message only when the
// previous one was delivered (Next), so a slow caller slows the backend through gRPC's flow
// control instead of filling the gateway's memory. Destroy only after the sink's OnEnd.
class ForwardStream {
 public:
  virtual ~ForwardStream() = default;
  // The last message was written to the caller (`delivered`), or could not be (the stream is
  // then cancelled).
  virtual void Next(bool delivered) = 0;
  // The caller went away: cancels the backend call (OnEnd follows). Safe at any time.
  virtual void Cancel() = 0;
};

class Forwarder {
 public:
  // Errors: INVALID_ARGUMENT when a route's backend has no address.
  static absl::StatusOr<std::unique_ptr<Forwarder>> Create(
      const std::map<std::string, BackendOptions>& backends, const RouteTable& routes,
      int max_message_bytes);

  // Sends the call; `done` runs once, on a gRPC thread, with the outcome. `handle` (may be
  // null) must live until `done` has run.
  void Forward(ForwardRequest request, std::shared_ptr<ForwardHandle> handle,
               std::function<void(ForwardResult)> done);

  // Forward, waiting for the outcome.
  ForwardResult ForwardBlocking(ForwardRequest request);

  // Starts a server-streaming call: the request is sent once, and what the backend streams back
  // goes to `sink` (which must outlive the stream). The caller's deadline applies, not the
  // backend's timeout: a stream lasts as long as the caller wants it. Streams are never retried.
  std::unique_ptr<ForwardStream> OpenStream(ForwardRequest request, StreamSink* sink);

 private:
  struct Backend {
    BackendOptions options;
    std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
    std::atomic<uint32_t> next{0};
  };
  struct Attempt;
  class Stream;
  void Start(std::unique_ptr<Attempt> attempt);
  grpc::GenericStub& NextStub(Backend& backend);

  absl::flat_hash_map<std::string, std::unique_ptr<Backend>> backends_;
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_FORWARDER_H_
