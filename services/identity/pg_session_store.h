// PgSessionStore: the SQL of sessions and their refresh tokens (opening, refreshing, ending,
// sweeping what expired). Every method runs inside the caller's transaction, so the rules
// (session_rules.h) decide between a read and a write of one transaction. Refresh tokens are
// stored as their SHA-256 only. Stateless and thread-safe; a database error is thrown as pqxx's
// exception, which the transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_PG_SESSION_STORE_H_
#define CIVICPOINTS_SERVICES_IDENTITY_PG_SESSION_STORE_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "services/identity/session_rules.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::identity {

class PgSessionStore {
 public:
  // A new session of `person_id` on `device_name` with its first refresh token, both expiring at
  // `expiry`; the person's last activity is `now`.
  void Open(pqxx::transaction_base& tx, const std::string& session_id, const std::string& person_id,
            const std::string& device_name, const std::string& refresh_hash, absl::Time now,
            absl::Time expiry) const;

  // The refresh token with hash `refresh_hash`, its session locked (FOR UPDATE); nullopt when
  // identity never issued it.
  struct Refresh {
    std::string session_id, person_id;
    RefreshTokenFacts facts;
  };
  std::optional<Refresh> FindRefresh(pqxx::transaction_base& tx,
                                     const std::string& refresh_hash) const;
  // Trades the token for its successor (kept if a retry stored it already) and extends the
  // session and the person's last activity to `now`, the session to `expiry`.
  void Rotate(pqxx::transaction_base& tx, const Refresh& token, const std::string& refresh_hash,
              const std::string& successor_hash, absl::Time now, absl::Time expiry) const;

  // The session a refresh token belongs to ("" when identity never issued it).
  std::string SessionOf(pqxx::transaction_base& tx, const std::string& refresh_hash) const;
  // Ends one session (if still open) / every open session of a person, for `reason`; returns how
  // many ended.
  int End(pqxx::transaction_base& tx, const std::string& session_id, const std::string& reason,
          absl::Time now) const;
  int EndAll(pqxx::transaction_base& tx, const std::string& person_id, const std::string& reason,
             absl::Time now) const;

  // Clears a bounded slice of what expired: refresh tokens a day past expiry, sessions 30 days
  // past, idempotency keys older than 7 days (docs/api-conventions.md keeps them that long).
  void Sweep(pqxx::transaction_base& tx, absl::Time now) const;
};

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_PG_SESSION_STORE_H_
