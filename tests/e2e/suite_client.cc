#include "tests/e2e/suite_client.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace civicpoints::e2e {

std::string SuiteSetting(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

RunNames NamesOfThisRun(absl::string_view prefix, int slot) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  return {absl::StrCat(prefix, now % 1000000), (now % 10000) * 1000 + slot * 100};
}

grpc::Status CallMethod(const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
                        const std::string& token, const google::protobuf::Message& request,
                        google::protobuf::Message* response, absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  const grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC, channel);
  return grpc::internal::BlockingUnaryCall<google::protobuf::Message, google::protobuf::Message,
                                           google::protobuf::Message, google::protobuf::Message>(
      channel.get(), rpc, &ctx, request, response);
}

}  // namespace civicpoints::e2e
