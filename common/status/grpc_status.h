// Conversion between absl::Status (domain and store code) and grpc::Status (the wire).
//
// Both use the google.rpc code numbers, so codes cross unchanged; the message is kept and status
// payloads are dropped. Call ToGrpcStatus once, in a service's *_grpc_service.cc adapter:
//
//   grpc::Status LedgerGrpcService::Award(...) {
//     return civicpoints::ToGrpcStatus(ledger_->Award(...));
//   }
#ifndef CIVICPOINTS_COMMON_STATUS_GRPC_STATUS_H_
#define CIVICPOINTS_COMMON_STATUS_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace civicpoints {

// Returns the grpc::Status with the same code and message as `status`.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Returns the absl::Status with the same code and message as `status`. An unknown numeric code
// (a peer speaking a newer protocol) becomes UNKNOWN.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace civicpoints

#endif  // CIVICPOINTS_COMMON_STATUS_GRPC_STATUS_H_
