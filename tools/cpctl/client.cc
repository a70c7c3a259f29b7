#include "tools/cpctl/client.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <sodium.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "common/status/grpc_status.h"
#include "google/rpc/error_details.pb.h"

namespace civicpoints::cpctl {
namespace {

namespace gp = google::protobuf;
namespace idv1 = civicpoints::identity::v1;

constexpr char kErrorInfoType[] = "type.googleapis.com/google.rpc.ErrorInfo";
// A token this close to expiry is refreshed before use, so it does not lapse in flight.
constexpr absl::Duration kExpirySlack = absl::Seconds(30);

absl::Time FromProto(const gp::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

}  // namespace

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      store_(options_.session_path.empty() ? SessionStore::DefaultPath() : options_.session_path),
      channel_(grpc::CreateChannel(options_.addr, grpc::InsecureChannelCredentials())) {}

Client::~Client() = default;

absl::StatusOr<std::optional<Session>> Client::session() {
  if (!loaded_) {
    absl::StatusOr<std::optional<Session>> s = store_.Load();
    if (!s.ok()) return s.status();
    session_ = *std::move(s);
    loaded_ = true;
  }
  return session_;
}

absl::Status Client::Adopt(Session session) {
  session.addr = options_.addr;
  if (absl::Status s = store_.Save(session); !s.ok()) return s;
  session_ = std::move(session);
  loaded_ = true;
  return absl::OkStatus();
}

absl::Status Client::Forget() {
  session_.reset();
  loaded_ = true;
  return store_.Remove();
}

absl::Status Client::Invoke(absl::string_view method, const gp::Message& request,
                            gp::Message* response, const std::string& bearer) {
  const gp::MethodDescriptor* md =
      gp::DescriptorPool::generated_pool()->FindMethodByName(std::string(method));
  if (md == nullptr) return absl::InternalError(absl::StrCat("unknown method ", method));
  if (md->input_type() != request.GetDescriptor() ||
      md->output_type() != response->GetDescriptor()) {
    return absl::InternalError(absl::StrCat(method, " called with the wrong message types"));
  }
  const std::string path = absl::StrCat("/", md->service()->full_name(), "/", md->name());
  const grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC,
                                      channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  if (!bearer.empty()) ctx.AddMetadata("authorization", absl::StrCat("Bearer ", bearer));
  const grpc::Status status =
      grpc::internal::BlockingUnaryCall<gp::Message, gp::Message, gp::Message, gp::Message>(
          channel_.get(), rpc, &ctx, request, response);
  return FromGrpcStatus(status);
}

absl::Status Client::CallAnonymous(absl::string_view method, const gp::Message& request,
                                   gp::Message* response) {
  return Invoke(method, request, response, "");
}

absl::Status Client::Refresh() {
  if (session_->refresh_token.empty() || session_->refresh_expire_time <= absl::Now()) {
    return absl::UnauthenticatedError("the session has expired; run `cpctl login` again");
  }
  idv1::RefreshTokenRequest req;
  req.set_refresh_token(session_->refresh_token);
  idv1::RefreshTokenResponse resp;
  absl::Status s =
      CallAnonymous("civicpoints.identity.v1.IdentityService.RefreshToken", req, &resp);
  if (s.code() == absl::StatusCode::kUnauthenticated) {
    return absl::UnauthenticatedError(
        absl::StrCat("the session was ended (", s.message(), "); run `cpctl login` again"));
  }
  if (!s.ok()) return s;
  Session next = *session_;
  next.access_token = resp.tokens().access_token();
  next.access_expire_time = FromProto(resp.tokens().access_token_expire_time());
  next.refresh_token = resp.tokens().refresh_token();
  next.refresh_expire_time = FromProto(resp.tokens().refresh_token_expire_time());
  return Adopt(std::move(next));
}

absl::Status Client::Call(absl::string_view method, const gp::Message& request,
                          gp::Message* response) {
  absl::StatusOr<std::optional<Session>> loaded = session();
  if (!loaded.ok()) return loaded.status();
  if (!session_.has_value()) {
    return absl::UnauthenticatedError("not logged in; run `cpctl login --phone PHONE` first");
  }
  bool refreshed = false;
  if (session_->access_expire_time - kExpirySlack <= absl::Now()) {
    if (absl::Status s = Refresh(); !s.ok()) return s;
    refreshed = true;
  }
  absl::Status s = Invoke(method, request, response, session_->access_token);
  if (s.code() == absl::StatusCode::kUnauthenticated && !refreshed) {
    if (absl::Status r = Refresh(); !r.ok()) return r;
    s = Invoke(method, request, response, session_->access_token);
  }
  if (!s.ok() && session_->password_change_required &&
      (s.code() == absl::StatusCode::kPermissionDenied ||
       s.code() == absl::StatusCode::kFailedPrecondition)) {
    return absl::Status(s.code(), absl::StrCat(s.message(),
                                               " (this account must change its password first: "
                                               "run `cpctl password change`)"));
  }
  return s;
}

std::string ErrorReason(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoType);
  if (!payload.has_value()) return "";
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

std::string Describe(const absl::Status& status) {
  std::string out = absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
  if (std::string reason = ErrorReason(status); !reason.empty()) {
    absl::StrAppend(&out, " (", reason, ")");
  }
  return out;
}

std::string NewIdempotencyKey() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return absl::StrCat("cpctl-", hex);
}

}  // namespace civicpoints::cpctl
