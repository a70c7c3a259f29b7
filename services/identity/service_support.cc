#include "services/identity/service_support.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/auth/jwt.h"
#include "common/base/text.h"
#include "common/log/log.h"
#include "common/pg/pg_errors.h"
#include "common/pg/pg_pool.h"
#include "common/pg/transactions.h"
#include "common/server/call_handler.h"
#include "common/status/grpc_status.h"
#include "common/status/refusal.h"
#include "services/identity/crypto.h"
#include "services/identity/identity_service.h"
#include "services/identity/input_rules.h"

namespace civicpoints::identity {

using common::v1::ROLE_CITY_SYSTEM;
using common::v1::ROLE_DISTRICT_ADMIN;
using common::v1::ROLE_INTERNAL_SERVICE;
using common::v1::ROLE_RIDER;

bool GrantCoversOrg(const auth::RoleGrant& g, const OrgRow& org) {
  // A grant names its node; one without (a malformed or hand-made token) covers nothing.
  if (g.org_id.empty()) return false;
  if (g.org_id == kRootId) return true;
  return g.org_id == org.org_id || g.org_id == org.district_id || g.org_id == org.street_id;
}

bool IsRootAdmin(const auth::Principal& who) {
  return std::any_of(who.roles.begin(), who.roles.end(), [](const auth::RoleGrant& g) {
    return g.role == ROLE_DISTRICT_ADMIN && g.org_id == kRootId;
  });
}

bool IsCitySystem(const auth::Principal& who) { return who.HasRole(ROLE_CITY_SYSTEM); }
bool IsInternalService(const auth::Principal& who) { return who.HasRole(ROLE_INTERNAL_SERVICE); }

absl::Status CheckCoversOrg(const auth::Principal& who, const OrgRow& org, absl::string_view what) {
  for (const auth::RoleGrant& g : who.roles) {
    if (g.role == ROLE_INTERNAL_SERVICE) return absl::OkStatus();
    if (g.role != ROLE_RIDER && GrantCoversOrg(g, org)) return absl::OkStatus();
  }
  return Refuse(absl::StatusCode::kPermissionDenied, v1::IDENTITY_ERROR_REASON_OUTSIDE_ORG_SCOPE,
                absl::StrCat(what, " is outside the org nodes the caller's roles cover"));
}

bool CoversOrgWithRole(const auth::Principal& who, const OrgRow& org,
                       std::initializer_list<auth::Role> roles) {
  return std::any_of(who.roles.begin(), who.roles.end(), [&](const auth::RoleGrant& g) {
    return std::find(roles.begin(), roles.end(), g.role) != roles.end() && GrantCoversOrg(g, org);
  });
}

// ---- IdentityServiceImpl: plumbing shared by every method ----

IdentityServiceImpl::IdentityServiceImpl(pg::PgPool* pool, const Secrets* secrets, KeyRing* keys,
                                         const auth::Authorizer* authorizer,
                                         IdentityOptions options)
    : pool_(pool),
      secrets_(secrets),
      keys_(keys),
      authorizer_(authorizer),
      options_(std::move(options)),
      throttle_(pool,
                [](int64_t seconds) {
                  return Refuse(
                      absl::StatusCode::kResourceExhausted,
                      v1::IDENTITY_ERROR_REASON_TOO_MANY_ATTEMPTS,
                      absl::StrCat("too many attempts; try again in ", seconds, " seconds"));
                }),
      hash_gate_(
          HashGate::SlotsFor(options_.hash_memory_budget_bytes, options_.hasher.memlimit_bytes),
          options_.hash_queue_wait),
      revocation_feed_(pool, RevocationWindow(options_.access_token_ttl)),
      dummy_hash_(options_.hasher.Hash("not a password of anyone")) {}

grpc::Status IdentityServiceImpl::Handle(grpc::ServerContext* ctx, const char* method,
                                         const Body& body) {
  return server::HandleCall(
      ctx, *authorizer_, v1::IdentityService::service_full_name(), method,
      [&](const server::Call& call) {
        Caller caller{.principal = call.principal, .now = call.now};
        // Behind the gateway (when trusted) the outside client's address comes as metadata;
        // otherwise the peer address names the caller, and a header cannot dodge the per-address
        // limits.
        if (options_.trust_client_address_header) {
          caller.client_address = server::ClientMetadata(*ctx, "x-client-address");
        }
        if (caller.client_address.empty()) caller.client_address = server::PeerHost(ctx->peer());
        return body(caller);
      },
      server::Anonymous::kAllowed);
}

absl::Status IdentityServiceImpl::InTx(absl::string_view what, const pg::TxBody& fn) {
  return pg::InTx(*pool_, what, fn);
}

absl::Status IdentityServiceImpl::InReadTx(absl::string_view what, const pg::TxBody& fn) {
  return pg::InReadTx(*pool_, what, fn);
}

absl::Status IdentityServiceImpl::Idempotent(absl::string_view method, const std::string& key,
                                             const google::protobuf::Message& request,
                                             google::protobuf::Message* response,
                                             const pg::TxBody& fn) {
  if (absl::Status s = text::CheckIdempotencyKey(key); !s.ok()) return s;
  // Keyed: requests carry passwords and phone numbers, which a plain hash would let a reader of
  // the table guess offline.
  return pg::RunIdempotent(*pool_, method, key, secrets_->RequestHash(DeterministicBytes(request)),
                           response, fn,
                           pg::KeyReused(v1::IDENTITY_ERROR_REASON_IDEMPOTENCY_KEY_REUSED));
}

absl::Status IdentityServiceImpl::TakeThrottle(const std::string& bucket, int limit,
                                               absl::Duration window, absl::Time now) {
  return throttle_.Take({{.bucket = bucket, .limit = limit, .window = window}}, now).status();
}

void IdentityServiceImpl::RefundThrottle(const std::string& bucket) {
  throttle_.RefundLatest(bucket);
}

absl::StatusOr<pg::Throttle::Ticket> IdentityServiceImpl::TakeLoginAttempt(
    const std::string& phone_hash, const std::optional<std::string>& device_id,
    const Caller& caller) {
  const LoginLimits& l = options_.login;
  if (device_id.has_value()) {
    // A device that signed in to this phone before: only its own failures hold it back.
    return throttle_.Take({{.bucket = "login:device:" + *device_id,
                            .limit = l.failures_per_device,
                            .window = l.window}},
                          caller.now);
  }
  const std::string phone = absl::BytesToHexString(phone_hash);
  return throttle_.Take(
      {{.bucket = absl::StrCat("login:phone-addr:", phone, ":", caller.client_address),
        .limit = l.failures_per_phone_and_address,
        .window = l.window},
       {.bucket = "login:addr:" + caller.client_address,
        .limit = l.failures_per_address,
        .window = l.window},
       {.bucket = "login:phone:" + phone,
        .limit = l.phone_failures_before_delays,
        .window = l.phone_window,
        .first_delay = l.phone_first_delay,
        .max_delay = l.phone_max_delay}},
      caller.now);
}

absl::StatusOr<bool> IdentityServiceImpl::VerifyPassword(const std::string& hash,
                                                         const std::string& password) {
  absl::StatusOr<HashGate::Slot> slot = hash_gate_.Acquire();
  if (!slot.ok()) return slot.status();
  return PasswordHasher::Verify(hash, password);
}

absl::StatusOr<std::string> IdentityServiceImpl::HashPassword(const std::string& password) {
  absl::StatusOr<HashGate::Slot> slot = hash_gate_.Acquire();
  if (!slot.ok()) return slot.status();
  std::string hash = options_.hasher.Hash(password);
  if (hash.empty()) {
    return WithRetryDelay(
        Refuse(absl::StatusCode::kResourceExhausted, v1::IDENTITY_ERROR_REASON_BUSY,
               "password hashing ran out of memory; try again"),
        HashGate::kRetryDelay);
  }
  return hash;
}

absl::StatusOr<bool> IdentityServiceImpl::CoversPerson(pqxx::transaction_base& tx,
                                                       const auth::Principal& who,
                                                       const std::string& person_id,
                                                       bool for_write) {
  if (IsInternalService(who)) return true;
  // Every node the person is attached to: home community and active grants' nodes (and, for
  // reading, the nodes of grants they held: staff can see the history of people they managed).
  pqxx::result nodes =
      tx.exec_params("SELECT " + std::string(kOrgColumns) +
                         " FROM org_nodes WHERE org_id IN ("
                         "  SELECT community_id FROM check_ins WHERE person_id = $1 AND "
                         "status = check_in_status('ACTIVE')"
                         "  UNION SELECT org_id FROM role_grants WHERE person_id = $1 AND "
                         "role <> role('RIDER')"
                         "    AND ($2 OR revoked_at IS NULL))",
                     person_id, !for_write);
  if (nodes.empty()) {
    const bool at_root = std::any_of(
        who.roles.begin(), who.roles.end(),
        [](const auth::RoleGrant& g) { return g.role != ROLE_RIDER && g.org_id == kRootId; });
    if (at_root) return true;
    const bool staff = std::any_of(who.roles.begin(), who.roles.end(),
                                   [](const auth::RoleGrant& g) { return g.role != ROLE_RIDER; });
    if (for_write || !staff) return false;
    pqxx::result rider =
        tx.exec_params("SELECT is_rider FROM people WHERE person_id = $1", person_id);
    return !rider.empty() && rider[0][0].as<bool>();
  }
  for (const auto& row : nodes) {
    if (CheckCoversOrg(who, ReadOrg(row), "").ok()) return true;
  }
  return false;
}

}  // namespace civicpoints::identity
