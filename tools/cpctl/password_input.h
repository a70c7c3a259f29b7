// Reading a password without putting it on the command line: from stdin (for scripts), from an
// environment variable, or typed at the terminal with echo off.
#ifndef CIVICPOINTS_TOOLS_CPCTL_PASSWORD_INPUT_H_
#define CIVICPOINTS_TOOLS_CPCTL_PASSWORD_INPUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace civicpoints::cpctl {

// The first line of stdin when `from_stdin`; else $`env_var` when set and non-empty; else typed
// at the terminal after `prompt` (echo off). INVALID_ARGUMENT when none of these can give one (no
// terminal) or the password is empty.
absl::StatusOr<std::string> ReadPassword(bool from_stdin, const char* env_var,
                                         absl::string_view prompt);

// The next line of stdin (without its line break); for a second secret read after the first.
absl::StatusOr<std::string> ReadStdinLine(absl::string_view what);

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_PASSWORD_INPUT_H_
