#include "services/identity/self_token.h"

#include "absl/strings/str_cat.h"
#include "common/auth/principal.h"
#include "services/identity/key_ring.h"

namespace civicpoints::identity {

absl::StatusOr<std::string> SelfToken::Get() {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  if (now + absl::Minutes(5) < expires_at_) return token_;
  auth::Principal p;
  p.subject = "identity";
  p.token_id = absl::StrCat("self-", absl::ToUnixMicros(now));
  p.roles = {auth::RoleGrant{.role = common::v1::ROLE_INTERNAL_SERVICE}};
  p.kind = "service_account";
  p.display_name = "identity";
  p.issued_at = now;
  p.expires_at = now + lifetime_;
  absl::StatusOr<std::string> token = keys_->Sign(p, now);
  if (!token.ok()) return token.status();
  token_ = *std::move(token);
  expires_at_ = p.expires_at;
  return token_;
}

}  // namespace civicpoints::identity
