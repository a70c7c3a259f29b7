#include "tools/cpctl/exit_codes.h"

namespace civicpoints::cpctl {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitAuth;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return kExitRefused;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
      return kExitUnavailable;
    default:
      return kExitOther;
  }
}

const char kExitCodeHelp[] =
    "Exit codes:\n"
    "  0  ok\n"
    "  1  other error\n"
    "  2  usage error (bad flags or arguments, bad file, INVALID_ARGUMENT from the server)\n"
    "  3  not authenticated or not permitted (run `cpctl login`)\n"
    "  4  not found\n"
    "  5  refused by the server: conflict or precondition (ALREADY_EXISTS, FAILED_PRECONDITION,\n"
    "     ABORTED)\n"
    "  6  unavailable, rate limited or deadline exceeded (try again)\n"
    "  7  an import finished with some bad rows (the good rows were imported)\n";

}  // namespace civicpoints::cpctl
