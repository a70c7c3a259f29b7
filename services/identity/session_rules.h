// Sessions' refresh tokens as pure rules: what presenting one does, from what identity stored of
// it. No storage and no clock: RefreshToken reads the facts through PgSessionStore under the
// session's row lock, asks DecideRefresh, and writes the answer in the same transaction.
// session_rules_test.cc holds them without a database.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_SESSION_RULES_H_
#define CIVICPOINTS_SERVICES_IDENTITY_SESSION_RULES_H_

#include <optional>

#include "absl/time/time.h"

namespace civicpoints::identity {

// A rotated refresh token presented again within this grace gets the same successor (a client
// retrying after a lost answer); later it is taken as stolen.
inline constexpr absl::Duration kRefreshReuseGrace = absl::Seconds(30);

// What identity stored of a presented refresh token.
struct RefreshTokenFacts {
  absl::Time expires_at;
  std::optional<absl::Time> rotated_at;  // when it was traded for its successor
  bool session_revoked = false;
  bool person_active = true;
};

enum class RefreshStep {
  kRefuse,  // unknown, expired, its session ended or its person not active: one answer for all,
            // so a caller learns nothing of which (UNAUTHENTICATED, sign in again)
  kRotate,  // its first use: trade it for its successor and extend the session
  kRepeat,  // traded within kRefreshReuseGrace: answer again with the same successor
  kTheft,   // traded earlier: someone else holds a copy; end the session
};

// `facts` is nullopt for a token identity never issued.
RefreshStep DecideRefresh(const std::optional<RefreshTokenFacts>& facts, absl::Time now);

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_SESSION_RULES_H_
