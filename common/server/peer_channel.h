// A channel from one of our services to another (or to identity), reconnecting on a short backoff.
// gRPC's default waits 1 s after a lost connection and doubles up to 120 s, and a call sent while
// the channel waits fails at once without trying; so after a peer's outage of a few minutes its
// callers would keep failing for up to two minutes after it came back.
#ifndef CIVICPOINTS_COMMON_SERVER_PEER_CHANNEL_H_
#define CIVICPOINTS_COMMON_SERVER_PEER_CHANNEL_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace civicpoints::server {

struct PeerChannelOptions {
  absl::Duration min_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(2);
};

// Insecure (loopback or the cluster's network; see docs/deploy.md), to host:port.
std::shared_ptr<grpc::Channel> PeerChannel(const std::string& address,
                                           const PeerChannelOptions& options = {});

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_PEER_CHANNEL_H_
