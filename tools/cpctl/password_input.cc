#include "tools/cpctl/password_input.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace civicpoints::cpctl {

absl::StatusOr<std::string> ReadStdinLine(absl::string_view what) {
  std::string line;
  if (!std::getline(std::cin, line)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": nothing on stdin"));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": empty line on stdin"));
  return line;
}

absl::StatusOr<std::string> ReadPassword(bool from_stdin, const char* env_var,
                                         absl::string_view prompt) {
  if (from_stdin) return ReadStdinLine(prompt);
  if (env_var != nullptr) {
    if (const char* v = std::getenv(env_var); v != nullptr && *v != '\0') return std::string(v);
  }
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(prompt, ": no terminal to ask on; pass --password-stdin or set ",
                     env_var != nullptr ? env_var : "the password on stdin"));
  }
  const std::string p = absl::StrCat(prompt, ": ");
  (void)!::write(fd, p.data(), p.size());
  struct termios old_mode;
  const bool have_mode = ::tcgetattr(fd, &old_mode) == 0;
  if (have_mode) {
    struct termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  if (have_mode) ::tcsetattr(fd, TCSAFLUSH, &old_mode);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return absl::InvalidArgumentError(absl::StrCat(prompt, ": empty"));
  return line;
}

}  // namespace civicpoints::cpctl
