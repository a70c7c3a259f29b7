// Internal to the ledger's rules (ledger*.cc): the request checks, hashing, time conversions and
// org-scope columns that more than one area of Ledger uses. Not part of the ledger's interface;
// nothing here touches the database.
#ifndef CIVICPOINTS_SERVICES_LEDGER_LEDGER_SUPPORT_H_
#define CIVICPOINTS_SERVICES_LEDGER_LEDGER_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civicpoints/common/v1/types.pb.h"
#include "civicpoints/ledger/v1/entry.pb.h"
#include "common/base/request_hash.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

namespace civicpoints::ledger::support {

inline constexpr size_t kMaxIdLength = 64;
inline constexpr int kDefaultPageSize = 20;
inline constexpr int kMaxPageSize = 100;
inline constexpr int kMaxTopN = 1000;

absl::Status Invalid(absl::string_view what);

// Request checks; each error is INVALID_ARGUMENT naming the field.
absl::Status CheckId(const std::string& id, absl::string_view field);
absl::Status CheckAmount(int64_t amount, absl::string_view field = "amount");
absl::Status CheckReason(const std::string& reason, bool required);
absl::Status CheckFullPath(const common::v1::OrgPath& path, absl::string_view field);

// The ledger's fingerprint of a request leaves its idempotency key out (the stored hashes were
// made so).
inline std::string RequestHash(const google::protobuf::Message& request) {
  return civicpoints::RequestHash(request, "idempotency_key");
}

// An entry's journal sequence (its id); 0 for an entry without one.
int64_t SequenceOf(const v1::Entry& entry);
google::protobuf::Timestamp ToProto(absl::Time t);

// The columns of the journal's org path that name a node of a scope's level and its children.
struct NodeColumns {
  std::string column;        // "" for the city
  std::string child_column;  // "" for a community
  common::v1::OrgLevel child_level = common::v1::ORG_LEVEL_UNSPECIFIED;
};

// Errors: INVALID_ARGUMENT for a missing level, or a missing org id below the city.
absl::StatusOr<NodeColumns> ColumnsFor(const common::v1::OrgScope& scope);

}  // namespace civicpoints::ledger::support

#endif  // CIVICPOINTS_SERVICES_LEDGER_LEDGER_SUPPORT_H_
