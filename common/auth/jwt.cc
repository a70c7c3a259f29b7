#include "common/auth/jwt.h"

#include <sodium.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace civicpoints::auth {
namespace {

using nlohmann::json;

void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
}

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("access token rejected: ", why));
}

int64_t ToSeconds(absl::Time t) { return absl::ToUnixSeconds(t); }

}  // namespace

std::string Base64UrlEncode(absl::string_view bytes) {
  EnsureSodium();
  const size_t cap =
      sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::string out(cap, '\0');
  sodium_bin2base64(out.data(), cap, reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(cap - 1);  // drop the terminating NUL
  return out;
}

bool Base64UrlDecode(absl::string_view text, std::string* bytes) {
  EnsureSodium();
  std::string out(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return false;
  }
  out.resize(len);
  *bytes = std::move(out);
  return true;
}

absl::StatusOr<KeySet> KeySet::FromJwks(absl::string_view jwks_json) {
  try {
    return ParseJwks(jwks_json);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWKS has a field of the wrong type: ", e.what()));
  }
}

absl::StatusOr<KeySet> KeySet::ParseJwks(absl::string_view jwks_json) {
  json doc = json::parse(jwks_json.begin(), jwks_json.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return absl::InvalidArgumentError("JWKS is not a JSON object with a \"keys\" array");
  }
  KeySet set;
  int index = 0;
  for (const json& key : doc["keys"]) {
    const std::string where = absl::StrCat("JWKS key #", index++);
    if (!key.is_object() || key.value("kty", "") != "OKP" || key.value("crv", "") != "Ed25519") {
      return absl::InvalidArgumentError(absl::StrCat(where, " is not an OKP Ed25519 key"));
    }
    const std::string kid = key.value("kid", "");
    std::string raw;
    if (kid.empty()) return absl::InvalidArgumentError(absl::StrCat(where, " has no kid"));
    if (!Base64UrlDecode(key.value("x", ""), &raw) || raw.size() != 32) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " (kid ", kid, ") has no 32-byte base64url \"x\""));
    }
    Ed25519PublicKey pk;
    std::copy(raw.begin(), raw.end(), pk.begin());
    set.Add(kid, pk);
  }
  return set;
}

const Ed25519PublicKey* KeySet::Find(const std::string& kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

std::string KeySet::ToJwks() const {
  json keys = json::array();
  for (const auto& [kid, key] : keys_) {
    keys.push_back({{"kty", "OKP"},
                    {"crv", "Ed25519"},
                    {"alg", "EdDSA"},
                    {"use", "sig"},
                    {"kid", kid},
                    {"x", Base64UrlEncode(absl::string_view(
                              reinterpret_cast<const char*>(key.data()), key.size()))}});
  }
  return json{{"keys", keys}}.dump();
}

absl::StatusOr<Ed25519PublicKey> StaticKeyProvider::Find(const std::string& kid) {
  if (const Ed25519PublicKey* key = keys_.Find(kid)) return *key;
  return absl::NotFoundError(absl::StrCat("no key with kid '", kid, "'"));
}

absl::StatusOr<Principal> TokenVerifier::Verify(absl::string_view token, absl::Time now) const {
  std::optional<Principal> cached;
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(token);
    if (it != cache_.end()) {
      if (now < it->second.expires_at + kLeeway) {
        cached = it->second;
      } else {
        cache_.erase(it);
      }
    }
  }
  // A remembered token holds only while its key is still published: a revoked key takes its
  // tokens with it as soon as the key source knows.
  if (cached.has_value()) {
    if (keys_->Find(cached->key_id).ok()) return *std::move(cached);
    absl::MutexLock lock(&cache_mu_);
    cache_.erase(std::string(token));
  }
  try {
    absl::StatusOr<Principal> verified = VerifyUnchecked(token, now);
    if (verified.ok()) {
      absl::MutexLock lock(&cache_mu_);
      if (++inserts_since_sweep_ >= kSweepEvery) {
        inserts_since_sweep_ = 0;
        absl::erase_if(
            cache_, [now](const auto& entry) { return entry.second.expires_at + kLeeway <= now; });
      }
      if (cache_.size() >= kCacheSize) EvictOneLocked(now);
      cache_.emplace(std::string(token), *verified);
    }
    return verified;
  } catch (const nlohmann::json::exception&) {
    // A header or claim of the wrong JSON type: as malformed as any other bad token.
    return Unauthenticated("malformed (a header field or claim has the wrong type)");
  }
}

