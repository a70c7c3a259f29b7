#include "tests/e2e/suite_client.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "civicpoints/identity/v1/identity_service.pb.h"

namespace civicpoints::e2e {

std::string SuiteSetting(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

RunNames NamesOfThisRun(absl::string_view prefix, int slot) {
  // Each call of one program gets names of its own too: two tests of a program can start within
  // the same second (their SetUps once made the same riders under the same keys).
  static std::atomic<int> calls{0};
  const int call = calls++;
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  return {absl::StrCat(prefix, now % 1000000, call == 0 ? "" : absl::StrCat("-", call)),
          (now % 10000) * 1000 + slot * 100 + (call % 5) * 20};
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

StaffMember MakeStaff(const MethodCaller& call, const std::string& admin, const std::string& phone,
                      const std::string& name, common::v1::Role role, const std::string& org,
                      const std::string& key_prefix) {
  const std::string identity = "civicpoints.identity.v1.IdentityService.";
  auto ok = [&](const std::string& method, const std::string& token,
                const google::protobuf::Message& req, google::protobuf::Message* resp) {
    const grpc::Status s = call(identity + method, token, req, resp);
    EXPECT_TRUE(s.ok()) << method << " for staff " << phone << ": " << s.error_code() << " "
                        << s.error_message();
  };
  identity::v1::CreatePersonRequest create;
  create.set_idempotency_key(absl::StrCat(key_prefix, "person-", phone));
  create.set_phone(phone);
  create.set_display_name(name);
  create.set_initial_password("Initial-pass-1");
  identity::v1::CreatePersonResponse person;
  ok("CreatePerson", admin, create, &person);
  identity::v1::GrantRoleRequest grant;
  grant.set_person_id(person.person().person_id());
  grant.set_role(role);
  grant.set_org_id(org);
  identity::v1::GrantRoleResponse granted;
  ok("GrantRole", admin, grant, &granted);

  identity::v1::LoginRequest login;
  login.set_phone(phone);
  login.set_password("Initial-pass-1");
  identity::v1::LoginResponse first;
  ok("Login", "", login, &first);
  EXPECT_TRUE(first.password_change_required());
  identity::v1::ChangePasswordRequest change;
  change.set_idempotency_key(absl::StrCat(key_prefix, "first-login-", phone));
  change.set_current_password("Initial-pass-1");
  change.set_new_password(kStaffPassword);
  identity::v1::ChangePasswordResponse changed;
  ok("ChangePassword", first.tokens().access_token(), change, &changed);
  return {person.person().person_id(), granted.grant().grant_id(), changed.tokens().access_token()};
}

}  // namespace civicpoints::e2e
