// The gateway connection cpctl commands call through: one channel, the stored session's bearer
// token on every call, and the token refreshed (and the session file rewritten) when it has expired
// or the gateway refuses it. Calls go by full method name with any request and response message,
// so command files need only the generated message headers, not gRPC's.
//
//   Client client({.addr = "127.0.0.1:50050", .session_path = SessionStore::DefaultPath()});
//   identity::v1::WhoAmIResponse me;
//   absl::Status s = client.Call("civicpoints.identity.v1.IdentityService.WhoAmI", req, &me);
//
// Not thread-safe: one command uses it from one thread.
#ifndef CIVICPOINTS_TOOLS_CPCTL_CLIENT_H_
#define CIVICPOINTS_TOOLS_CPCTL_CLIENT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/cpctl/session_store.h"

namespace google::protobuf {
class Message;
}
namespace grpc {
class Channel;
}

namespace civicpoints::cpctl {

struct ClientOptions {
  std::string addr = "127.0.0.1:50050";
  std::string session_path;
  absl::Duration timeout = absl::Seconds(15);
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();

  // Calls `method` ("package.Service.Method") with the session's access token, refreshing it first
  // when it has expired and once more when the gateway answers UNAUTHENTICATED. Returns the call's
  // status with its google.rpc details as payloads; UNAUTHENTICATED "not logged in" without a
  // session; INTERNAL when `method` is unknown or its types are not those of `request`/`response`.
  absl::Status Call(absl::string_view method, const google::protobuf::Message& request,
                    google::protobuf::Message* response);
  // The same without credentials (Login, RefreshToken, Logout).
  absl::Status CallAnonymous(absl::string_view method, const google::protobuf::Message& request,
                             google::protobuf::Message* response);

  // The stored session (nullopt when logged out), loaded once.
  absl::StatusOr<std::optional<Session>> session();
  // Stores `session` as the current one (after login or a password change).
  absl::Status Adopt(Session session);
  // Forgets the session locally (the caller revokes it on the server first).
  absl::Status Forget();

  const ClientOptions& options() const { return options_; }

 private:
  absl::Status Invoke(absl::string_view method, const google::protobuf::Message& request,
                      google::protobuf::Message* response, const std::string& bearer);
  absl::Status Refresh();

  ClientOptions options_;
  SessionStore store_;
  std::shared_ptr<grpc::Channel> channel_;
  bool loaded_ = false;
  std::optional<Session> session_;
};

// "NOT_FOUND: place 7 does not exist (PLACE_NOT_FOUND)": the code, the message and the stable
// reason of a google.rpc.ErrorInfo detail when the status carries one.
std::string Describe(const absl::Status& status);
// The ErrorInfo reason of `status`, or "" when it has none.
std::string ErrorReason(const absl::Status& status);

// A fresh random idempotency key ("cpctl-" and 32 hex digits) for a one-off change; pass --key to
// a command to make a retry by hand safe.
std::string NewIdempotencyKey();

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_CLIENT_H_