void TokenVerifier::EvictOneLocked(absl::Time now) const {
  // Clearing the whole cache when full would let a flood of fresh tokens make every client's next
  // call pay a signature check again. Instead one entry goes: among a few (the table's order is
  // seeded per process, so a caller cannot aim at a victim), an expired one, else the one that
  // expires first.
  auto victim = cache_.begin();
  int seen = 0;
  for (auto it = cache_.begin(); it != cache_.end() && seen < kEvictionSample; ++it, ++seen) {
    if (it->second.expires_at + kLeeway <= now) {
      victim = it;
      break;
    }
    if (it->second.expires_at < victim->second.expires_at) victim = it;
  }
  if (victim != cache_.end()) cache_.erase(victim);
}

size_t TokenVerifier::CachedTokensForTest() const {
  absl::MutexLock lock(&cache_mu_);
  return cache_.size();
}

absl::StatusOr<Principal> TokenVerifier::VerifyUnchecked(absl::string_view token,
                                                         absl::Time now) const {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Unauthenticated("malformed (not three dot-separated parts)");
  std::string header_bytes, claims_bytes, signature;
  if (!Base64UrlDecode(parts[0], &header_bytes) || !Base64UrlDecode(parts[1], &claims_bytes) ||
      !Base64UrlDecode(parts[2], &signature)) {
    return Unauthenticated("malformed (a part is not base64url)");
  }
  json header = json::parse(header_bytes, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    return Unauthenticated("malformed header");
  }
  const std::string alg = header.value("alg", "");
  if (alg != "EdDSA") {
    return Unauthenticated(absl::StrCat("algorithm '", alg, "' is not accepted; only EdDSA"));
  }
  const std::string kid = header.value("kid", "");
  if (kid.empty()) return Unauthenticated("header has no kid");
  absl::StatusOr<Ed25519PublicKey> key = keys_->Find(kid);
  if (!key.ok()) {
    if (key.status().code() == absl::StatusCode::kNotFound) {
      return Unauthenticated(absl::StrCat("signed with unknown key '", kid, "'"));
    }
    return key.status();
  }
  if (signature.size() != crypto_sign_BYTES) return Unauthenticated("signature has wrong length");
  const std::string signed_part = absl::StrCat(parts[0], ".", parts[1]);
  EnsureSodium();
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                  reinterpret_cast<const unsigned char*>(signed_part.data()),
                                  signed_part.size(), key->data()) != 0) {
    return Unauthenticated("signature does not verify");
  }

  json claims = json::parse(claims_bytes, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) return Unauthenticated("malformed claims");
  if (claims.value("iss", "") != kIssuer) return Unauthenticated("wrong issuer");
  if (claims.value("aud", "") != kAudience) return Unauthenticated("wrong audience");
  if (!claims.contains("exp") || !claims["exp"].is_number_integer() || !claims.contains("iat") ||
      !claims["iat"].is_number_integer()) {
    return Unauthenticated("claims lack integer exp and iat");
  }
  Principal p;
  p.expires_at = absl::FromUnixSeconds(claims["exp"].get<int64_t>());
  p.issued_at = absl::FromUnixSeconds(claims["iat"].get<int64_t>());
  if (now >= p.expires_at + kLeeway) {
    return Unauthenticated(absl::StrCat("expired at ", absl::FormatTime(p.expires_at)));
  }
  if (p.issued_at > now + kLeeway) return Unauthenticated("issued in the future");
  if (claims.contains("nbf")) {
    if (!claims["nbf"].is_number_integer()) return Unauthenticated("nbf claim is not an integer");
    if (absl::FromUnixSeconds(claims["nbf"].get<int64_t>()) > now + kLeeway) {
      return Unauthenticated("not valid yet (nbf)");
    }
  }
  p.subject = claims.value("sub", "");
  if (p.subject.empty()) return Unauthenticated("claims lack sub");
  p.token_id = claims.value("jti", "");
  p.key_id = kid;
  p.session_id = claims.value("sid", "");
  p.kind = claims.value("kind", "");
  p.display_name = claims.value("name", "");
  p.password_change_required =
      claims.contains("pcr") && claims["pcr"].is_boolean() && claims["pcr"].get<bool>();
  if (claims.contains("roles")) {
    if (!claims["roles"].is_array()) return Unauthenticated("roles claim is not an array");
    for (const json& grant : claims["roles"]) {
      RoleGrant g;
      if (!grant.is_object() || !ParseRoleName(grant.value("role", ""), &g.role)) {
        return Unauthenticated("roles claim holds an unknown role");
      }
      g.org_id = grant.value("org_id", "");
      common::v1::OrgLevel level;
      if (common::v1::OrgLevel_Parse(grant.value("org_level", ""), &level)) g.org_level = level;
      if (grant.contains("org_ancestors") && grant["org_ancestors"].is_array()) {
        for (const json& a : grant["org_ancestors"]) {
          if (a.is_string()) g.org_ancestors.push_back(a.get<std::string>());
        }
      }
      p.roles.push_back(std::move(g));
    }
  }
  if (claims.contains("scopes")) {
    if (!claims["scopes"].is_array()) return Unauthenticated("scopes claim is not an array");
    for (const json& scope : claims["scopes"]) {
      if (!scope.is_string()) return Unauthenticated("scopes claim holds a non-string");
      p.scopes.push_back(scope.get<std::string>());
    }
  }
  return p;
}

