// Token-signing keys: publication (keys list and JWKS), rotation and emergency revocation.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/base/text.h"
#include "common/status/refusal.h"
#include "services/identity/identity_service.h"
#include "services/identity/input_rules.h"
#include "services/identity/key_ring.h"
#include "services/identity/service_support.h"

namespace civicpoints::identity {
namespace {

absl::Status RequireRootAdmin(const auth::Principal& who) {
  if (IsRootAdmin(who)) return absl::OkStatus();
  return Refuse(absl::StatusCode::kPermissionDenied,
                v1::IDENTITY_ERROR_REASON_DISTRICT_ADMIN_REQUIRED,
                "signing keys are managed by a district admin at the city root");
}

}  // namespace

grpc::Status IdentityServiceImpl::ListPublicKeys(grpc::ServerContext* ctx,
                                                 const v1::ListPublicKeysRequest*,
                                                 v1::ListPublicKeysResponse* resp) {
  return Handle(ctx, "ListPublicKeys", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<std::vector<v1::SigningKey>> keys = keys_->Published(caller.now);
    if (!keys.ok()) return keys.status();
    for (v1::SigningKey& k : *keys) *resp->add_keys() = std::move(k);
    resp->set_max_age_seconds(300);
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ListRevocations(grpc::ServerContext* ctx,
                                                  const v1::ListRevocationsRequest*,
                                                  v1::ListRevocationsResponse* resp) {
  return Handle(ctx, "ListRevocations", [&](const Caller&) -> absl::Status {
    absl::StatusOr<std::shared_ptr<const RevocationFeed::Snapshot>> current =
        revocation_feed_.Current();
    if (!current.ok()) return current.status();
    *resp = (*current)->answer;
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::GetJwks(grpc::ServerContext* ctx, const v1::GetJwksRequest*,
                                          v1::GetJwksResponse* resp) {
  return Handle(ctx, "GetJwks", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<std::vector<v1::SigningKey>> keys = keys_->Published(caller.now);
    if (!keys.ok()) return keys.status();
    for (const v1::SigningKey& k : *keys) {
      v1::Jwk* jwk = resp->add_keys();
      jwk->set_kty("OKP");
      jwk->set_crv("Ed25519");
      jwk->set_x(k.public_key());
      jwk->set_kid(k.kid());
      jwk->set_use("sig");
      jwk->set_alg("EdDSA");
    }
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::RotateSigningKey(grpc::ServerContext* ctx,
                                                   const v1::RotateSigningKeyRequest* req,
                                                   v1::RotateSigningKeyResponse* resp) {
  return Handle(ctx, "RotateSigningKey", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = RequireRootAdmin(caller.who()); !s.ok()) return s;
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    if (req->activation_delay_seconds() < 0 || req->activation_delay_seconds() > 86400) {
      return absl::InvalidArgumentError("activation_delay_seconds: must be 0-86400");
    }
    const absl::Duration delay = req->activation_delay_seconds() == 0
                                     ? KeyRing::kDefaultActivationDelay
                                     : absl::Seconds(req->activation_delay_seconds());
    absl::Status done = Idempotent(
        "RotateSigningKey", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          auto rotated = keys_->Rotate(tx, delay, caller.now);
          if (!rotated.ok()) return rotated.status();
          *resp->mutable_new_key() = rotated->first;
          if (rotated->second.has_value()) *resp->mutable_previous_key() = *rotated->second;
          tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $3)",
                         caller.who().subject, "rotate_signing_key", rotated->first.kid());
          return absl::OkStatus();
        });
    keys_->Invalidate();
    if (done.ok() && resp->new_key().not_before().seconds() <= absl::ToUnixSeconds(caller.now)) {
      resp->mutable_new_key()->set_status(v1::SIGNING_KEY_STATUS_ACTIVE);
    }
    return done;
  });
}

grpc::Status IdentityServiceImpl::RevokeSigningKey(grpc::ServerContext* ctx,
                                                   const v1::RevokeSigningKeyRequest* req,
                                                   v1::RevokeSigningKeyResponse* resp) {
  return Handle(ctx, "RevokeSigningKey", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = RequireRootAdmin(caller.who()); !s.ok()) return s;
    if (req->kid().empty()) return absl::InvalidArgumentError("kid: is required");
    if (absl::Status s = text::CheckText(req->reason(), "reason", {.max = 200}); !s.ok()) return s;
    absl::Status done = InTx("revoke signing key", [&](pqxx::transaction_base& tx) -> absl::Status {
      auto revoked = keys_->Revoke(tx, req->kid(), req->reason(), caller.now);
      if (!revoked.ok()) return revoked.status();
      *resp->mutable_key() = revoked->first;
      if (revoked->second.has_value()) *resp->mutable_replacement_key() = *revoked->second;
      tx.exec_params(
          "INSERT INTO audit_events (actor, action, target, detail) VALUES ($1, $2, $3, $4)",
          caller.who().subject, "revoke_signing_key", req->kid(), req->reason());
      return absl::OkStatus();
    });
    keys_->Invalidate();
    return done;
  });
}

}  // namespace civicpoints::identity
