// Identity as another service's test meets it: the civicpoints-identity binary over a scratch
// database, its first admin signed in, API keys registered for the internal services, and the
// steps tests start from (an org node, a member of staff, a rider), all through its contract.
// Nothing of identity's code is linked: a test of activity or rewards stays a test of that service.
//
//   IdentityPeer identity;
//   ASSERT_TRUE(identity.ok());
//   std::string street = identity.MakeOrg(district, ORG_LEVEL_STREET, "qingyuan", "清远街道");
//   IdentityPeer::Member staff = identity.Staff("13900000031", ROLE_COMMUNITY_STAFF, west);
#ifndef CIVICPOINTS_TESTS_PEERS_IDENTITY_PEER_H_
#define CIVICPOINTS_TESTS_PEERS_IDENTITY_PEER_H_

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <memory>
#include <string>

#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/testing/service_process.h"
#include "common/testing/test_env.h"
#include "tests/peers/identity_calls.h"

namespace civicpoints::testing {

class IdentityPeer {
 public:
  static constexpr char kAdminPhone[] = "13900000001";
  static constexpr char kAdminPassword[] = "Admin-pass-2027";
  static constexpr const char* kStaffPassword = IdentityCalls::kStaffPassword;
  static constexpr const char* kRiderPassword = IdentityCalls::kRiderPassword;

  // Starts identity and signs the first admin in (changing the initial password, as the first
  // sign-in must); check ok() before use.
  IdentityPeer();
  ~IdentityPeer();

  bool ok() const { return calls_ != nullptr; }
  identity::v1::IdentityService::Stub& stub() { return *stub_; }
  std::string address() const { return process_->address(); }
  // The first admin's access token (district admin at the city root).
  const std::string& admin_token() const { return calls_->admin_token(); }
  // The API key identity holds for internal service `name` ("activity" or "rewards"), as the
  // deployment's key files give it.
  std::string ServiceKey(const std::string& name) const;

  // A client context carrying `token` (none when empty).
  static std::unique_ptr<grpc::ClientContext> With(const std::string& token) {
    return IdentityCalls::With(token);
  }
  // First column of the first row of a query on identity's database, as text ("" for none).
  std::string Sql(const std::string& query);

  // The steps tests start from, through identity's contract (identity_calls.h).
  using Member = IdentityCalls::Member;
  std::string MakeOrg(const std::string& parent, common::v1::OrgLevel level,
                      const std::string& code, const std::string& name) {
    return calls_->MakeOrg(parent, level, code, name);
  }
  Member Staff(const std::string& phone, common::v1::Role role, const std::string& org_id) {
    return calls_->Staff(phone, role, org_id);
  }
  identity::v1::RegisterRiderResponse Register(const std::string& phone, const std::string& name,
                                               const std::string& check_in_code = "") {
    return calls_->Register(phone, name, check_in_code);
  }
  std::string Login(const std::string& phone, const std::string& password) {
    return calls_->Login(phone, password);
  }
  std::string CitySystem(const std::string& org_id, const std::vector<std::string>& scopes,
                         std::string* account_id = nullptr) {
    return calls_->CitySystem(org_id, scopes, account_id);
  }

 private:
  ScratchDatabase db_;
  std::filesystem::path keys_dir_;
  std::unique_ptr<ServiceProcess> process_;
  std::unique_ptr<identity::v1::IdentityService::Stub> stub_;
  std::unique_ptr<IdentityCalls> calls_;
};

}  // namespace civicpoints::testing

#endif  // CIVICPOINTS_TESTS_PEERS_IDENTITY_PEER_H_
