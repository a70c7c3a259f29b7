// The fingerprint an idempotency record keeps of the request that made it, so a retry can be told
// from another request under the same key (docs/api-conventions.md, "Idempotency").
#ifndef CIVICPOINTS_COMMON_BASE_REQUEST_HASH_H_
#define CIVICPOINTS_COMMON_BASE_REQUEST_HASH_H_

#include <string>

#include "absl/strings/string_view.h"

namespace google::protobuf {
class Message;
}

namespace civicpoints {

// SHA-256 (32 raw bytes) of `request`'s deterministic serialisation, with the field named
// `omit_field` cleared first when given (the ledger leaves its idempotency_key out). Requests that
// carry secrets are hashed with a key instead (identity's Secrets::RequestHash).
std::string RequestHash(const google::protobuf::Message& request,
                        absl::string_view omit_field = {});

}  // namespace civicpoints

#endif  // CIVICPOINTS_COMMON_BASE_REQUEST_HASH_H_
