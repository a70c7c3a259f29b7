// The steps tests take through identity's contract — an org node, a member of staff, a rider, a
// sign-in — as calls on a stub, for identity's own test environment (in-process) and for
// IdentityPeer (identity as a process) alike. Failures fail the current test.
#ifndef CIVICPOINTS_TESTS_PEERS_IDENTITY_CALLS_H_
#define CIVICPOINTS_TESTS_PEERS_IDENTITY_CALLS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "civicpoints/identity/v1/identity_service.grpc.pb.h"

namespace civicpoints::testing {

class IdentityCalls {
 public:
  static constexpr char kStaffInitialPassword[] = "Staff-pass-1";
  static constexpr char kStaffPassword[] = "Staff-pass-2027";
  static constexpr char kRiderPassword[] = "ride-safe-88";

  // `stub` outlives this; riders consent to `policy_version`.
  IdentityCalls(identity::v1::IdentityService::Stub* stub, std::string policy_version)
      : stub_(stub), policy_version_(std::move(policy_version)) {}

  // The admin whose token makes org nodes and staff.
  void set_admin_token(std::string token) { admin_token_ = std::move(token); }
  const std::string& admin_token() const { return admin_token_; }

  // A client context carrying `token` (none when empty).
  static std::unique_ptr<grpc::ClientContext> With(const std::string& token);

  // Creates an org node under `parent` as the admin; returns its id (empty on failure).
  std::string MakeOrg(const std::string& parent, common::v1::OrgLevel level,
                      const std::string& code, const std::string& name);
  // A member of staff created by the admin with `role` at `org_id`, first sign-in done.
  struct Member {
    std::string person_id;
    std::string token;
  };
  Member Staff(const std::string& phone, common::v1::Role role, const std::string& org_id);
  // Registers a rider (with every consent, `check_in_code` if any); the response has the tokens.
  identity::v1::RegisterRiderResponse Register(const std::string& phone, const std::string& name,
                                               const std::string& check_in_code = "");
  // A city system: a service account at `org_id` made by the admin, an API key with `scopes`, and
  // the access token it exchanges for; `account_id`, when given, gets the account's id. Each call
  // makes a new account.
  std::string CitySystem(const std::string& org_id, const std::vector<std::string>& scopes,
                         std::string* account_id = nullptr);
  // Signs in; returns the access token (empty on failure).
  std::string Login(const std::string& phone, const std::string& password);
  // Signs in with an initial password, changes it to `new_password` and returns the new token.
  std::string FirstLogin(const std::string& phone, const std::string& initial,
                         const std::string& new_password);

 private:
  identity::v1::IdentityService::Stub* stub_;
  std::string policy_version_;
  std::string admin_token_;
  int registrations_ = 0;
  int city_systems_ = 0;
};

}  // namespace civicpoints::testing

#endif  // CIVICPOINTS_TESTS_PEERS_IDENTITY_CALLS_H_
