// The running suite (ctest fixture cp_suite) as a test program reaches it: the fixture's
// settings, names unique to this run (tests share one suite), and any method of the contracts
// through the gateway's gRPC face by its path, without a generated stub.
//
//   auto channel = grpc::CreateChannel(SuiteSetting("CP_SUITE_GATEWAY_ADDR"), ...);
//   RunNames names = NamesOfThisRun("walk", 3);
//   grpc::Status s = CallMethod(channel, "/civicpoints.identity.v1.IdentityService/WhoAmI",
//                               token, request, &response);
#ifndef CIVICPOINTS_TESTS_E2E_SUITE_CLIENT_H_
#define CIVICPOINTS_TESTS_E2E_SUITE_CLIENT_H_

#include <google/protobuf/message.h>
#include <grpcpp/support/status.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}

namespace civicpoints::e2e {

// An environment variable the fixture sets (CP_SUITE_GATEWAY_ADDR, ...); "" when unset.
std::string SuiteSetting(const char* name);

// A tag for the names, codes and keys this run creates, and the first of its phone numbers'
// serial numbers, from the clock. `slot` (0-9) keeps programs started in the same second apart:
// each slot has 100 numbers.
struct RunNames {
  std::string tag;
  int64_t phone_base = 0;
};
RunNames NamesOfThisRun(absl::string_view prefix, int slot);

// Calls the method at `path` ("/pkg.Service/Method") with `token` as the bearer token unless it
// is empty, and fills `response` on OK.
grpc::Status CallMethod(const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
                        const std::string& token, const google::protobuf::Message& request,
                        google::protobuf::Message* response,
                        absl::Duration timeout = absl::Seconds(20));

}  // namespace civicpoints::e2e

#endif  // CIVICPOINTS_TESTS_E2E_SUITE_CLIENT_H_