TokenSigner::TokenSigner(std::string kid, const Ed25519SecretKey& secret_key)
    : kid_(std::move(kid)), secret_key_(secret_key) {}

void TokenSigner::GenerateKeyPair(Ed25519PublicKey* public_key, Ed25519SecretKey* secret_key) {
  EnsureSodium();
  crypto_sign_keypair(public_key->data(), secret_key->data());
}

std::string TokenSigner::Sign(const Principal& who) const {
  json roles = json::array();
  for (const RoleGrant& g : who.roles) {
    json grant = {{"role", RoleName(g.role)}, {"org_id", g.org_id}};
    if (g.org_level != common::v1::ORG_LEVEL_UNSPECIFIED) {
      grant["org_level"] = common::v1::OrgLevel_Name(g.org_level);
      grant["org_ancestors"] = g.org_ancestors;
    }
    roles.push_back(std::move(grant));
  }
  json claims = {{"iss", kIssuer},
                 {"aud", kAudience},
                 {"sub", who.subject},
                 {"jti", who.token_id},
                 {"iat", ToSeconds(who.issued_at)},
                 {"exp", ToSeconds(who.expires_at)},
                 {"roles", roles},
                 {"scopes", who.scopes}};
  if (!who.session_id.empty()) claims["sid"] = who.session_id;
  if (!who.kind.empty()) claims["kind"] = who.kind;
  if (!who.display_name.empty()) claims["name"] = who.display_name;
  if (who.password_change_required) claims["pcr"] = true;
  json header = {{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", kid_}};
  const std::string signed_part =
      absl::StrCat(Base64UrlEncode(header.dump()), ".",
                   // Text that is not UTF-8 (a name stored before it was checked) is signed with
                   // U+FFFD in its place rather than throwing out of the signer.
                   Base64UrlEncode(claims.dump(-1, ' ', false, json::error_handler_t::replace)));
  unsigned char sig[crypto_sign_BYTES];
  EnsureSodium();
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size(), secret_key_.data());
  return absl::StrCat(
      signed_part, ".",
      Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(sig), sizeof sig)));
}

}  // namespace civicpoints::auth
