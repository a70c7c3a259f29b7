// IdentityServiceImpl: the identity service (identity_service.proto) over PostgreSQL. Each
// method checks the caller against the method's declared access policy, then org scope on the
// resource, validates its input (INVALID_ARGUMENT naming the field, nothing written), and does its
// work in one transaction. The methods are spread over files by area: org_methods.cc,
// session_methods.cc, key_methods.cc, people_methods.cc, grant_methods.cc, check_in_methods.cc,
// service_account_methods.cc and stats_methods.cc; shared helpers are in service_support.cc.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
#define CIVICPOINTS_SERVICES_IDENTITY_IDENTITY_SERVICE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/auth/method_policy.h"
#include "common/pg/throttle.h"
#include "services/identity/crypto.h"
#include "services/identity/hash_gate.h"
#include "services/identity/pg_session_store.h"
#include "services/identity/revocation_feed.h"

namespace pqxx {
class transaction_base;
class connection_base;
}  // namespace pqxx
namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::identity {

class KeyRing;
class RiderOrders;
class SmsSender;
struct PersonRow;

// How failed logins are limited (all windows slide). Nobody can lock a rider out: failures from
// one address lock only that address (for one phone, or for all after many); failures at one
// phone from everywhere only slow further attempts down; and a device that signed in before
// (a valid device token) counts only its own failures.
struct LoginLimits {
  absl::Duration window = absl::Minutes(15);
  int failures_per_phone_and_address = 5;
  int failures_per_address = 50;
  // Per phone, from any address: after this many failures within phone_window, each further
  // attempt waits phone_first_delay doubled per failure beyond it, at most phone_max_delay, after
  // the phone's latest failure.
  int phone_failures_before_delays = 10;
  absl::Duration phone_window = absl::Hours(24);
  absl::Duration phone_first_delay = absl::Seconds(1);
  absl::Duration phone_max_delay = absl::Minutes(15);
  // A device token's own budget, and how long one stays valid.
  int failures_per_device = 5;
  absl::Duration device_token_ttl = absl::Hours(24 * 90);
};

// How SMS codes are limited (sliding windows), counted for every number asked about so the limits
// tell nothing about which numbers are registered.
struct SmsLimits {
  absl::Duration resend_after = absl::Minutes(1);  // one code per number per this
  int codes_per_phone_per_hour = 5;
  int codes_per_address_per_hour = 20;
  // Wrong codes (ResetPassword, LoginWithSmsCode), per number and per client address.
  absl::Duration wrong_code_window = absl::Minutes(15);
  int wrong_codes_per_phone = 10;
  int wrong_codes_per_address = 20;
};

struct IdentityOptions {
  PasswordHasher hasher;
  // argon2id memory all hashes in flight may take together; with hasher.memlimit_bytes it sets
  // how many run at once (256 MiB / 64 MiB = 4). A caller finding none free waits hash_queue_wait,
  // then gets RESOURCE_EXHAUSTED with a retry delay.
  size_t hash_memory_budget_bytes = size_t{256} << 20;
  absl::Duration hash_queue_wait = absl::Milliseconds(250);
  LoginLimits login;
  // Where one-time codes go (sms_sender.h); null: no SMS, RequestSmsCode is FAILED_PRECONDITION.
  std::shared_ptr<SmsSender> sms_sender;
  SmsLimits sms;
  // Where a closing rider's orders are ended (rider_orders.h); null: CloseMyAccount is
  // FAILED_PRECONDITION.
  std::shared_ptr<RiderOrders> rider_orders;
  // Registrations per client address per hour. Generous: a whole station's riders may register
  // over its Wi-Fi on a check-in day.
  int registrations_per_address = 200;
  // Wrong API keys per (key id, client address) and per client address, per 15 minutes (sliding).
  // A right key is never refused for others' failures.
  int api_key_failures_per_key_and_address = 10;
  int api_key_failures_per_address = 100;
  // The city root's display name (ResolveOrgPath's display_path for the root).
  std::string city_name = "大同市";
  absl::Duration access_token_ttl = absl::Minutes(15);
  absl::Duration refresh_token_ttl = absl::Hours(24 * 30);
  // The privacy policy riders consent to at registration.
  std::string policy_version = "2026-11";
  std::string policy_url = "https://civicpoints.example/privacy/2026-11";
  // Take the client's address from x-client-address metadata (set by the gateway). Only when
  // every caller comes through the gateway: anyone else could set it to dodge per-address limits.
  bool trust_client_address_header = false;
};

// Who is calling: the verified principal (absent on a public method called without a token; its
// grants narrowed to those of the method's roles), and the client's address for throttling.
struct Caller {
  const auth::Principal* principal = nullptr;
  std::string client_address;
  absl::Time now;
  const auth::Principal& who() const { return *principal; }
};

class IdentityServiceImpl final : public v1::IdentityService::Service {
 public:
  // All pointers must outlive the service.
  IdentityServiceImpl(pg::PgPool* pool, const Secrets* secrets, KeyRing* keys,
                      const auth::Authorizer* authorizer, IdentityOptions options);

  // Creates the first district admin at the city root when none exists (a fresh installation),
  // with a password that must be changed at first login. Errors: INVALID_ARGUMENT for a bad phone
  // or password.
  absl::Status BootstrapAdmin(const std::string& phone, const std::string& password,
                              const std::string& display_name);

  // Makes sure the suite's service `name` (activity, rewards) has an internal service account
  // (`sa_internal_<name>`, ROLE_INTERNAL_SERVICE at the city root) holding the API key `api_key`,
  // which the deployment generated and gave to both identity and that service. Idempotent across
  // restarts. Errors: INVALID_ARGUMENT for a bad name or key; FAILED_PRECONDITION when the key's
  // id is already held with another secret or was revoked (a new key file is needed).
  absl::Status EnsureInternalServiceKey(const std::string& name, const std::string& api_key);

  // Also sets the city root's name when it differs.
  absl::Status SetCityName();

  grpc::Status CreateOrgNode(grpc::ServerContext* ctx, const v1::CreateOrgNodeRequest* req,
                             v1::CreateOrgNodeResponse* resp) override;
  grpc::Status RenameOrgNode(grpc::ServerContext* ctx, const v1::RenameOrgNodeRequest* req,
                             v1::RenameOrgNodeResponse* resp) override;
  grpc::Status SetOrgDivisionCode(grpc::ServerContext* ctx,
                                  const v1::SetOrgDivisionCodeRequest* req,
                                  v1::SetOrgDivisionCodeResponse* resp) override;
  grpc::Status RetireOrgNode(grpc::ServerContext* ctx, const v1::RetireOrgNodeRequest* req,
                             v1::RetireOrgNodeResponse* resp) override;
  grpc::Status DeleteOrgNode(grpc::ServerContext* ctx, const v1::DeleteOrgNodeRequest* req,
                             v1::DeleteOrgNodeResponse* resp) override;
  grpc::Status GetOrgNode(grpc::ServerContext* ctx, const v1::GetOrgNodeRequest* req,
                          v1::GetOrgNodeResponse* resp) override;
  grpc::Status LookupOrgNode(grpc::ServerContext* ctx, const v1::LookupOrgNodeRequest* req,
                             v1::LookupOrgNodeResponse* resp) override;
  grpc::Status BatchGetOrgNodes(grpc::ServerContext* ctx, const v1::BatchGetOrgNodesRequest* req,
                                v1::BatchGetOrgNodesResponse* resp) override;
  grpc::Status ListOrgChildren(grpc::ServerContext* ctx, const v1::ListOrgChildrenRequest* req,
                               v1::ListOrgChildrenResponse* resp) override;
  grpc::Status ResolveOrgPath(grpc::ServerContext* ctx, const v1::ResolveOrgPathRequest* req,
                              v1::ResolveOrgPathResponse* resp) override;
  grpc::Status GetPrivacyPolicy(grpc::ServerContext* ctx, const v1::GetPrivacyPolicyRequest* req,
                                v1::GetPrivacyPolicyResponse* resp) override;
  grpc::Status RegisterRider(grpc::ServerContext* ctx, const v1::RegisterRiderRequest* req,
                             v1::RegisterRiderResponse* resp) override;
  grpc::Status Login(grpc::ServerContext* ctx, const v1::LoginRequest* req,
                     v1::LoginResponse* resp) override;
  grpc::Status RefreshToken(grpc::ServerContext* ctx, const v1::RefreshTokenRequest* req,
                            v1::RefreshTokenResponse* resp) override;
  grpc::Status Logout(grpc::ServerContext* ctx, const v1::LogoutRequest* req,
                      v1::LogoutResponse* resp) override;
  grpc::Status LogoutEverywhere(grpc::ServerContext* ctx, const v1::LogoutEverywhereRequest* req,
                                v1::LogoutEverywhereResponse* resp) override;
  grpc::Status ChangePassword(grpc::ServerContext* ctx, const v1::ChangePasswordRequest* req,
                              v1::ChangePasswordResponse* resp) override;
  grpc::Status ExchangeApiKey(grpc::ServerContext* ctx, const v1::ExchangeApiKeyRequest* req,
                              v1::ExchangeApiKeyResponse* resp) override;
  grpc::Status WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest* req,
                      v1::WhoAmIResponse* resp) override;
  grpc::Status ListPublicKeys(grpc::ServerContext* ctx, const v1::ListPublicKeysRequest* req,
                              v1::ListPublicKeysResponse* resp) override;
  grpc::Status GetJwks(grpc::ServerContext* ctx, const v1::GetJwksRequest* req,
                       v1::GetJwksResponse* resp) override;
  grpc::Status RotateSigningKey(grpc::ServerContext* ctx, const v1::RotateSigningKeyRequest* req,
                                v1::RotateSigningKeyResponse* resp) override;
  grpc::Status RevokeSigningKey(grpc::ServerContext* ctx, const v1::RevokeSigningKeyRequest* req,
                                v1::RevokeSigningKeyResponse* resp) override;
  grpc::Status CreatePerson(grpc::ServerContext* ctx, const v1::CreatePersonRequest* req,
                            v1::CreatePersonResponse* resp) override;
  grpc::Status GetPerson(grpc::ServerContext* ctx, const v1::GetPersonRequest* req,
                         v1::GetPersonResponse* resp) override;
  grpc::Status BatchGetPeople(grpc::ServerContext* ctx, const v1::BatchGetPeopleRequest* req,
                              v1::BatchGetPeopleResponse* resp) override;
  grpc::Status ListPeople(grpc::ServerContext* ctx, const v1::ListPeopleRequest* req,
                          v1::ListPeopleResponse* resp) override;
  grpc::Status FindPersonByPhone(grpc::ServerContext* ctx, const v1::FindPersonByPhoneRequest* req,
                                 v1::FindPersonByPhoneResponse* resp) override;
  grpc::Status UpdatePerson(grpc::ServerContext* ctx, const v1::UpdatePersonRequest* req,
                            v1::UpdatePersonResponse* resp) override;
  // Rider lookup for city systems (resolve_methods.cc).
  grpc::Status ResolveRider(grpc::ServerContext* ctx, const v1::ResolveRiderRequest* req,
                            v1::ResolveRiderResponse* resp) override;
  grpc::Status BatchResolveRiders(grpc::ServerContext* ctx,
                                  const v1::BatchResolveRidersRequest* req,
                                  v1::BatchResolveRidersResponse* resp) override;
  grpc::Status UpdateMyRiderProfile(grpc::ServerContext* ctx,
                                    const v1::UpdateMyRiderProfileRequest* req,
                                    v1::UpdateMyRiderProfileResponse* resp) override;
  grpc::Status GetMyPersonalData(grpc::ServerContext* ctx, const v1::GetMyPersonalDataRequest* req,
                                 v1::GetMyPersonalDataResponse* resp) override;
  // A rider's own privacy choices (privacy_methods.cc).
  grpc::Status UpdateMyConsent(grpc::ServerContext* ctx, const v1::UpdateMyConsentRequest* req,
                               v1::UpdateMyConsentResponse* resp) override;
  grpc::Status CloseMyAccount(grpc::ServerContext* ctx, const v1::CloseMyAccountRequest* req,
                              v1::CloseMyAccountResponse* resp) override;
  // One-time SMS codes (sms_code_methods.cc).
  grpc::Status RequestSmsCode(grpc::ServerContext* ctx, const v1::RequestSmsCodeRequest* req,
                              v1::RequestSmsCodeResponse* resp) override;
  grpc::Status ResetPassword(grpc::ServerContext* ctx, const v1::ResetPasswordRequest* req,
                             v1::ResetPasswordResponse* resp) override;
  grpc::Status LoginWithSmsCode(grpc::ServerContext* ctx, const v1::LoginWithSmsCodeRequest* req,
                                v1::LoginWithSmsCodeResponse* resp) override;
  // The ranking names' feed for the ledger (ranking_name_methods.cc).
  grpc::Status ListRankingNames(grpc::ServerContext* ctx, const v1::ListRankingNamesRequest* req,
                                v1::ListRankingNamesResponse* resp) override;
  grpc::Status GrantRole(grpc::ServerContext* ctx, const v1::GrantRoleRequest* req,
                         v1::GrantRoleResponse* resp) override;
  grpc::Status RevokeRole(grpc::ServerContext* ctx, const v1::RevokeRoleRequest* req,
                          v1::RevokeRoleResponse* resp) override;
  grpc::Status ListRoleGrants(grpc::ServerContext* ctx, const v1::ListRoleGrantsRequest* req,
                              v1::ListRoleGrantsResponse* resp) override;
  grpc::Status GetCheckInCode(grpc::ServerContext* ctx, const v1::GetCheckInCodeRequest* req,
                              v1::GetCheckInCodeResponse* resp) override;
  grpc::Status RotateCheckInCode(grpc::ServerContext* ctx, const v1::RotateCheckInCodeRequest* req,
                                 v1::RotateCheckInCodeResponse* resp) override;
  grpc::Status CheckInWithCode(grpc::ServerContext* ctx, const v1::CheckInWithCodeRequest* req,
                               v1::CheckInWithCodeResponse* resp) override;
  grpc::Status RequestCheckIn(grpc::ServerContext* ctx, const v1::RequestCheckInRequest* req,
                              v1::RequestCheckInResponse* resp) override;
  grpc::Status CancelCheckInRequest(grpc::ServerContext* ctx,
                                    const v1::CancelCheckInRequestRequest* req,
                                    v1::CancelCheckInRequestResponse* resp) override;
  grpc::Status ApproveCheckIn(grpc::ServerContext* ctx, const v1::ApproveCheckInRequest* req,
                              v1::ApproveCheckInResponse* resp) override;
  grpc::Status RejectCheckIn(grpc::ServerContext* ctx, const v1::RejectCheckInRequest* req,
                             v1::RejectCheckInResponse* resp) override;
  grpc::Status GetCheckIn(grpc::ServerContext* ctx, const v1::GetCheckInRequest* req,
                          v1::GetCheckInResponse* resp) override;
  grpc::Status ListCheckIns(grpc::ServerContext* ctx, const v1::ListCheckInsRequest* req,
                            v1::ListCheckInsResponse* resp) override;
  grpc::Status ListMyCheckIns(grpc::ServerContext* ctx, const v1::ListMyCheckInsRequest* req,
                              v1::ListMyCheckInsResponse* resp) override;
  grpc::Status CreateServiceAccount(grpc::ServerContext* ctx,
                                    const v1::CreateServiceAccountRequest* req,
                                    v1::CreateServiceAccountResponse* resp) override;
  grpc::Status GetServiceAccount(grpc::ServerContext* ctx, const v1::GetServiceAccountRequest* req,
                                 v1::GetServiceAccountResponse* resp) override;
  grpc::Status ListServiceAccounts(grpc::ServerContext* ctx,
                                   const v1::ListServiceAccountsRequest* req,
                                   v1::ListServiceAccountsResponse* resp) override;
  grpc::Status DisableServiceAccount(grpc::ServerContext* ctx,
                                     const v1::DisableServiceAccountRequest* req,
                                     v1::DisableServiceAccountResponse* resp) override;
  grpc::Status CreateApiKey(grpc::ServerContext* ctx, const v1::CreateApiKeyRequest* req,
                            v1::CreateApiKeyResponse* resp) override;
  grpc::Status GetApiKey(grpc::ServerContext* ctx, const v1::GetApiKeyRequest* req,
                         v1::GetApiKeyResponse* resp) override;
  grpc::Status ListApiKeys(grpc::ServerContext* ctx, const v1::ListApiKeysRequest* req,
                           v1::ListApiKeysResponse* resp) override;
  grpc::Status ExpireApiKey(grpc::ServerContext* ctx, const v1::ExpireApiKeyRequest* req,
                            v1::ExpireApiKeyResponse* resp) override;
  grpc::Status RevokeApiKey(grpc::ServerContext* ctx, const v1::RevokeApiKeyRequest* req,
                            v1::RevokeApiKeyResponse* resp) override;
  grpc::Status GetOrgStats(grpc::ServerContext* ctx, const v1::GetOrgStatsRequest* req,
                           v1::GetOrgStatsResponse* resp) override;
  grpc::Status ListChildOrgStats(grpc::ServerContext* ctx, const v1::ListChildOrgStatsRequest* req,
                                 v1::ListChildOrgStatsResponse* resp) override;
  grpc::Status ListRevocations(grpc::ServerContext* ctx, const v1::ListRevocationsRequest* req,
                               v1::ListRevocationsResponse* resp) override;

 private:
  using Body = std::function<absl::Status(const Caller&)>;
  // Authorizes the call to `method` and runs `body`; the only place grpc::Status is made.
  grpc::Status Handle(grpc::ServerContext* ctx, const char* method, const Body& body);

  // Runs `fn` in a read-write transaction, committed when it returns OK.
  absl::Status InTx(absl::string_view what,
                    const std::function<absl::Status(pqxx::transaction_base&)>& fn);
  // Runs `fn` in a read-only transaction.
  absl::Status InReadTx(absl::string_view what,
                        const std::function<absl::Status(pqxx::transaction_base&)>& fn);
  // Runs `fn` once per (method, idempotency key): a repeat with the same request (hashed without
  // `secret_fields`) returns the first response stored in `response`; a different request under
  // the same key is FAILED_PRECONDITION.
  absl::Status Idempotent(absl::string_view method, const std::string& key,
                          const google::protobuf::Message& request,
                          google::protobuf::Message* response,
                          const std::function<absl::Status(pqxx::transaction_base&)>& fn);

  // One sliding-window limit (common/pg/throttle.h). Take counts an attempt before it is made, so
  // parallel attempts cannot all slip under the limit; it fails RESOURCE_EXHAUSTED (with the exact
  // wait) when the attempt would exceed `limit` within `window`. Refund uncounts the bucket's
  // latest attempt when it turned out not to count (a right code: only failures are limited).
  absl::Status TakeThrottle(const std::string& bucket, int limit, absl::Duration window,
                            absl::Time now);
  void RefundThrottle(const std::string& bucket);

  // Counts a password attempt for `phone_hash` against the login limits (LoginLimits): a device
  // token valid for the phone (`device_id`) has its own budget; otherwise the phone-and-address,
  // address and growing per-phone limits apply. Refund the ticket when the password was right.
  // Errors: RESOURCE_EXHAUSTED with the exact wait.
  absl::StatusOr<pg::Throttle::Ticket> TakeLoginAttempt(const std::string& phone_hash,
                                                        const std::optional<std::string>& device_id,
                                                        const Caller& caller);
  // Checks a phone-and-password sign-in under the login limits and returns the person. Errors:
  // UNAUTHENTICATED (one message for an unknown phone, a wrong password or an inactive account),
  // counted as a failure; RESOURCE_EXHAUSTED from the limits or the hash gate (not counted).
  absl::StatusOr<PersonRow> CheckLogin(const std::string& phone_hash, const std::string& password,
                                       const std::optional<std::string>& device_id,
                                       const Caller& caller);
  // The stored form of an SMS code: keyed BLAKE2b of the phone hash and the code.
  std::string SmsCodeHash(const std::string& phone_hash, const std::string& code) const;
  // Counts a try of an SMS code against the wrong-code limits (SmsLimits); refund it when the
  // code was right.
  absl::StatusOr<pg::Throttle::Ticket> TakeSmsCodeAttempt(const std::string& phone_hash,
                                                          const Caller& caller);
  // Uses up one try of the phone's live code (committed on its own) and compares `code`; returns
  // the code's stored hash when right. Errors: UNAUTHENTICATED (SMS_CODE_INVALID) when wrong, or
  // there is no live code with tries left.
  absl::StatusOr<std::string> TakeSmsTry(const std::string& phone_hash, const std::string& code);
  // Deletes the code whose try was right, in `tx`, and returns its active account's person id.
  // Errors: UNAUTHENTICATED (SMS_CODE_INVALID) when it was spent or replaced meanwhile, or the
  // account is no longer active.
  absl::StatusOr<std::string> SpendSmsCode(pqxx::transaction_base& tx,
                                           const std::string& phone_hash,
                                           const std::string& code_hash);
  // Checks `password` against `hash` inside a hash slot (HashGate). Errors: RESOURCE_EXHAUSTED
  // with a retry delay when too many hashes are running.
  absl::StatusOr<bool> VerifyPassword(const std::string& hash, const std::string& password);
  // Hashes `password` inside a hash slot. Errors: RESOURCE_EXHAUSTED as VerifyPassword, or when
  // argon2id could not get its memory.
  absl::StatusOr<std::string> HashPassword(const std::string& password);

  // Opens a session for `person_id` and returns its first token pair.
  absl::StatusOr<v1::TokenPair> OpenSession(pqxx::transaction_base& tx,
                                            const std::string& person_id,
                                            const std::string& device_name, absl::Time now);
  // A fresh access token for a person in a session.
  absl::StatusOr<std::string> PersonAccessToken(pqxx::transaction_base& tx,
                                                const std::string& person_id,
                                                const std::string& session_id, absl::Time now);
  // Now and then deletes a bounded slice of expired sessions, refresh tokens and old idempotency
  // records.
  void MaybeSweep(pqxx::transaction_base& tx, absl::Time now);
  // Erases a closing person's personal data and ends their check-ins and grants (the status and
  // sessions are the caller's to set); `actor` is recorded on the grants.
  void EraseAccount(pqxx::transaction_base& tx, const std::string& person_id,
                    const std::string& actor);
  // Revokes every open session of a person; returns how many.
  int RevokeSessions(pqxx::transaction_base& tx, const std::string& person_id,
                     const std::string& reason, absl::Time now);
  // Checks in `person_id` at `community_id` at once (method CODE): ends the active check-in and
  // cancels a pending request. Fills the new check-in and the ended one.
  absl::Status CheckInNow(pqxx::transaction_base& tx, const std::string& person_id,
                          const std::string& community_id, v1::CheckInMethod method,
                          const std::string& existing_check_in_id, const std::string& decided_by,
                          absl::Time now, v1::CheckIn* check_in, v1::CheckIn* ended);
  // The community whose code this is (current, or replaced less than 10 minutes ago). Errors:
  // NOT_FOUND.
  absl::StatusOr<std::string> CommunityForCode(pqxx::transaction_base& tx, const std::string& code,
                                               absl::Time now);
  // Whether a caller covers a person: their home community or any active grant lies under one of
  // the caller's grants. A person attached nowhere is covered by grants at the city root, and a
  // rider attached nowhere yet also by any staff for reading (to find and check them in).
  absl::StatusOr<bool> CoversPerson(pqxx::transaction_base& tx, const auth::Principal& who,
                                    const std::string& person_id, bool for_write = false);
  // The riders `keys` name that the caller covers (strictly: as for a write), one answer per key
  // in order, audited as one lookup. Keys must have been checked.
  absl::Status ResolveRiderKeys(const Caller& caller, const std::vector<const v1::RiderKey*>& keys,
                                std::vector<std::optional<v1::ResolvedRider>>* out);

  pg::PgPool* const pool_;
  const Secrets* const secrets_;
  KeyRing* const keys_;
  const auth::Authorizer* const authorizer_;
  const IdentityOptions options_;
  pg::Throttle throttle_;
  HashGate hash_gate_;
  RevocationFeed revocation_feed_;
  // An argon2id hash of no one's password, verified for an unknown phone so that timing does not
  // tell which phones are registered.
  const std::string dummy_hash_;
  std::atomic<uint64_t> sweep_counter_{0};
  const PgSessionStore sessions_{};
};

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
