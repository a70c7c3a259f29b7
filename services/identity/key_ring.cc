#include "services/identity/key_ring.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/base/time_units.h"
#include "common/pg/pg_pool.h"
#include "common/status/refusal.h"
#include "services/identity/crypto.h"

namespace civicpoints::identity {
namespace {

using times::SetTime;
using times::Us;

// A superseded key stays published until tokens it signed have expired, with clock leeway.
const absl::Duration kRetireAfter = KeyRing::kAccessTokenTtl + auth::TokenVerifier::kLeeway;

}  // namespace

absl::StatusOr<std::vector<KeyRing::Key>> KeyRing::LoadKeys(pqxx::transaction_base& tx) {
  std::vector<Key> keys;
  for (const auto& row :
       tx.exec("SELECT kid, public_key, sealed_secret_key, us(activates_at), us(created_at), "
               "us(revoked_at) FROM signing_keys ORDER BY activates_at, kid")) {
    Key k;
    k.kid = row[0].as<std::string>();
    pqxx::binarystring pk(row[1]);
    if (pk.size() != k.public_key.size())
      return absl::DataLossError("a public key is not 32 bytes");
    std::copy(pk.begin(), pk.end(), k.public_key.begin());
    k.sealed_secret = pqxx::binarystring(row[2]).str();
    k.activates_at = absl::FromUnixMicros(row[3].as<int64_t>());
    k.created_at = absl::FromUnixMicros(row[4].as<int64_t>());
    if (!row[5].is_null()) k.revoked_at = absl::FromUnixMicros(row[5].as<int64_t>());
    keys.push_back(std::move(k));
  }
  return keys;
}

std::optional<size_t> KeyRing::ActiveIndex(const std::vector<Key>& keys, absl::Time now) {
  std::optional<size_t> active;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].activates_at <= now && !keys[i].revoked_at.has_value()) active = i;
  }
  return active;
}

v1::SigningKey KeyRing::Describe(const std::vector<Key>& keys, size_t i, absl::Time now) {
  const Key& k = keys[i];
  v1::SigningKey out;
  out.set_kid(k.kid);
  out.set_algorithm("EdDSA");
  out.set_curve("Ed25519");
  out.set_public_key(auth::Base64UrlEncode(
      absl::string_view(reinterpret_cast<const char*>(k.public_key.data()), k.public_key.size())));
  SetTime(out.mutable_not_before(), k.activates_at);
  SetTime(out.mutable_create_time(), k.created_at);
  const std::optional<size_t> active = ActiveIndex(keys, now);
  if (k.revoked_at.has_value()) {
    out.set_status(v1::SIGNING_KEY_STATUS_RETIRED);
    SetTime(out.mutable_not_after(), *k.revoked_at);
  } else if (k.activates_at > now) {
    out.set_status(v1::SIGNING_KEY_STATUS_PENDING);
  } else if (active == i) {
    out.set_status(v1::SIGNING_KEY_STATUS_ACTIVE);
  } else {
    // Superseded by the next key that really took over: one activated before it was revoked (a
    // key revoked while pending never signed, so it superseded nothing).
    out.set_status(v1::SIGNING_KEY_STATUS_RETIRED);
    for (size_t j = i + 1; j < keys.size(); ++j) {
      const Key& next = keys[j];
      if (next.activates_at > now) continue;
      if (next.revoked_at.has_value() && *next.revoked_at <= next.activates_at) continue;
      const absl::Time not_after = next.activates_at + kRetireAfter;
      SetTime(out.mutable_not_after(), not_after);
      if (now < not_after) out.set_status(v1::SIGNING_KEY_STATUS_RETIRING);
      break;
    }
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const KeyRing::Snapshot>> KeyRing::Current(bool force) {
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    if (snapshot_ != nullptr) {
      if (!force && now - snapshot_->loaded_at < kCacheTtl) return snapshot_;
      if (force && now - last_forced_load_ < absl::Seconds(1)) return snapshot_;
    }
    if (force) last_forced_load_ = now;
  }
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    generation = generation_;
  }
  auto fresh = std::make_shared<Snapshot>();
  absl::Status loaded =
      pool_->WithReadConnection("load signing keys", [&](pqxx::connection_base& c) {
        pqxx::read_transaction tx(c);
        absl::StatusOr<std::vector<Key>> keys = LoadKeys(tx);
        if (!keys.ok()) return keys.status();
        fresh->keys = *std::move(keys);
        return absl::OkStatus();
      });
  if (!loaded.ok()) return loaded;
  fresh->loaded_at = now;
  {
    absl::MutexLock lock(&mu_);
    if (generation == generation_) {
      snapshot_ = fresh;
      return snapshot_;
    }
  }
  // Invalidated while loading: the load may predate a rotation or revocation. Load again.
  return Current(force);
}

