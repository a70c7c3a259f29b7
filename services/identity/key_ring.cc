#include "services/identity/key_ring.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/pg/pg_pool.h"
#include "common/status/status_macros.h"
#include "services/identity/crypto.h"

namespace civicpoints::identity {

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
        absl::StatusOr<std::vector<Key>> keys = store_.LoadAll(tx);
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
  store_.Insert(tx, k);
  return k;
}

absl::Status KeyRing::EnsureKey(absl::Time now) {
  absl::Status made =
      pool_->WithConnection("create first signing key", [&](pqxx::connection_base& c) {
        pqxx::work tx(c);
        // Replicas starting together: the lock makes one create the key and the others see it.
        store_.Lock(tx);
        absl::StatusOr<std::vector<Key>> keys = store_.LoadAll(tx);
        if (!keys.ok()) return keys.status();
        if (!ActiveKeyIndex(*keys, now).has_value()) NewKey(tx, now);
        tx.commit();
        return absl::OkStatus();
      });
  Invalidate();
  return made;
}

absl::StatusOr<std::string> KeyRing::Sign(const auth::Principal& who, absl::Time now) {
  absl::StatusOr<std::shared_ptr<const Snapshot>> snap = Current(false);
  if (!snap.ok()) return snap.status();
  std::optional<size_t> active = ActiveKeyIndex((*snap)->keys, now);
  if (!active.has_value()) {
    snap = Current(true);
    if (!snap.ok()) return snap.status();
    active = ActiveKeyIndex((*snap)->keys, now);
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
    v1::SigningKey k = DescribeKey((*snap)->keys, i, now);
    if (k.status() != v1::SIGNING_KEY_STATUS_RETIRED) out.push_back(std::move(k));
  }
  return out;
}

absl::StatusOr<std::pair<v1::SigningKey, std::optional<v1::SigningKey>>> KeyRing::Rotate(
    pqxx::transaction_base& tx, absl::Duration delay, absl::Time now) {
  store_.Lock(tx);
  absl::StatusOr<std::vector<Key>> keys = store_.LoadAll(tx);
  if (!keys.ok()) return keys.status();
  RETURN_IF_ERROR(CheckRotationAllowed(*keys, now));
  const std::optional<size_t> previous = ActiveKeyIndex(*keys, now);
  keys->push_back(NewKey(tx, now + delay));
  std::pair<v1::SigningKey, std::optional<v1::SigningKey>> result;
  result.first = DescribeKey(*keys, keys->size() - 1, now);
  if (previous.has_value()) {
    // Described as of the switch, so its not_after shows when it will stop verifying.
    result.second = DescribeKey(*keys, *previous, now + delay);
  }
  return result;
}

absl::StatusOr<std::pair<v1::SigningKey, std::optional<v1::SigningKey>>> KeyRing::Revoke(
    pqxx::transaction_base& tx, const std::string& kid, const std::string& reason, absl::Time now) {
  store_.Lock(tx);
  ASSIGN_OR_RETURN(std::optional<Key> revoked, store_.Find(tx, kid));
  if (!revoked.has_value()) {
    return absl::NotFoundError(absl::StrCat("no signing key has kid '", kid, "'"));
  }
  ASSIGN_OR_RETURN(const std::vector<Key> keys, store_.LoadAll(tx));
  const std::optional<size_t> active = ActiveKeyIndex(keys, now);
  const bool was_active = active.has_value() && keys[*active].kid == kid;
  if (!revoked->revoked_at.has_value()) {
    store_.MarkRevoked(tx, kid, now, reason);
    revoked->revoked_at = now;
  }
  std::pair<v1::SigningKey, std::optional<v1::SigningKey>> result;
  result.first = DescribeKey({*revoked}, 0, now);
  if (was_active) {
    // Activate a fresh key now; a pending rotation (if any) still takes over at its own time.
    result.second = DescribeKey({NewKey(tx, now)}, 0, now);
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
      if (DescribeKey((*snap)->keys, i, now).status() == v1::SIGNING_KEY_STATUS_RETIRED) break;
      return (*snap)->keys[i].public_key;
    }
  }
  return absl::NotFoundError(absl::StrCat("no published key with kid '", kid, "'"));
}

}  // namespace civicpoints::identity
