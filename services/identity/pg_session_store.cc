#include "services/identity/pg_session_store.h"

#include <pqxx/pqxx>

#include "civicpoints/identity/v1/person.pb.h"
#include "common/base/time_units.h"

namespace civicpoints::identity {

using times::Us;

void PgSessionStore::Open(pqxx::transaction_base& tx, const std::string& session_id,
                          const std::string& person_id, const std::string& device_name,
                          const std::string& refresh_hash, absl::Time now,
                          absl::Time expiry) const {
  tx.exec_params(
      "INSERT INTO sessions (session_id, person_id, device_name, created_at, last_refresh_at, "
      "expires_at) VALUES ($1, $2, $3, from_us($4), from_us($4), from_us($5))",
      session_id, person_id, device_name, Us(now), Us(expiry));
  tx.exec_params(
      "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) "
      "VALUES ($1, $2, from_us($3), from_us($4))",
      pqxx::binarystring(refresh_hash), session_id, Us(now), Us(expiry));
  tx.exec_params("UPDATE people SET last_active_at = from_us($2) WHERE person_id = $1", person_id,
                 Us(now));
}

std::optional<PgSessionStore::Refresh> PgSessionStore::FindRefresh(
    pqxx::transaction_base& tx, const std::string& refresh_hash) const {
  pqxx::result r = tx.exec_params(
      "SELECT rt.session_id, us(rt.expires_at), us(rt.rotated_at), s.person_id, "
      "s.revoked_at IS NOT NULL, p.status FROM refresh_tokens rt "
      "JOIN sessions s ON s.session_id = rt.session_id "
      "JOIN people p ON p.person_id = s.person_id WHERE rt.token_hash = $1 FOR UPDATE OF s",
      pqxx::binarystring(refresh_hash));
  if (r.empty()) return std::nullopt;
  Refresh out{.session_id = r[0][0].as<std::string>(), .person_id = r[0][3].as<std::string>()};
  out.facts.expires_at = absl::FromUnixMicros(r[0][1].as<int64_t>());
  if (!r[0][2].is_null()) out.facts.rotated_at = absl::FromUnixMicros(r[0][2].as<int64_t>());
  out.facts.session_revoked = r[0][4].as<bool>();
  out.facts.person_active = r[0][5].as<int>() == v1::PERSON_STATUS_ACTIVE;
  return out;
}

void PgSessionStore::Rotate(pqxx::transaction_base& tx, const Refresh& token,
                            const std::string& refresh_hash, const std::string& successor_hash,
                            absl::Time now, absl::Time expiry) const {
  tx.exec_params("UPDATE refresh_tokens SET rotated_at = from_us($2) WHERE token_hash = $1",
                 pqxx::binarystring(refresh_hash), Us(now));
  tx.exec_params(
      "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) "
      "VALUES ($1, $2, from_us($3), from_us($4)) ON CONFLICT DO NOTHING",
      pqxx::binarystring(successor_hash), token.session_id, Us(now), Us(expiry));
  tx.exec_params(
      "UPDATE sessions SET last_refresh_at = from_us($2), expires_at = from_us($3) "
      "WHERE session_id = $1",
      token.session_id, Us(now), Us(expiry));
  tx.exec_params("UPDATE people SET last_active_at = from_us($2) WHERE person_id = $1",
                 token.person_id, Us(now));
}

std::string PgSessionStore::SessionOf(pqxx::transaction_base& tx,
                                      const std::string& refresh_hash) const {
  pqxx::result r = tx.exec_params("SELECT session_id FROM refresh_tokens WHERE token_hash = $1",
                                  pqxx::binarystring(refresh_hash));
  return r.empty() ? "" : r[0][0].as<std::string>();
}

int PgSessionStore::End(pqxx::transaction_base& tx, const std::string& session_id,
                        const std::string& reason, absl::Time now) const {
  return static_cast<int>(
      tx.exec_params("UPDATE sessions SET revoked_at = from_us($2), revoke_reason = $3 "
                     "WHERE session_id = $1 AND revoked_at IS NULL",
                     session_id, Us(now), reason)
          .affected_rows());
}

int PgSessionStore::EndAll(pqxx::transaction_base& tx, const std::string& person_id,
                           const std::string& reason, absl::Time now) const {
  return static_cast<int>(
      tx.exec_params("UPDATE sessions SET revoked_at = from_us($2), revoke_reason = $3 "
                     "WHERE person_id = $1 AND revoked_at IS NULL",
                     person_id, Us(now), reason)
          .affected_rows());
}

void PgSessionStore::Sweep(pqxx::transaction_base& tx, absl::Time now) const {
  tx.exec_params(
      "DELETE FROM refresh_tokens WHERE ctid = ANY (ARRAY(SELECT ctid FROM refresh_tokens "
      "WHERE expires_at < from_us($1) LIMIT 1000))",
      Us(now - absl::Hours(24)));
  tx.exec_params(
      "DELETE FROM sessions WHERE session_id = ANY (ARRAY(SELECT session_id FROM sessions "
      "WHERE expires_at < from_us($1) LIMIT 1000))",
      Us(now - absl::Hours(24 * 30)));
  tx.exec_params(
      "DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(SELECT ctid FROM idempotency_keys "
      "WHERE created_at < from_us($1) LIMIT 1000))",
      Us(now - absl::Hours(24 * 7)));
}

}  // namespace civicpoints::identity
