// Exit codes of cpctl, the one table scripts rely on, and the mapping from a call's status.
//
//   return ExitCodeFor(status);   // 0 for OK, 3 for UNAUTHENTICATED, ...
#ifndef CIVICPOINTS_TOOLS_CPCTL_EXIT_CODES_H_
#define CIVICPOINTS_TOOLS_CPCTL_EXIT_CODES_H_

#include "absl/status/status.h"

namespace civicpoints::cpctl {

enum ExitCode : int {
  kExitOk = 0,
  kExitOther = 1,          // anything else (INTERNAL, UNKNOWN, a local I/O error)
  kExitUsage = 2,          // bad command line, bad input file shape, bad argument value
  kExitAuth = 3,           // not logged in, token refused, permission denied
  kExitNotFound = 4,       // the named thing does not exist
  kExitRefused = 5,        // conflict or precondition: the server refused the change
  kExitUnavailable = 6,    // the gateway or a service is down, or the deadline passed
  kExitImportPartial = 7,  // an import finished with some bad rows (good rows were imported)
};

// The exit code for a finished command: OK → 0; INVALID_ARGUMENT and OUT_OF_RANGE → 2;
// UNAUTHENTICATED, PERMISSION_DENIED → 3; NOT_FOUND → 4; ALREADY_EXISTS, FAILED_PRECONDITION,
// ABORTED → 5; UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED → 6; anything else → 1.
int ExitCodeFor(const absl::Status& status);

// The table above as text, for `cpctl --help`.
extern const char kExitCodeHelp[];

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_EXIT_CODES_H_
