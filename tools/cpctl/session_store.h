// The signed-in session cpctl keeps between runs: the gateway it was opened against, the tokens and
// when they expire, in one JSON file readable only by its owner (mode 0600, directory 0700).
//
//   SessionStore store(SessionStore::DefaultPath());
//   absl::StatusOr<std::optional<Session>> s = store.Load();
//   store.Save(session);  store.Remove();
#ifndef CIVICPOINTS_TOOLS_CPCTL_SESSION_STORE_H_
#define CIVICPOINTS_TOOLS_CPCTL_SESSION_STORE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace civicpoints::cpctl {

struct Session {
  std::string addr;  // gateway the tokens came from
  std::string person_id;
  std::string access_token;
  absl::Time access_expire_time = absl::InfinitePast();
  std::string refresh_token;
  absl::Time refresh_expire_time = absl::InfinitePast();
  bool password_change_required = false;
};

class SessionStore {
 public:
  explicit SessionStore(std::string path) : path_(std::move(path)) {}

  // $CPCTL_CONFIG, else $XDG_CONFIG_HOME/civicpoints/cpctl.json, else
  // $HOME/.config/civicpoints/cpctl.json.
  static std::string DefaultPath();

  const std::string& path() const { return path_; }

  // The stored session; nullopt when there is none. INVALID_ARGUMENT when the file does not parse;
  // PERMISSION_DENIED when others may read it (it holds credentials).
  absl::StatusOr<std::optional<Session>> Load() const;
  // Writes the session atomically with mode 0600, creating the directory with mode 0700.
  absl::Status Save(const Session& session) const;
  // Deletes the file; OK when there is none.
  absl::Status Remove() const;

 private:
  std::string path_;
};

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_SESSION_STORE_H_
