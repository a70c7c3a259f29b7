// Revocations: access tokens refused before they expire because identity says so (a signed-out
// session, a suspended person, a revoked role grant or API key). Identity publishes the list
// (IdentityService.ListRevocations); the Authorizer of every process consults a RevocationChecker
// after a token verifies, so a revocation takes effect within the checker's refresh interval.
//
//   RevocationSet set;
//   set.AddSession(RevocationDigest("s_abc"), revoked_at);
//   set.Revoked(principal);  // true for every token of session s_abc
//
// RevocationSet is immutable once built and safe to share; checkers are thread-safe.
#ifndef CIVICPOINTS_COMMON_AUTH_REVOCATIONS_H_
#define CIVICPOINTS_COMMON_AUTH_REVOCATIONS_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"

namespace civicpoints::auth {

// The digest under which identity lists a session or subject id: lowercase hex of the first 16
// bytes of SHA-256("civicpoints-revocation:" + id).
std::string RevocationDigest(absl::string_view id);

class RevocationSet {
 public:
  // Every token of the session (`sid`) is refused.
  void AddSession(std::string digest, absl::Time revoked_at);
  // Tokens of the subject (`sub`) issued at or before `revoked_at` are refused.
  void AddSubject(std::string digest, absl::Time revoked_at);

  // Whether the principal's token is refused.
  bool Revoked(const Principal& principal) const;
  size_t size() const { return sessions_.size() + subjects_.size(); }

 private:
  absl::flat_hash_map<std::string, absl::Time> sessions_;
  absl::flat_hash_map<std::string, absl::Time> subjects_;
};

class RevocationChecker {
 public:
  virtual ~RevocationChecker() = default;
  // Whether the (verified) principal's token has been revoked, as far as this process knows.
  virtual bool Revoked(const Principal& principal) const = 0;
};

}  // namespace civicpoints::auth

#endif  // CIVICPOINTS_COMMON_AUTH_REVOCATIONS_H_