void KeyRing::Invalidate() {
  absl::MutexLock lock(&mu_);
  snapshot_ = nullptr;
  ++generation_;
  last_forced_load_ = absl::InfinitePast();
}

KeyRing::Key KeyRing::NewKey(pqxx::transaction_base& tx, absl::Time activates_at) {
  auth::Ed25519PublicKey pk;
  auth::Ed25519SecretKey sk;
  auth::TokenSigner::GenerateKeyPair(&pk, &sk);
  Key k;
  k.kid = NewId("k");
  k.public_key = pk;
  k.sealed_secret =
      secrets_->Seal(absl::string_view(reinterpret_cast<const char*>(sk.data()), sk.size()));
  k.activates_at = activates_at;
  k.created_at = absl::Now();
  const std::string pk_bytes(reinterpret_cast<const char*>(pk.data()), pk.size());
  tx.exec_params(
      "INSERT INTO signing_keys (kid, public_key, sealed_secret_key, activates_at, created_at) "
      "VALUES ($1, $2, $3, from_us($4), from_us($5))",
      k.kid, pqxx::binarystring(pk_bytes), pqxx::binarystring(k.sealed_secret), Us(activates_at),
      Us(k.created_at));
  return k;
}

absl::Status KeyRing::EnsureKey(absl::Time now) {
  absl::Status made =
      pool_->WithConnection("create first signing key", [&](pqxx::connection_base& c) {
        pqxx::work tx(c);
        // Replicas starting together: the lock makes one create the key and the others see it.
        tx.exec("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE");
        absl::StatusOr<std::vector<Key>> keys = LoadKeys(tx);
        if (!keys.ok()) return keys.status();
        if (!ActiveIndex(*keys, now).has_value()) NewKey(tx, now);
        tx.commit();
        return absl::OkStatus();
      });
  Invalidate();
  return made;
}

absl::StatusOr<std::string> KeyRing::Sign(const auth::Principal& who, absl::Time now) {
  absl::StatusOr<std::shared_ptr<const Snapshot>> snap = Current(false);
  if (!snap.ok()) return snap.status();
  std::optional<size_t> active = ActiveIndex((*snap)->keys, now);
  if (!active.has_value()) {
    snap = Current(true);
    if (!snap.ok()) return snap.status();
    active = ActiveIndex((*snap)->keys, now);
  }
  if (!active.has_value()) return absl::UnavailableError("no active token-signing key");
  const Key& key = (*snap)->keys[*active];
  absl::StatusOr<std::string> secret = secrets_->Unseal(key.sealed_secret);
  if (!secret.ok()) return secret.status();
  auth::Ed25519SecretKey sk;
  if (secret->size() != sk.size()) return absl::DataLossError("a signing key has the wrong size");
  std::copy(secret->begin(), secret->end(), sk.begin());
  return auth::TokenSigner(key.kid, sk).Sign(who);
}

absl::StatusOr<std::vector<v1::SigningKey>> KeyRing::Published(absl::Time now) {
  absl::StatusOr<std::shared_ptr<const Snapshot>> snap = Current(false);
  if (!snap.ok()) return snap.status();
  std::vector<v1::SigningKey> out;
  for (size_t i = (*snap)->keys.size(); i-- > 0;) {
    v1::SigningKey k = Describe((*snap)->keys, i, now);
    if (k.status() != v1::SIGNING_KEY_STATUS_RETIRED) out.push_back(std::move(k));
  }
  return out;
}

