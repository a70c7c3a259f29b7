#include "services/identity/session_rules.h"

namespace civicpoints::identity {

RefreshStep DecideRefresh(const std::optional<RefreshTokenFacts>& facts, absl::Time now) {
  if (!facts || facts->session_revoked || !facts->person_active) return RefreshStep::kRefuse;
  if (facts->expires_at <= now) return RefreshStep::kRefuse;
  if (!facts->rotated_at) return RefreshStep::kRotate;
  return now - *facts->rotated_at > kRefreshReuseGrace ? RefreshStep::kTheft : RefreshStep::kRepeat;
}

}  // namespace civicpoints::identity
