// Client side of the two standard services every Civic Points server exposes: gRPC health
// (grpc.health.v1) and server reflection (v1alpha and v1, what grpcurl uses). Used by cp_probe, by
// `make run` to wait for readiness, and by the tests.
#ifndef CIVICPOINTS_COMMON_PROBE_PROBE_H_
#define CIVICPOINTS_COMMON_PROBE_PROBE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}

namespace civicpoints::probe {

// A channel to `address` for probing a server that may still be starting: it tries to connect
// again every 100-500 ms, where gRPC's default waits 1 s and grows, so a wait for a server that
// came up a moment after the first try would otherwise lose seconds.
std::shared_ptr<grpc::Channel> ProbeChannel(const std::string& address);

// Asks the health service about `service` ("" for the server as a whole) and returns the status
// name: "SERVING", "NOT_SERVING", "UNKNOWN" or "SERVICE_UNKNOWN". Errors: the call's status
// (UNAVAILABLE when nothing listens, NOT_FOUND for a service the server does not know).
absl::StatusOr<std::string> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service, absl::Duration timeout);

// Polls the server's overall health until it answers SERVING; false if it did not within
// `timeout`.
bool WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout);

// Lists the full names of the services the server offers through reflection.
absl::StatusOr<std::vector<std::string>> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Duration timeout);

// Asks reflection (v1) for the file that declares `symbol` ("pkg.Service", "pkg.Message") and
// the files it depends on, serialized FileDescriptorProtos as the server sent them: what grpcurl
// reads to describe and call a method. Errors: the call's status; NOT_FOUND (with the server's
// message) when the server has no such symbol.
absl::StatusOr<std::vector<std::string>> FilesForSymbol(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& symbol,
    absl::Duration timeout);

}  // namespace civicpoints::probe

#endif  // CIVICPOINTS_COMMON_PROBE_PROBE_H_
