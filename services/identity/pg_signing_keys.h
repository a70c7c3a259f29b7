// PgSigningKeys: the SQL of the token-signing keys (table signing_keys). Every method runs inside
// the caller's transaction; KeyRing decides with the pure rules of key_states.h between a read and
// a write. Stateless and thread-safe; a database error is thrown as pqxx's exception.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_PG_SIGNING_KEYS_H_
#define CIVICPOINTS_SERVICES_IDENTITY_PG_SIGNING_KEYS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/identity/key_states.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::identity {

class PgSigningKeys {
 public:
  // Locks the table against other rotations, revocations and first keys until the transaction
  // ends (readers go on).
  void Lock(pqxx::transaction_base& tx) const;
  // Every key, revoked ones too, oldest activation first. Errors: DATA_LOSS for a malformed key.
  absl::StatusOr<std::vector<SigningKeyRecord>> LoadAll(pqxx::transaction_base& tx) const;
  // The key `kid`, if it exists. Errors: DATA_LOSS for a malformed key.
  absl::StatusOr<std::optional<SigningKeyRecord>> Find(pqxx::transaction_base& tx,
                                                       const std::string& kid) const;
  void Insert(pqxx::transaction_base& tx, const SigningKeyRecord& key) const;
  void MarkRevoked(pqxx::transaction_base& tx, const std::string& kid, absl::Time at,
                   const std::string& reason) const;
};

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_PG_SIGNING_KEYS_H_
