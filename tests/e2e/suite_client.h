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
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civicpoints/common/v1/role.pb.h"

namespace grpc {
class Channel;
}

namespace civicpoints::e2e {

// An environment variable the fixture sets (CP_SUITE_GATEWAY_ADDR, ...); "" when unset.
std::string SuiteSetting(const char* name);

// A tag for the names, codes and keys this run creates, and the first of its phone numbers'
// serial numbers, from the clock. `slot` (0-9) keeps programs started in the same second apart:
// each slot has 100 numbers, 20 for each of the first five calls within a program (one per
// test), and each call's tag is its own.
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

// Calls a method by its full name ("civicpoints.identity.v1.IdentityService.Login") as `token`
// ("" for none): a gateway face, or CallMethod.
using MethodCaller = std::function<grpc::Status(const std::string& method, const std::string& token,
                                                const google::protobuf::Message& request,
                                                google::protobuf::Message* response)>;

// A member of staff made through the public API.
struct StaffMember {
  std::string person_id;
  std::string grant_id;
  std::string token;  // after the first-login password change
};

// The password MakeStaff's people have after their first-login change.
inline constexpr char kStaffPassword[] = "Staff-pass-2026";

// As `admin`, creates a person with `phone` and `name` holding `role` at `org`, then signs them
// in and makes the first-login password change (to kStaffPassword), as a new member of staff
// does; the calls' idempotency keys begin with `key_prefix`. Fails the current test on any
// refusal.
StaffMember MakeStaff(const MethodCaller& call, const std::string& admin, const std::string& phone,
                      const std::string& name, common::v1::Role role, const std::string& org,
                      const std::string& key_prefix);

}  // namespace civicpoints::e2e

#endif  // CIVICPOINTS_TESTS_E2E_SUITE_CLIENT_H_
