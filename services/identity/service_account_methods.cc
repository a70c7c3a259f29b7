// Service accounts for city systems and the suite's own services, their API keys, and the
// exchange of a key for an access token.
#include <sodium.h>
#include <cstdlib>

#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "civicpoints/options/v1/options.pb.h"
#include "common/auth/suite_services.h"
#include "common/base/text.h"
#include "common/log/log.h"
#include "common/pg/sql_values.h"
#include "common/status/refusal.h"
#include "google/protobuf/descriptor.h"
#include "services/identity/identity_service.h"
#include "services/identity/input_rules.h"
#include "services/identity/key_ring.h"
#include "services/identity/records.h"
#include "services/identity/service_support.h"

namespace civicpoints::identity {
namespace {

constexpr int kMaxActiveKeys = 10;
constexpr absl::Duration kApiKeyFailureWindow = absl::Minutes(15);
constexpr size_t kSecretChars = 43;  // 32 bytes, unpadded base64url
constexpr absl::Duration kDefaultKeyLifetime = absl::Hours(24 * 90);

// The id part of `cpk_<id>_<43 chars>`, or "" when `secret` does not have that shape.
std::string ApiKeyIdOf(const std::string& secret) {
  if (secret.size() > 128 || !absl::StartsWith(secret, "cpk_") ||
      secret.size() < 4 + 1 + kSecretChars + 1 || secret[secret.size() - kSecretChars - 1] != '_') {
    return "";
  }
  return secret.substr(4, secret.size() - 4 - kSecretChars - 1);
}

// Every scope some method of the suite declares in its access option.
const std::set<std::string>& DeclaredScopes() {
  static const std::set<std::string> scopes = [] {
    std::set<std::string> out;
    for (const auth::SuiteService& service : auth::kSuiteServices) {
      const google::protobuf::ServiceDescriptor* desc =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service.full_name);
      // Every contract is linked into identity (cp_proto_all): a missing one is a build mistake
      // that would leave its scopes impossible to grant.
      if (desc == nullptr) std::abort();
      for (int i = 0; i < desc->method_count(); ++i) {
        const auto& options = desc->method(i)->options();
        if (!options.HasExtension(options::v1::access)) continue;
        for (const std::string& s : options.GetExtension(options::v1::access).scopes()) {
          out.insert(s);
        }
      }
    }
    return out;
  }();
  return scopes;
}

absl::StatusOr<pqxx::row> LoadAccountRow(pqxx::transaction_base& tx, const std::string& id,
                                         bool lock = false) {
  if (id.empty()) return absl::InvalidArgumentError("service_account_id: is required");
  pqxx::result r =
      tx.exec_params(absl::StrCat("SELECT ", kServiceAccountColumns,
                                  " FROM service_accounts WHERE service_account_id = $1",
                                  lock ? " FOR UPDATE" : ""),
                     id);
  if (r.empty()) {
    return absl::NotFoundError(absl::StrCat("service_account_id: no service account '", id, "'"));
  }
  return r[0];
}

// Loads an account and checks the caller covers its node.
absl::StatusOr<v1::ServiceAccount> LoadCoveredAccount(pqxx::transaction_base& tx,
                                                      const auth::Principal& who,
                                                      const std::string& id, bool lock = false) {
  absl::StatusOr<pqxx::row> row = LoadAccountRow(tx, id, lock);
  if (!row.ok()) return row.status();
  v1::ServiceAccount account;
  FillServiceAccount(*row, &account);
  absl::StatusOr<OrgRow> org = LoadOrg(tx, account.org_id(), "org_id");
  if (!org.ok()) return org.status();
  if (absl::Status s = CheckCoversOrg(who, *org, absl::StrCat("service account ", id)); !s.ok())
    return s;
  return account;
}

absl::StatusOr<v1::ApiKey> LoadCoveredKey(pqxx::transaction_base& tx, const auth::Principal& who,
                                          const std::string& id, absl::Time now,
                                          bool lock = false) {
  if (id.empty()) return absl::InvalidArgumentError("api_key_id: is required");
  pqxx::result r =
      tx.exec_params(absl::StrCat("SELECT ", kApiKeyColumns, " FROM api_keys WHERE api_key_id = $1",
                                  lock ? " FOR UPDATE" : ""),
                     id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("api_key_id: no API key '", id, "'"));
  v1::ApiKey key;
  FillApiKey(r[0], Us(now), &key);
  absl::StatusOr<v1::ServiceAccount> account =
      LoadCoveredAccount(tx, who, key.service_account_id());
  if (!account.ok()) return account.status();
  return key;
}

}  // namespace

