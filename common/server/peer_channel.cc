#include "common/server/peer_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace civicpoints::server {

std::shared_ptr<grpc::Channel> PeerChannel(const std::string& address,
                                           const PeerChannelOptions& options) {
  grpc::ChannelArguments args;
  const int min_ms = static_cast<int>(absl::ToInt64Milliseconds(options.min_backoff));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, min_ms);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, min_ms);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.max_backoff)));
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

}  // namespace civicpoints::server
