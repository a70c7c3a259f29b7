#include "services/identity/pg_signing_keys.h"

#include <pqxx/pqxx>

#include "common/base/time_units.h"

namespace civicpoints::identity {
namespace {

constexpr char kKeyColumns[] =
    "kid, public_key, sealed_secret_key, us(activates_at), us(created_at), us(revoked_at)";

absl::StatusOr<SigningKeyRecord> ReadKey(const pqxx::row& row) {
  SigningKeyRecord k;
  k.kid = row[0].as<std::string>();
  pqxx::binarystring pk(row[1]);
  if (pk.size() != k.public_key.size()) return absl::DataLossError("a public key is not 32 bytes");
  std::copy(pk.begin(), pk.end(), k.public_key.begin());
  k.sealed_secret = pqxx::binarystring(row[2]).str();
  k.activates_at = absl::FromUnixMicros(row[3].as<int64_t>());
  k.created_at = absl::FromUnixMicros(row[4].as<int64_t>());
  if (!row[5].is_null()) k.revoked_at = absl::FromUnixMicros(row[5].as<int64_t>());
  return k;
}

}  // namespace

void PgSigningKeys::Lock(pqxx::transaction_base& tx) const {
  tx.exec("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE");
}

absl::StatusOr<std::vector<SigningKeyRecord>> PgSigningKeys::LoadAll(
    pqxx::transaction_base& tx) const {
  std::vector<SigningKeyRecord> keys;
  for (const auto& row : tx.exec(std::string("SELECT ") + kKeyColumns +
                                 " FROM signing_keys ORDER BY activates_at, kid")) {
    absl::StatusOr<SigningKeyRecord> k = ReadKey(row);
    if (!k.ok()) return k.status();
    keys.push_back(*std::move(k));
  }
  return keys;
}

absl::StatusOr<std::optional<SigningKeyRecord>> PgSigningKeys::Find(pqxx::transaction_base& tx,
                                                                    const std::string& kid) const {
  pqxx::result r = tx.exec_params(
      std::string("SELECT ") + kKeyColumns + " FROM signing_keys WHERE kid = $1", kid);
  if (r.empty()) return std::nullopt;
  absl::StatusOr<SigningKeyRecord> k = ReadKey(r[0]);
  if (!k.ok()) return k.status();
  return std::optional<SigningKeyRecord>(*std::move(k));
}

void PgSigningKeys::Insert(pqxx::transaction_base& tx, const SigningKeyRecord& k) const {
  const std::string pk(reinterpret_cast<const char*>(k.public_key.data()), k.public_key.size());
  tx.exec_params(
      "INSERT INTO signing_keys (kid, public_key, sealed_secret_key, activates_at, created_at) "
      "VALUES ($1, $2, $3, from_us($4), from_us($5))",
      k.kid, pqxx::binarystring(pk), pqxx::binarystring(k.sealed_secret), times::Us(k.activates_at),
      times::Us(k.created_at));
}

void PgSigningKeys::MarkRevoked(pqxx::transaction_base& tx, const std::string& kid, absl::Time at,
                                const std::string& reason) const {
  tx.exec_params(
      "UPDATE signing_keys SET revoked_at = from_us($2), revoke_reason = $3 WHERE kid = $1", kid,
      times::Us(at), reason);
}

}  // namespace civicpoints::identity
