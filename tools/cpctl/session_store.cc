#include "tools/cpctl/session_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace civicpoints::cpctl {
namespace {

int64_t ToUnix(absl::Time t) { return t == absl::InfinitePast() ? 0 : absl::ToUnixSeconds(t); }
absl::Time FromUnix(int64_t s) { return s == 0 ? absl::InfinitePast() : absl::FromUnixSeconds(s); }

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

std::string SessionStore::DefaultPath() {
  if (const char* p = std::getenv("CPCTL_CONFIG"); p != nullptr && *p != '\0') return p;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x != '\0') {
    return absl::StrCat(x, "/civicpoints/cpctl.json");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : ".", "/.config/civicpoints/cpctl.json");
}

absl::StatusOr<std::optional<Session>> SessionStore::Load() const {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    return Errno(path_);
  }
  if ((st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        path_, " holds credentials but others may read it; run `chmod 600 ", path_, "`"));
  }
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, " is not a cpctl session file; remove it and log in again"));
  }
  Session s;
  s.addr = j.value("addr", "");
  s.person_id = j.value("person_id", "");
  s.access_token = j.value("access_token", "");
  s.access_expire_time = FromUnix(j.value("access_expire_unix", int64_t{0}));
  s.refresh_token = j.value("refresh_token", "");
  s.refresh_expire_time = FromUnix(j.value("refresh_expire_unix", int64_t{0}));
  s.password_change_required = j.value("password_change_required", false);
  return s;
}

absl::Status SessionStore::Save(const Session& s) const {
  const std::filesystem::path path(path_);
  std::error_code ec;
  if (path.has_parent_path() && !std::filesystem::exists(path.parent_path())) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
      return absl::InternalError(absl::StrCat(path.parent_path().string(), ": ", ec.message()));
    ::chmod(path.parent_path().c_str(), 0700);
  }
  nlohmann::json j = {
      {"addr", s.addr},
      {"person_id", s.person_id},
      {"access_token", s.access_token},
      {"access_expire_unix", ToUnix(s.access_expire_time)},
      {"refresh_token", s.refresh_token},
      {"refresh_expire_unix", ToUnix(s.refresh_expire_time)},
      {"password_change_required", s.password_change_required},
  };
  const std::string text = j.dump(2) + "\n";
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(tmp);
  ::fchmod(fd, 0600);  // the umask cannot widen it, but an older file kept its mode
  const ssize_t n = ::write(fd, text.data(), text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()) || !synced) return Errno(tmp);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return Errno(path_);
  return absl::OkStatus();
}

absl::Status SessionStore::Remove() const {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return Errno(path_);
  return absl::OkStatus();
}

}  // namespace civicpoints::cpctl
