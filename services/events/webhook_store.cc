#include "services/events/webhook_store.h"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/base/time_units.h"
#include "common/pg/pg_pool.h"
#include "common/pg/sql_values.h"
#include "common/pg/transactions.h"
#include "services/events/cursor.h"
#include "services/events/webhook_signature.h"

namespace civicpoints::events {
namespace {

constexpr const char* kColumns =
    "webhook_id, owner_id, url, to_json(types)::text, org_id, description, secret_prefix, state, "
    "us(created_at), position, us(last_delivery_at), failed_attempts, us(failing_since), "
    "us(next_attempt_at), last_error";

std::vector<std::string> JsonTexts(const pqxx::field& f) {
  return nlohmann::json::parse(f.c_str()).get<std::vector<std::string>>();
}

v1::Webhook FromRow(const pqxx::row& r) {
  v1::Webhook w;
  w.set_webhook_id(r[0].as<std::string>());
  w.set_owner_id(r[1].as<std::string>());
  w.set_url(r[2].as<std::string>());
  for (std::string& t : JsonTexts(r[3])) w.add_types(std::move(t));
  w.set_org_id(r[4].as<std::string>());
  w.set_description(r[5].as<std::string>());
  w.set_secret_prefix(r[6].as<std::string>());
  w.set_state(static_cast<v1::WebhookState>(r[7].as<int>()));
  pg::SetTime(w.mutable_create_time(), r[8]);
  w.set_cursor(EncodeCursor(r[9].as<int64_t>()));
  pg::SetTime(w.mutable_last_delivery_time(), r[10]);
  w.set_failed_attempts(r[11].as<int>());
  pg::SetTime(w.mutable_failing_since(), r[12]);
  pg::SetTime(w.mutable_next_attempt_time(), r[13]);
  w.set_last_error(r[14].as<std::string>());
  return w;
}

std::optional<v1::Webhook> FirstOf(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  return FromRow(rows[0]);
}

}  // namespace

v1::Webhook WebhookStore::Insert(pqxx::transaction_base& tx, const NewWebhook& w) {
  const std::string secret = WebhookSecret(w.key);
  pqxx::result rows = tx.exec_params(
      absl::StrCat("INSERT INTO webhooks (webhook_id, owner_id, url, types, org_id, "
                   "sees_everything, covered_nodes, description, secret, secret_prefix, state, "
                   "position) VALUES ($1, $2, $3, $4::text[], $5, $6, $7::text[], $8, $9, $10, "
                   "webhook_state('ACTIVE'), $11) RETURNING ",
                   kColumns),
      w.webhook_id, w.owner_id, w.url, pg::TextArray(w.filter->types()), w.filter->org_id(),
      w.filter->sees_everything(), pg::TextArray(w.filter->covered_nodes()), w.description,
      pqxx::binarystring(w.key), secret.substr(0, 10), w.position);
  return FromRow(rows[0]);
}

int WebhookStore::CountOwned(pqxx::transaction_base& tx, const std::string& owner_id) {
  return tx.exec_params1("SELECT count(*) FROM webhooks WHERE owner_id = $1", owner_id)[0]
      .as<int>();
}

absl::StatusOr<std::optional<v1::Webhook>> WebhookStore::Get(const std::string& owner_id,
                                                             const std::string& webhook_id) {
  std::optional<v1::Webhook> out;
  absl::Status s = pg::InReadTx(*pool_, "get webhook", [&](pqxx::transaction_base& tx) {
    out = FirstOf(tx.exec_params(
        absl::StrCat("SELECT ", kColumns, " FROM webhooks WHERE webhook_id = $1 AND owner_id = $2"),
        webhook_id, owner_id));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<v1::Webhook>> WebhookStore::List(const std::string& owner_id) {
  std::vector<v1::Webhook> out;
  absl::Status s = pg::InReadTx(*pool_, "list webhooks", [&](pqxx::transaction_base& tx) {
    for (const pqxx::row& r : tx.exec_params(
             absl::StrCat("SELECT ", kColumns,
                          " FROM webhooks WHERE owner_id = $1 ORDER BY created_at, webhook_id"),
             owner_id)) {
      out.push_back(FromRow(r));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<v1::Webhook>> WebhookStore::Delete(const std::string& owner_id,
                                                                const std::string& webhook_id) {
  std::optional<v1::Webhook> out;
  absl::Status s = pg::InTx(*pool_, "delete webhook", [&](pqxx::transaction_base& tx) {
    out = FirstOf(tx.exec_params(
        absl::StrCat("DELETE FROM webhooks WHERE webhook_id = $1 AND owner_id = $2 RETURNING ",
                     kColumns),
        webhook_id, owner_id));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<v1::Webhook>> WebhookStore::Resume(const std::string& owner_id,
                                                                const std::string& webhook_id,
                                                                int64_t pruned_through,
                                                                bool* too_old) {
  std::optional<v1::Webhook> out;
  *too_old = false;
  absl::Status s = pg::InTx(*pool_, "resume webhook", [&](pqxx::transaction_base& tx) {
    pqxx::result found = tx.exec_params(
        "SELECT state, position FROM webhooks WHERE webhook_id = $1 AND owner_id = $2 FOR UPDATE",
        webhook_id, owner_id);
    if (found.empty()) return absl::OkStatus();
    if (found[0][0].as<int>() == v1::WEBHOOK_STATE_FAILING &&
        found[0][1].as<int64_t>() < pruned_through) {
      *too_old = true;
      return absl::OkStatus();
    }
    out = FirstOf(tx.exec_params(
        absl::StrCat("UPDATE webhooks SET state = webhook_state('ACTIVE'), authorized_at = now(), "
                     "failed_attempts = CASE "
                     "WHEN state = webhook_state('FAILING') THEN 0 ELSE failed_attempts END, "
                     "failing_since = CASE WHEN state = webhook_state('FAILING') THEN NULL ELSE "
                     "failing_since END, next_attempt_at = CASE WHEN state = "
                     "webhook_state('FAILING') THEN NULL ELSE next_attempt_at END WHERE "
                     "webhook_id = $1 RETURNING ",
                     kColumns),
        webhook_id));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<LeasedWebhook>> WebhookStore::LeaseDue(int64_t head,
                                                                    absl::Duration lease) {
  std::optional<LeasedWebhook> out;
  const std::string token = absl::BytesToHexString(NewWebhookKey().substr(0, 12));
  absl::Status s = pg::InTx(*pool_, "lease webhook", [&](pqxx::transaction_base& tx) {
    pqxx::result rows = tx.exec_params(
        "UPDATE webhooks SET lease_until = now() + make_interval(secs => $2), lease_token = $3 "
        "WHERE webhook_id = (SELECT webhook_id FROM webhooks WHERE state = "
        "webhook_state('ACTIVE') AND position < $1 "
        "AND (lease_until IS NULL OR lease_until < now()) AND (next_attempt_at IS NULL OR "
        "next_attempt_at <= now()) ORDER BY coalesce(next_attempt_at, created_at) LIMIT 1 "
        "FOR UPDATE SKIP LOCKED) "
        "RETURNING webhook_id, url, secret, to_json(types)::text, org_id, sees_everything, "
        "to_json(covered_nodes)::text, position, failed_attempts, us(failing_since), owner_id, "
        "us(authorized_at)",
        head, absl::ToDoubleSeconds(lease), token);
    if (rows.empty()) return absl::OkStatus();
    const pqxx::row& r = rows[0];
    LeasedWebhook w;
    w.webhook_id = r[0].as<std::string>();
    w.url = r[1].as<std::string>();
    w.key = pqxx::binarystring(r[2]).str();
    w.filter = EventFilter::FromParts(JsonTexts(r[3]), r[4].as<std::string>(), r[5].as<bool>(),
                                      JsonTexts(r[6]));
    w.position = r[7].as<int64_t>();
    w.failed_attempts = r[8].as<int>();
    if (!r[9].is_null()) w.failing_since = times::FromUs(r[9].as<int64_t>());
    w.owner_id = r[10].as<std::string>();
    w.authorized_at = times::FromUs(r[11].as<int64_t>());
    w.lease_token = token;
    out = std::move(w);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<bool> WebhookStore::Delivered(const LeasedWebhook& w, int64_t position,
                                             absl::Duration lease) {
  bool held = false;
  absl::Status s = pg::InTx(*pool_, "webhook delivered", [&](pqxx::transaction_base& tx) {
    held = !tx.exec_params(
                  "UPDATE webhooks SET position = $3, last_delivery_at = now(), failed_attempts "
                  "= 0, failing_since = NULL, next_attempt_at = NULL, last_error = '', "
                  "lease_until = now() + make_interval(secs => $4) WHERE webhook_id = $1 AND "
                  "lease_token = $2 AND state = webhook_state('ACTIVE') RETURNING 1",
                  w.webhook_id, w.lease_token, position, absl::ToDoubleSeconds(lease))
                .empty();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return held;
}

absl::Status WebhookStore::Failed(const LeasedWebhook& w, int64_t position,
                                  const std::string& error, absl::Time next_attempt,
                                  absl::Duration give_up_after) {
  return pg::InTx(*pool_, "webhook failed", [&](pqxx::transaction_base& tx) {
    tx.exec_params(
        "UPDATE webhooks SET position = $3, failed_attempts = failed_attempts + 1, "
        "failing_since = coalesce(failing_since, now()), last_error = left($4, 300), "
        "next_attempt_at = from_us($5), state = CASE WHEN coalesce(failing_since, now()) <= "
        "now() - make_interval(secs => $6) THEN webhook_state('FAILING') ELSE "
        "webhook_state('ACTIVE') END, lease_until = NULL, "
        "lease_token = '' WHERE webhook_id = $1 AND lease_token = $2",
        w.webhook_id, w.lease_token, position, error, times::Us(next_attempt),
        absl::ToDoubleSeconds(give_up_after));
    return absl::OkStatus();
  });
}

absl::Status WebhookStore::Stop(const LeasedWebhook& w, int64_t position, const std::string& why) {
  return pg::InTx(*pool_, "stop webhook", [&](pqxx::transaction_base& tx) {
    tx.exec_params(
        "UPDATE webhooks SET position = greatest(position, $3), state = webhook_state('FAILING'), "
        "failing_since = coalesce(failing_since, now()), last_error = $4, next_attempt_at = NULL, "
        "lease_until = NULL, lease_token = '' WHERE webhook_id = $1 AND lease_token = $2",
        w.webhook_id, w.lease_token, position, why);
    return absl::OkStatus();
  });
}

absl::Status WebhookStore::Release(const LeasedWebhook& w, int64_t position) {
  return pg::InTx(*pool_, "release webhook", [&](pqxx::transaction_base& tx) {
    tx.exec_params(
        "UPDATE webhooks SET position = greatest(position, $3), lease_until = NULL, "
        "lease_token = '' WHERE webhook_id = $1 AND lease_token = $2",
        w.webhook_id, w.lease_token, position);
    return absl::OkStatus();
  });
}

}  // namespace civicpoints::events