grpc::Status IdentityServiceImpl::CreateServiceAccount(grpc::ServerContext* ctx,
                                                       const v1::CreateServiceAccountRequest* req,
                                                       v1::CreateServiceAccountResponse* resp) {
  return Handle(ctx, "CreateServiceAccount", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    if (absl::Status s =
            text::CheckText(req->display_name(), "display_name", {.max = 64, .required = true});
        !s.ok())
      return s;
    if (absl::Status s = text::CheckText(req->description(), "description", {.max = 500}); !s.ok())
      return s;
    const common::v1::Role role =
        req->role() == common::v1::ROLE_UNSPECIFIED ? common::v1::ROLE_CITY_SYSTEM : req->role();
    if (role == common::v1::ROLE_INTERNAL_SERVICE) {
      // The suite's own services get their accounts from the deployment
      // (CP_IDENTITY_INTERNAL_SERVICE_KEYS), never from a call a leaked admin session could make.
      return absl::InvalidArgumentError(
          "role: ROLE_INTERNAL_SERVICE accounts are made only by the deployment "
          "(CP_IDENTITY_INTERNAL_SERVICE_KEYS), not through the API");
    }
    if (role != common::v1::ROLE_CITY_SYSTEM) {
      return absl::InvalidArgumentError("role: must be ROLE_CITY_SYSTEM");
    }
    if (req->org_id().empty()) return absl::InvalidArgumentError("org_id: is required");
    return Idempotent(
        absl::StrCat("CreateServiceAccount:", caller.who().subject), req->idempotency_key(), *req,
        resp, [&](pqxx::transaction_base& tx) -> absl::Status {
          absl::StatusOr<OrgRow> org = LoadOrg(tx, req->org_id(), "org_id", RowLock::kShare);
          if (!org.ok()) return org.status();
          if (absl::Status s =
                  CheckCoversOrg(caller.who(), *org, absl::StrCat("org node ", org->org_id));
              !s.ok()) {
            return s;
          }
          if (org->retired) {
            return Refuse(absl::StatusCode::kFailedPrecondition,
                          v1::IDENTITY_ERROR_REASON_ORG_NODE_RETIRED,
                          absl::StrCat("org node ", org->org_id, " is retired"));
          }
          const std::string id = NewId("sa");
          pqxx::result r = tx.exec_params(
              absl::StrCat("INSERT INTO service_accounts (service_account_id, display_name, "
                           "description, role, org_id, created_by) VALUES ($1, $2, $3, $4, $5, $6) "
                           "RETURNING ",
                           kServiceAccountColumns),
              id, req->display_name(), req->description(), static_cast<int>(role), org->org_id,
              caller.who().subject);
          FillServiceAccount(r[0], resp->mutable_service_account());
          return absl::OkStatus();
        });
  });
}

