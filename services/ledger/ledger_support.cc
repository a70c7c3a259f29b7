#include "services/ledger/ledger_support.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <sodium.h>

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "services/ledger/ledger.h"

namespace civicpoints::ledger::support {
namespace {

namespace gp = ::google::protobuf;

constexpr size_t kMaxKeyLength = 128;
constexpr size_t kMaxReasonChars = 500;

}  // namespace

absl::Status Invalid(absl::string_view what) { return absl::InvalidArgumentError(what); }

size_t Utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

absl::Status CheckKey(const std::string& key) {
  if (key.empty()) return Invalid("idempotency_key is required");
  if (key.size() > kMaxKeyLength) return Invalid("idempotency_key is longer than 128 characters");
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return Invalid("idempotency_key must be printable ASCII");
  }
  return absl::OkStatus();
}

absl::Status CheckId(const std::string& id, absl::string_view field) {
  if (id.empty()) return Invalid(absl::StrCat(field, " is required"));
  if (id.size() > kMaxIdLength)
    return Invalid(absl::StrCat(field, " is longer than 64 characters"));
  return absl::OkStatus();
}

absl::Status CheckAmount(int64_t amount, absl::string_view field) {
  if (amount < 1 || amount > kMaxAmount) {
    return Invalid(absl::StrCat(field, " must be 1-1000000 points, got ", amount));
  }
  return absl::OkStatus();
}

absl::Status CheckReason(const std::string& reason, bool required) {
  if (required && reason.empty()) return Invalid("reason is required");
  if (Utf8Length(reason) > kMaxReasonChars) return Invalid("reason is longer than 500 characters");
  return absl::OkStatus();
}

absl::Status CheckFullPath(const common::v1::OrgPath& path, absl::string_view field) {
  if (path.district_id().empty() || path.street_id().empty() || path.community_id().empty()) {
    return Invalid(absl::StrCat(field, " must name the district, street and community"));
  }
  if (path.district_id().size() > kMaxIdLength || path.street_id().size() > kMaxIdLength ||
      path.community_id().size() > kMaxIdLength) {
    return Invalid(absl::StrCat(field, " ids must be at most 64 characters"));
  }
  return absl::OkStatus();
}

std::string RequestHash(const gp::Message& request) {
  std::unique_ptr<gp::Message> copy(request.New());
  copy->CopyFrom(request);
  if (const gp::FieldDescriptor* f = copy->GetDescriptor()->FindFieldByName("idempotency_key")) {
    copy->GetReflection()->ClearField(copy.get(), f);
  }
  std::string bytes;
  {
    gp::io::StringOutputStream out(&bytes);
    gp::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&coded);
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

absl::Time ToTime(const gp::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

gp::Timestamp ToProto(absl::Time t) {
  gp::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(t);
  ts.set_seconds(micros / 1000000);
  ts.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return ts;
}

absl::StatusOr<NodeColumns> ColumnsFor(const common::v1::OrgScope& scope) {
  NodeColumns n;
  switch (scope.level()) {
    case common::v1::ORG_LEVEL_CITY:
      n = {"", "district_id", common::v1::ORG_LEVEL_DISTRICT};
      break;
    case common::v1::ORG_LEVEL_DISTRICT:
      n = {"district_id", "street_id", common::v1::ORG_LEVEL_STREET};
      break;
    case common::v1::ORG_LEVEL_STREET:
      n = {"street_id", "community_id", common::v1::ORG_LEVEL_COMMUNITY};
      break;
    case common::v1::ORG_LEVEL_COMMUNITY:
      n = {"community_id", "", common::v1::ORG_LEVEL_UNSPECIFIED};
      break;
    default:
      return Invalid("scope.level is required (city, district, street or community)");
  }
  if (!n.column.empty()) RETURN_IF_ERROR(CheckId(scope.org_id(), "scope.org_id"));
  return n;
}

int64_t SequenceOf(const v1::Entry& entry) {
  int64_t sequence = 0;
  return absl::SimpleAtoi(entry.entry_id(), &sequence) ? sequence : 0;
}

}  // namespace civicpoints::ledger::support
