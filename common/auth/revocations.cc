#include "common/auth/revocations.h"

#include <sodium.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace civicpoints::auth {

std::string RevocationDigest(absl::string_view id) {
  const std::string input = absl::StrCat("civicpoints-revocation:", id);
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(hash), 16));
}

void RevocationSet::AddSession(std::string digest, absl::Time revoked_at) {
  absl::Time& at = sessions_[std::move(digest)];
  at = std::max(at, revoked_at);
}

void RevocationSet::AddSubject(std::string digest, absl::Time revoked_at) {
  // Of several revocations of one subject the latest matters: it covers every earlier token.
  auto [it, inserted] = subjects_.emplace(std::move(digest), revoked_at);
  if (!inserted) it->second = std::max(it->second, revoked_at);
}

bool RevocationSet::Revoked(const Principal& principal) const {
  if (sessions_.empty() && subjects_.empty()) return false;
  if (!principal.session_id.empty() && sessions_.contains(RevocationDigest(principal.session_id))) {
    return true;
  }
  auto it = subjects_.find(RevocationDigest(principal.subject));
  // Token times have whole seconds: a token issued in the second of the revocation is refused.
  return it != subjects_.end() &&
         principal.issued_at <= absl::FromUnixSeconds(absl::ToUnixSeconds(it->second));
}

}  // namespace civicpoints::auth