grpc::Status IdentityServiceImpl::GetServiceAccount(grpc::ServerContext* ctx,
                                                    const v1::GetServiceAccountRequest* req,
                                                    v1::GetServiceAccountResponse* resp) {
  return Handle(ctx, "GetServiceAccount", [&](const Caller& caller) -> absl::Status {
    return InReadTx("get service account", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::ServiceAccount> a =
          LoadCoveredAccount(tx, caller.who(), req->service_account_id());
      if (!a.ok()) return a.status();
      *resp->mutable_service_account() = *std::move(a);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ListServiceAccounts(grpc::ServerContext* ctx,
                                                      const v1::ListServiceAccountsRequest* req,
                                                      v1::ListServiceAccountsResponse* resp) {
  return Handle(ctx, "ListServiceAccounts", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<Paging> paging = StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    return InReadTx("list service accounts", [&](pqxx::transaction_base& tx) -> absl::Status {
      // Empty org_id: every node the caller administers.
      std::vector<std::string> roots;
      if (req->org_id().empty()) {
        for (const auth::RoleGrant& g : caller.who().roles) {
          if (g.role == common::v1::ROLE_DISTRICT_ADMIN) roots.push_back(g.org_id);
        }
      } else {
        roots.push_back(req->org_id());
      }
      bool everything = false;
      for (const std::string& id : roots) {
        absl::StatusOr<OrgRow> org = LoadOrg(tx, id, "org_id");
        if (!org.ok()) return org.status();
        if (absl::Status s = CheckCoversOrg(caller.who(), *org, absl::StrCat("org node ", id));
            !s.ok()) {
          return s;
        }
        everything = everything || org->level == common::v1::ORG_LEVEL_CITY;
      }
      if (roots.empty()) return absl::OkStatus();
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kServiceAccountColumns,
                       " FROM service_accounts WHERE org_id IN (SELECT o.org_id FROM org_nodes o "
                       "WHERE $5 OR o.org_id = ANY($6::text[]) OR o.district_id = ANY($6::text[]) "
                       "OR o.street_id = ANY($6::text[])) AND ($1 OR disabled_at IS NULL) AND "
                       "($2::bigint = 0 OR (us(created_at), service_account_id) < ($2, $3)) "
                       "ORDER BY created_at DESC, service_account_id DESC LIMIT $4"),
          req->include_disabled(), paging->after_us(), paging->after_id(), paging->size + 1,
          everything, pg::TextArray(roots));
      resp->set_next_page_token(FillPage(rows, *paging, 6, [&](const pqxx::row& row) {
        FillServiceAccount(row, resp->add_service_accounts());
      }));
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::DisableServiceAccount(grpc::ServerContext* ctx,
                                                        const v1::DisableServiceAccountRequest* req,
                                                        v1::DisableServiceAccountResponse* resp) {
  return Handle(ctx, "DisableServiceAccount", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckText(req->reason(), "reason", {.max = 200}); !s.ok()) return s;
    return InTx("disable service account", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::ServiceAccount> a =
          LoadCoveredAccount(tx, caller.who(), req->service_account_id(), /*lock=*/true);
      if (!a.ok()) return a.status();
      if (a->status() == v1::SERVICE_ACCOUNT_STATUS_ACTIVE) {
        tx.exec_params(
            "UPDATE service_accounts SET disabled_at = from_us($2), disable_reason = $3 "
            "WHERE service_account_id = $1",
            a->service_account_id(), Us(caller.now), req->reason());
        tx.exec_params(
            "UPDATE api_keys SET revoked_at = from_us($2), revoke_reason = 'account disabled' "
            "WHERE service_account_id = $1 AND revoked_at IS NULL",
            a->service_account_id(), Us(caller.now));
        tx.exec_params(
            "INSERT INTO audit_events (actor, action, target, detail) VALUES ($1, $2, $3, $4)",
            caller.who().subject, "disable_service_account", a->service_account_id(),
            req->reason());
      }
      absl::StatusOr<pqxx::row> row = LoadAccountRow(tx, a->service_account_id());
      if (!row.ok()) return row.status();
      FillServiceAccount(*row, resp->mutable_service_account());
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::CreateApiKey(grpc::ServerContext* ctx,
                                               const v1::CreateApiKeyRequest* req,
                                               v1::CreateApiKeyResponse* resp) {
  return Handle(ctx, "CreateApiKey", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    if (req->service_account_id().empty()) {
      return absl::InvalidArgumentError("service_account_id: is required");
    }
    if (absl::Status s =
            text::CheckText(req->display_name(), "display_name", {.max = 64, .required = true});
        !s.ok())
      return s;
    if (req->scopes().empty()) return absl::InvalidArgumentError("scopes: is empty");
    if (req->scopes_size() > 20) return absl::InvalidArgumentError("scopes: has more than 20");
    std::vector<std::string> scopes;
    for (const std::string& s : req->scopes()) {
      if (!DeclaredScopes().count(s)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "scopes: '", s,
            "' is not declared by any method; known: ", absl::StrJoin(DeclaredScopes(), ", ")));
      }
      if (std::find(scopes.begin(), scopes.end(), s) == scopes.end()) scopes.push_back(s);
    }
    absl::Time expiry = caller.now + kDefaultKeyLifetime;
    if (req->has_expire_time()) {
      expiry = TimeOf(req->expire_time());
      if (expiry <= caller.now) return absl::InvalidArgumentError("expire_time: is in the past");
      if (expiry > caller.now + absl::Hours(24 * 366)) {
        return absl::InvalidArgumentError("expire_time: is more than a year ahead");
      }
    }
    std::string secret, created_id;
    absl::Status done = Idempotent(
        absl::StrCat("CreateApiKey:", caller.who().subject), req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          absl::StatusOr<v1::ServiceAccount> a =
              LoadCoveredAccount(tx, caller.who(), req->service_account_id(), /*lock=*/true);
          if (!a.ok()) return a.status();
          if (a->status() != v1::SERVICE_ACCOUNT_STATUS_ACTIVE) {
            return Refuse(
                absl::StatusCode::kFailedPrecondition,
                v1::IDENTITY_ERROR_REASON_CREDENTIAL_DISABLED,
                absl::StrCat("service account ", a->service_account_id(), " is disabled"));
          }
          if (a->role() == common::v1::ROLE_INTERNAL_SERVICE) {
            return Refuse(
                absl::StatusCode::kFailedPrecondition,
                v1::IDENTITY_ERROR_REASON_INTERNAL_SERVICE_ACCOUNT,
                absl::StrCat("service_account_id: ", a->service_account_id(),
                             " is an internal service's; its keys come only from the deployment "
                             "(CP_IDENTITY_INTERNAL_SERVICE_KEYS)"));
          }
          pqxx::result active = tx.exec_params(
              "SELECT count(*) FROM api_keys WHERE service_account_id = $1 AND revoked_at IS NULL "
              "AND expires_at > from_us($2)",
              a->service_account_id(), Us(caller.now));
          if (active[0][0].as<int>() >= kMaxActiveKeys) {
            return Refuse(absl::StatusCode::kResourceExhausted,
                          v1::IDENTITY_ERROR_REASON_LIMIT_REACHED,
                          absl::StrCat("service account ", a->service_account_id(), " already has ",
                                       kMaxActiveKeys, " active keys; revoke one first"),
                          {{"limit", absl::StrCat(kMaxActiveKeys)}});
          }
          const std::string id = NewId("ak");
          secret = absl::StrCat("cpk_", id, "_", Base64Url(RandomBytes(32)));
          created_id = id;
          pqxx::result r = tx.exec_params(
              absl::StrCat("INSERT INTO api_keys (api_key_id, service_account_id, display_name, "
                           "secret_hash, secret_prefix, scopes, created_by, expires_at) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7, from_us($8)) RETURNING ",
                           kApiKeyColumns),
              id, a->service_account_id(), req->display_name(),
              pqxx::binarystring(secrets_->ApiKeyHash(secret)), secret.substr(0, id.size() + 9),
              pg::TextArray(scopes), caller.who().subject, Us(expiry));
          FillApiKey(r[0], Us(caller.now), resp->mutable_api_key());
          tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $3)",
                         caller.who().subject, "create_api_key", id);
          return absl::OkStatus();
        });
    // The secret exists only in this first answer; it is never stored, so a repeat has none.
    // Not on a repeat, and not when a concurrent first call won the key (its transaction stored
    // the answer; this one's key was rolled back).
    if (done.ok() && resp->api_key().api_key_id() == created_id) resp->set_secret(secret);
    return done;
  });
}

grpc::Status IdentityServiceImpl::GetApiKey(grpc::ServerContext* ctx,
                                            const v1::GetApiKeyRequest* req,
                                            v1::GetApiKeyResponse* resp) {
  return Handle(ctx, "GetApiKey", [&](const Caller& caller) -> absl::Status {
    return InReadTx("get api key", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::ApiKey> key =
          LoadCoveredKey(tx, caller.who(), req->api_key_id(), caller.now);
      if (!key.ok()) return key.status();
      *resp->mutable_api_key() = *std::move(key);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ListApiKeys(grpc::ServerContext* ctx,
                                              const v1::ListApiKeysRequest* req,
                                              v1::ListApiKeysResponse* resp) {
  return Handle(ctx, "ListApiKeys", [&](const Caller& caller) -> absl::Status {
    std::set<int> statuses;
    for (int s : req->statuses()) {
      if (s == v1::API_KEY_STATUS_UNSPECIFIED || !v1::ApiKeyStatus_IsValid(s)) {
        return absl::InvalidArgumentError("statuses: holds API_KEY_STATUS_UNSPECIFIED or unknown");
      }
      statuses.insert(s);
    }
    absl::StatusOr<Paging> paging = StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    return InReadTx("list api keys", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::ServiceAccount> a =
          LoadCoveredAccount(tx, caller.who(), req->service_account_id());
      if (!a.ok()) return a.status();
      // Status follows from times, so it is filtered here; pages may come back short.
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kApiKeyColumns,
                       " FROM api_keys WHERE service_account_id = $1 AND ($2::bigint = 0 OR "
                       "(us(created_at), api_key_id) < ($2, $3)) "
                       "ORDER BY created_at DESC, api_key_id DESC LIMIT $4"),
          a->service_account_id(), paging->after_us(), paging->after_id(), paging->size + 1);
      resp->set_next_page_token(FillPage(rows, *paging, 6, [&](const pqxx::row& row) {
        v1::ApiKey key;
        FillApiKey(row, Us(caller.now), &key);
        if (statuses.empty() || statuses.count(key.status()))
          *resp->add_api_keys() = std::move(key);
      }));
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ExpireApiKey(grpc::ServerContext* ctx,
                                               const v1::ExpireApiKeyRequest* req,
                                               v1::ExpireApiKeyResponse* resp) {
  return Handle(ctx, "ExpireApiKey", [&](const Caller& caller) -> absl::Status {
    if (req->api_key_id().empty()) return absl::InvalidArgumentError("api_key_id: is required");
    if (!req->has_expire_time()) return absl::InvalidArgumentError("expire_time: is required");
    const absl::Time wanted = TimeOf(req->expire_time());
    return InTx("expire api key", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::ApiKey> key =
          LoadCoveredKey(tx, caller.who(), req->api_key_id(), caller.now, /*lock=*/true);
      if (!key.ok()) return key.status();
      if (key->status() == v1::API_KEY_STATUS_REVOKED) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_CREDENTIAL_DISABLED,
                      absl::StrCat("API key ", key->api_key_id(), " is revoked"));
      }
      const absl::Time current = TimeOf(key->expire_time());
      if (wanted > current) {
        return absl::InvalidArgumentError(
            "expire_time: is later than the key's current expiry; keys cannot be extended");
      }
      // A past time expires the key now; the same request again leaves it as it is.
      const absl::Time effective = std::max(wanted, std::min(caller.now, current));
      if (effective < current) {
        tx.exec_params("UPDATE api_keys SET expires_at = from_us($2) WHERE api_key_id = $1",
                       key->api_key_id(), Us(effective));
      }
      key = LoadCoveredKey(tx, caller.who(), req->api_key_id(), caller.now);
      if (!key.ok()) return key.status();
      *resp->mutable_api_key() = *std::move(key);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::RevokeApiKey(grpc::ServerContext* ctx,
                                               const v1::RevokeApiKeyRequest* req,
                                               v1::RevokeApiKeyResponse* resp) {
  return Handle(ctx, "RevokeApiKey", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckText(req->reason(), "reason", {.max = 200}); !s.ok()) return s;
    return InTx("revoke api key", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::ApiKey> key =
          LoadCoveredKey(tx, caller.who(), req->api_key_id(), caller.now, /*lock=*/true);
      if (!key.ok()) return key.status();
      if (key->status() != v1::API_KEY_STATUS_REVOKED) {
        tx.exec_params(
            "UPDATE api_keys SET revoked_at = from_us($2), revoke_reason = $3 "
            "WHERE api_key_id = $1",
            key->api_key_id(), Us(caller.now), req->reason());
        tx.exec_params(
            "INSERT INTO audit_events (actor, action, target, detail) VALUES ($1, $2, $3, $4)",
            caller.who().subject, "revoke_api_key", key->api_key_id(), req->reason());
        key = LoadCoveredKey(tx, caller.who(), req->api_key_id(), caller.now);
        if (!key.ok()) return key.status();
      }
      *resp->mutable_api_key() = *std::move(key);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ExchangeApiKey(grpc::ServerContext* ctx,
                                                 const v1::ExchangeApiKeyRequest* req,
                                                 v1::ExchangeApiKeyResponse* resp) {
  return Handle(ctx, "ExchangeApiKey", [&](const Caller& caller) -> absl::Status {
    const std::string& secret = req->api_key();
    if (secret.empty()) return absl::InvalidArgumentError("api_key: is required");
    const std::string key_id = ApiKeyIdOf(secret);
    if (key_id.empty()) {
      return absl::InvalidArgumentError("api_key: is not an API key (cpk_<id>_<secret>)");
    }
    const absl::Status unknown = absl::UnauthenticatedError(
        "API key is unknown, expired or revoked, or its account is disabled");
    absl::Status done = InTx("exchange api key", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result r = tx.exec_params(
          "SELECT k.secret_hash, k.scopes, us(k.expires_at), k.revoked_at IS NOT NULL, "
          "a.service_account_id, a.display_name, a.role, a.org_id, a.disabled_at IS NOT NULL "
          "FROM api_keys k JOIN service_accounts a USING (service_account_id) "
          "WHERE k.api_key_id = $1",
          key_id);
      if (r.empty()) return unknown;
      const std::string stored = pqxx::binarystring(r[0][0]).str();
      const std::string presented = secrets_->ApiKeyHash(secret);
      if (stored.size() != presented.size() ||
          sodium_memcmp(stored.data(), presented.data(), stored.size()) != 0) {
        return unknown;
      }
      if (r[0][3].as<bool>() || r[0][8].as<bool>() || r[0][2].as<int64_t>() <= Us(caller.now)) {
        return unknown;
      }
      const std::vector<std::string> key_scopes = ParseTextArray(r[0][1]);
      std::vector<std::string> granted;
      for (const std::string& s : req->scopes()) {
        if (std::find(key_scopes.begin(), key_scopes.end(), s) == key_scopes.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("scopes: '", s, "' is not one of the key's scopes"));
        }
        granted.push_back(s);
      }
      if (granted.empty()) granted = key_scopes;
      auth::Principal p;
      p.subject = r[0][4].as<std::string>();
      p.token_id = NewId("t");
      absl::StatusOr<OrgRow> org = LoadOrg(tx, r[0][7].as<std::string>(), "org_id");
      if (!org.ok()) return org.status();
      p.roles = {GrantClaim(static_cast<common::v1::Role>(r[0][6].as<int>()), *org)};
      p.scopes = granted;
      p.issued_at = caller.now;
      p.expires_at = caller.now + options_.access_token_ttl;
      p.kind = "service_account";
      // The key is the token's session: revoking the key revokes its tokens (ListRevocations).
      p.session_id = key_id;
      p.display_name = r[0][5].as<std::string>();
      absl::StatusOr<std::string> token = keys_->Sign(p, caller.now);
      if (!token.ok()) return token.status();
      tx.exec_params("UPDATE api_keys SET last_used_at = from_us($2) WHERE api_key_id = $1", key_id,
                     Us(caller.now));
      resp->set_access_token(*token);
      SetTime(resp->mutable_access_token_expire_time(), Us(p.expires_at));
      resp->set_token_type("Bearer");
      for (const std::string& s : granted) resp->add_scopes(s);
      return absl::OkStatus();
    });
    if (done.code() != absl::StatusCode::kUnauthenticated) return done;
    // Only a wrong key counts, and only against the address that sent it: a flood of wrong
    // secrets for a key cannot stop its holder, whose right secret is checked first.
    absl::StatusOr<pg::Throttle::Ticket> counted = throttle_.Take(
        {{.bucket = absl::StrCat("exchange:key-addr:", key_id, ":", caller.client_address),
          .limit = options_.api_key_failures_per_key_and_address,
          .window = kApiKeyFailureWindow},
         {.bucket = "exchange:addr:" + caller.client_address,
          .limit = options_.api_key_failures_per_address,
          .window = kApiKeyFailureWindow}},
        caller.now);
    return counted.ok() ? done : counted.status();
  });
}

absl::Status IdentityServiceImpl::EnsureInternalServiceKey(const std::string& name,
                                                           const std::string& api_key) {
  if (name.empty() || name.size() > 32 ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("internal service name '", name, "': use 1 to 32 of a-z, 0-9 and '-'"));
  }
  const std::string key_id = ApiKeyIdOf(api_key);
  if (key_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the API key for internal service '", name, "' is not cpk_<id>_<secret>"));
  }
  if (absl::StartsWith(key_id, "ak_internal_")) {
    // Still accepted, so an upgrade does not stop the suite; a wrong secret for it now only
    // throttles its sender, but a random id keeps the key out of sight altogether.
    log::Warn("an internal service key has a predictable id; generate a new key file",
              {{"service", name}, {"api_key_id", key_id}});
  }
  const std::string account_id = absl::StrCat("sa_internal_", name);
  const std::string hash = secrets_->ApiKeyHash(api_key);
  return InTx("ensure internal service key", [&](pqxx::transaction_base& tx) -> absl::Status {
    tx.exec_params(
        "INSERT INTO service_accounts (service_account_id, display_name, description, role, "
        "org_id, created_by) VALUES ($1, $2, $3, role('INTERNAL_SERVICE'), 'root', "
        "'bootstrap') "
        "ON CONFLICT (service_account_id) DO NOTHING",
        account_id, name, absl::StrCat("the suite's ", name, " service"));
    pqxx::result key = tx.exec_params(
        "SELECT service_account_id, secret_hash, revoked_at IS NOT NULL FROM api_keys "
        "WHERE api_key_id = $1",
        key_id);
    if (key.empty()) {
      // Internal keys are replaced by deploying a new file, not by expiry: ten years.
      tx.exec_params(
          "INSERT INTO api_keys (api_key_id, service_account_id, display_name, secret_hash, "
          "secret_prefix, scopes, created_by, expires_at) "
          "VALUES ($1, $2, $3, $4, $5, '{}', 'bootstrap', now() + interval '10 years')",
          key_id, account_id, absl::StrCat(name, " deployment key"), pqxx::binarystring(hash),
          api_key.substr(0, key_id.size() + 9));
      tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $3)",
                     "bootstrap", "create_api_key", key_id);
      log::Info("registered an internal service key", {{"service", name}, {"api_key_id", key_id}});
      return absl::OkStatus();
    }
    const std::string stored = pqxx::binarystring(key[0][1]).str();
    if (key[0][0].as<std::string>() != account_id || stored != hash) {
      return Refuse(absl::StatusCode::kFailedPrecondition,
                    v1::IDENTITY_ERROR_REASON_INTERNAL_SERVICE_ACCOUNT,
                    absl::StrCat("API key id ", key_id, " for internal service '", name,
                                 "' is already held with another secret; generate a new key file"));
    }
    if (key[0][2].as<bool>()) {
      return Refuse(absl::StatusCode::kFailedPrecondition,
                    v1::IDENTITY_ERROR_REASON_CREDENTIAL_DISABLED,
                    absl::StrCat("API key ", key_id, " for internal service '", name,
                                 "' was revoked; generate a new key file"));
    }
    return absl::OkStatus();
  });
}

}  // namespace civicpoints::identity
