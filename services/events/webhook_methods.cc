// EventService's webhook methods: registration with its URL and scope checks and a secret shown
// once, and the owner's reads, deletion and resumption. Delivery is the WebhookDispatcher's.
#include <utility>

#include "absl/strings/str_cat.h"
#include "civicpoints/events/v1/errors.pb.h"
#include "common/auth/principal.h"
#include "common/base/ids.h"
#include "common/base/request_hash.h"
#include "common/base/text.h"
#include "common/pg/transactions.h"
#include "common/server/call_handler.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"
#include "services/events/events_service.h"
#include "services/events/webhook_signature.h"

namespace civicpoints::events {
namespace {

constexpr size_t kMaxDescription = 200;

absl::Status NotFound(const std::string& webhook_id) {
  return Refuse(absl::StatusCode::kNotFound, v1::EVENTS_ERROR_REASON_WEBHOOK_NOT_FOUND,
                absl::StrCat("webhook '", webhook_id.substr(0, 64), "' does not exist"));
}

absl::Status CheckWebhookId(const std::string& webhook_id) {
  if (webhook_id.empty()) return absl::InvalidArgumentError("webhook_id: is required");
  return absl::OkStatus();
}

// An answer of the store for the owner's webhook: the webhook, or NOT_FOUND.
absl::Status Found(absl::StatusOr<std::optional<v1::Webhook>> found, const std::string& id,
                   v1::Webhook* out) {
  if (!found.ok()) return found.status();
  if (!found->has_value()) return NotFound(id);
  *out = **std::move(found);
  return absl::OkStatus();
}

}  // namespace

grpc::Status EventServiceImpl::CreateWebhook(grpc::ServerContext* ctx,
                                             const v1::CreateWebhookRequest* req,
                                             v1::CreateWebhookResponse* resp) {
  return server::HandleCall(
      ctx, *authorizer_, v1::EventService::service_full_name(), "CreateWebhook",
      [&](const server::Call& call) -> absl::Status {
        const v1::Webhook& asked = req->webhook();
        RETURN_IF_ERROR(text::CheckIdempotencyKey(req->idempotency_key()));
        RETURN_IF_ERROR(
            text::CheckText(asked.description(), "webhook.description", {.max = kMaxDescription}));
        RETURN_IF_ERROR(CheckWebhookUrl(asked.url(), options_.webhook_urls, "webhook.url"));
        ASSIGN_OR_RETURN(EventFilter filter,
                         ScopedFilter(asked.types(), asked.org_id(), *call.principal,
                                      server::ClientMetadata(*ctx, "authorization"), *orgs_));
        const std::string& owner = call.principal->subject;
        // The key this call registered, set only once its transaction committed: an attempt that
        // lost a race to a concurrent retry rolls back, and the winner's answer carries no secret.
        std::string key;
        RETURN_IF_ERROR(pg::RunIdempotent(
            *pool_, absl::StrCat("CreateWebhook/", owner), req->idempotency_key(),
            RequestHash(*req), resp,
            [&](pqxx::transaction_base& tx) -> absl::Status {
              if (webhooks_->CountOwned(tx, owner) >= options_.max_webhooks) {
                return Refuse(absl::StatusCode::kResourceExhausted,
                              v1::EVENTS_ERROR_REASON_TOO_MANY_WEBHOOKS,
                              absl::StrCat("you already have ", options_.max_webhooks,
                                           " webhooks; delete one first"),
                              {{"max_webhooks", absl::StrCat(options_.max_webhooks)}});
              }
              const std::string made_key = NewWebhookKey();
              pg::AfterCommit([&key, made_key] { key = made_key; });
              *resp->mutable_webhook() = webhooks_->Insert(tx, {.webhook_id = NewId("wh"),
                                                                .owner_id = owner,
                                                                .url = asked.url(),
                                                                .description = asked.description(),
                                                                .key = made_key,
                                                                .filter = &filter,
                                                                .position = tail_->bounds().head});
              return absl::OkStatus();
            },
            pg::KeyReused(v1::EVENTS_ERROR_REASON_IDEMPOTENCY_KEY_REUSED)));
        // The stored answer has no secret: a retry gets the webhook only.
        if (!key.empty()) resp->set_secret(WebhookSecret(key));
        return absl::OkStatus();
      });
}

grpc::Status EventServiceImpl::GetWebhook(grpc::ServerContext* ctx,
                                          const v1::GetWebhookRequest* req,
                                          v1::GetWebhookResponse* resp) {
  return server::HandleCall(ctx, *authorizer_, v1::EventService::service_full_name(), "GetWebhook",
                            [&](const server::Call& call) -> absl::Status {
                              RETURN_IF_ERROR(CheckWebhookId(req->webhook_id()));
                              return Found(
                                  webhooks_->Get(call.principal->subject, req->webhook_id()),
                                  req->webhook_id(), resp->mutable_webhook());
                            });
}

grpc::Status EventServiceImpl::ListWebhooks(grpc::ServerContext* ctx,
                                            const v1::ListWebhooksRequest*,
                                            v1::ListWebhooksResponse* resp) {
  return server::HandleCall(ctx, *authorizer_, v1::EventService::service_full_name(),
                            "ListWebhooks", [&](const server::Call& call) -> absl::Status {
                              ASSIGN_OR_RETURN(std::vector<v1::Webhook> all,
                                               webhooks_->List(call.principal->subject));
                              for (v1::Webhook& w : all) *resp->add_webhooks() = std::move(w);
                              return absl::OkStatus();
                            });
}

grpc::Status EventServiceImpl::DeleteWebhook(grpc::ServerContext* ctx,
                                             const v1::DeleteWebhookRequest* req,
                                             v1::DeleteWebhookResponse* resp) {
  return server::HandleCall(ctx, *authorizer_, v1::EventService::service_full_name(),
                            "DeleteWebhook", [&](const server::Call& call) -> absl::Status {
                              RETURN_IF_ERROR(CheckWebhookId(req->webhook_id()));
                              return Found(
                                  webhooks_->Delete(call.principal->subject, req->webhook_id()),
                                  req->webhook_id(), resp->mutable_webhook());
                            });
}

grpc::Status EventServiceImpl::ResumeWebhook(grpc::ServerContext* ctx,
                                             const v1::ResumeWebhookRequest* req,
                                             v1::ResumeWebhookResponse* resp) {
  return server::HandleCall(
      ctx, *authorizer_, v1::EventService::service_full_name(), "ResumeWebhook",
      [&](const server::Call& call) -> absl::Status {
        RETURN_IF_ERROR(CheckWebhookId(req->webhook_id()));
        bool too_old = false;
        absl::StatusOr<std::optional<v1::Webhook>> resumed = webhooks_->Resume(
            call.principal->subject, req->webhook_id(), tail_->bounds().pruned_through, &too_old);
        if (resumed.ok() && too_old) {
          return Refuse(absl::StatusCode::kOutOfRange, v1::EVENTS_ERROR_REASON_CURSOR_EXPIRED,
                        "webhook_id: the event it stopped at is older than the feed's retention; "
                        "delete it, re-read the state you need and register again");
        }
        return Found(std::move(resumed), req->webhook_id(), resp->mutable_webhook());
      });
}

}  // namespace civicpoints::events
