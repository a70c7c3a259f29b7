// Conversion between absl::Status (domain and store code) and grpc::Status (the wire).
//
// Both use the google.rpc code numbers, so codes cross unchanged, with the message. Payloads whose
// type URL names a google.rpc detail (see WithRetryDelay, WithErrorReason) travel as the details
// of a google.rpc.Status in the grpc-status-details-bin trailer, where client libraries look for
// them; other payloads are dropped. Call ToGrpcStatus once, in a service's gRPC adapter:
//
//   grpc::Status LedgerGrpcService::Award(...) {
//     return civicpoints::ToGrpcStatus(ledger_->Award(...));
//   }
#ifndef CIVICPOINTS_COMMON_STATUS_GRPC_STATUS_H_
#define CIVICPOINTS_COMMON_STATUS_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace civicpoints {

// Returns the grpc::Status with the same code, message and google.rpc details as `status`.
grpc::Status ToGrpcStatus(const absl::Status& status);

// `status` with a google.rpc.RetryInfo detail: wait `delay` before trying again.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);
// The RetryInfo delay of `status`, if it carries one.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);
// ErrorInfo metadata: the figures behind a refusal ("available_balance" → "42").
using ErrorMetadata = std::vector<std::pair<std::string, std::string>>;
// `status` with a google.rpc.ErrorInfo detail naming a stable reason in `domain` (replacing any it
// had). Services name reasons from their enums through Refuse (refusal.h).
absl::Status WithErrorReason(absl::Status status, absl::string_view reason,
                             absl::string_view domain, const ErrorMetadata& metadata = {});
// The ErrorInfo reason `status` carries, or "" when none.
std::string ErrorReasonOf(const absl::Status& status);
// The ErrorInfo metadata value under `key` that `status` carries, or "" when none.
std::string ErrorFigureOf(const absl::Status& status, absl::string_view key);

// Returns the absl::Status with the same code, message and google.rpc details as `status`. An
// unknown numeric code (a peer speaking a newer protocol) becomes UNKNOWN.
absl::Status FromGrpcStatus(const grpc::Status& status);

// "NOT_FOUND" for grpc::StatusCode::NOT_FOUND ("UNKNOWN" for a number gRPC does not define), for
// logs, metrics labels and JSON error bodies.
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace civicpoints

#endif  // CIVICPOINTS_COMMON_STATUS_GRPC_STATUS_H_