absl::StatusOr<std::pair<v1::SigningKey, std::optional<v1::SigningKey>>> KeyRing::Rotate(
    pqxx::transaction_base& tx, absl::Duration delay, absl::Time now) {
  tx.exec("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE");
  absl::StatusOr<std::vector<Key>> keys = LoadKeys(tx);
  if (!keys.ok()) return keys.status();
  for (const Key& k : *keys) {
    if (k.activates_at > now && !k.revoked_at.has_value()) {
      return Refuse(
          absl::StatusCode::kFailedPrecondition, v1::IDENTITY_ERROR_REASON_KEY_ROTATION_PENDING,
          absl::StrCat("key ", k.kid,
                       " is still pending activation; wait for it before rotating again"));
    }
  }
  const std::optional<size_t> previous = ActiveIndex(*keys, now);
  keys->push_back(NewKey(tx, now + delay));
  std::pair<v1::SigningKey, std::optional<v1::SigningKey>> result;
  result.first = Describe(*keys, keys->size() - 1, now);
  if (previous.has_value()) {
    // Described as of the switch, so its not_after shows when it will stop verifying.
    result.second = Describe(*keys, *previous, now + delay);
  }
  return result;
}

absl::StatusOr<std::pair<v1::SigningKey, std::optional<v1::SigningKey>>> KeyRing::Revoke(
    pqxx::transaction_base& tx, const std::string& kid, const std::string& reason, absl::Time now) {
  tx.exec("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE");
  pqxx::result row = tx.exec_params(
      "SELECT us(revoked_at), us(activates_at), us(created_at), public_key "
      "FROM signing_keys WHERE kid = $1",
      kid);
  if (row.empty()) return absl::NotFoundError(absl::StrCat("no signing key has kid '", kid, "'"));
  absl::StatusOr<std::vector<Key>> keys = LoadKeys(tx);
  if (!keys.ok()) return keys.status();
  const std::optional<size_t> active = ActiveIndex(*keys, now);
  const bool was_active = active.has_value() && (*keys)[*active].kid == kid;
  if (row[0][0].is_null()) {
    tx.exec_params(
        "UPDATE signing_keys SET revoked_at = from_us($2), revoke_reason = $3 WHERE kid = $1", kid,
        Us(now), reason);
  }
  Key revoked;
  revoked.kid = kid;
  pqxx::binarystring pk(row[0][3]);
  std::copy(pk.begin(), pk.end(), revoked.public_key.begin());
  revoked.activates_at = absl::FromUnixMicros(row[0][1].as<int64_t>());
  revoked.created_at = absl::FromUnixMicros(row[0][2].as<int64_t>());
  revoked.revoked_at = row[0][0].is_null() ? now : absl::FromUnixMicros(row[0][0].as<int64_t>());
  std::pair<v1::SigningKey, std::optional<v1::SigningKey>> result;
  result.first = Describe({revoked}, 0, now);
  if (was_active) {
    // Activate a fresh key now; a pending rotation (if any) still takes over at its own time.
    std::vector<Key> replacement = {NewKey(tx, now)};
    result.second = Describe(replacement, 0, now);
  }
  return result;
}

absl::StatusOr<auth::Ed25519PublicKey> KeyRing::Find(const std::string& kid) {
  const absl::Time now = absl::Now();
  for (bool force : {false, true}) {
    absl::StatusOr<std::shared_ptr<const Snapshot>> snap = Current(force);
    if (!snap.ok()) return snap.status();
    for (size_t i = 0; i < (*snap)->keys.size(); ++i) {
      if ((*snap)->keys[i].kid != kid) continue;
      if (Describe((*snap)->keys, i, now).status() == v1::SIGNING_KEY_STATUS_RETIRED) break;
      return (*snap)->keys[i].public_key;
    }
  }
  return absl::NotFoundError(absl::StrCat("no published key with kid '", kid, "'"));
}

}  // namespace civicpoints::identity
