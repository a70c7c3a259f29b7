// The display labels, in every offered language, of the values of the enums riders and staff meet
// (categories, kinds, statuses, roles, error reasons, status codes), so that no app shows an enum's
// name. The catalogue is data (common/labels/catalogue/*.json, one file per package, built into
// the binary): {"<enum full name>": {"<value name>": {"zh-CN": "...", "en": "..."}}}. Immutable
// once built, so thread-safe.
#ifndef CIVICPOINTS_COMMON_LABELS_LABEL_CATALOGUE_H_
#define CIVICPOINTS_COMMON_LABELS_LABEL_CATALOGUE_H_

#include <array>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/labels/locale.h"

namespace google::protobuf {
class DescriptorPool;
class EnumDescriptor;
class EnumValueDescriptor;
}  // namespace google::protobuf

namespace civicpoints::labels {

class LabelCatalogue {
 public:
  // The catalogue built into the binary, parsed on first use against the generated descriptors.
  // (A catalogue that does not parse is a defect the tests catch; here it ends the process.)
  static const LabelCatalogue& Builtin();

  // A catalogue from (file name, JSON) documents, every enum and value name found in `pool`, every
  // value with a non-empty label in every offered locale and in no two documents. Errors:
  // INVALID_ARGUMENT naming the file and the entry.
  static absl::StatusOr<LabelCatalogue> Parse(
      const std::vector<std::pair<std::string, std::string>>& documents,
      const google::protobuf::DescriptorPool& pool);

  // The label of `value` in `locale`, or nullptr when the catalogue has none.
  const std::string* Label(const google::protobuf::EnumValueDescriptor& value, Locale locale) const;
  // The sentence for a refusal's google.rpc.ErrorInfo (its domain and reason), or nullptr when
  // the reason is not a labelled value of an error-reason enum.
  const std::string* ReasonLabel(absl::string_view domain, absl::string_view reason,
                                 Locale locale) const;
  // The general sentence for a status code (a google.rpc.Code value), or nullptr.
  const std::string* CodeLabel(int code, Locale locale) const;

  // Every enum with labels, by full name.
  const std::vector<const google::protobuf::EnumDescriptor*>& enums() const { return enums_; }
  // A fingerprint of every label in every locale (hex): equal versions, equal catalogues.
  const std::string& version() const { return version_; }

 private:
  using Texts = std::array<std::string, std::size(kLocales)>;

  absl::flat_hash_map<const google::protobuf::EnumValueDescriptor*, Texts> labels_;
  // "<domain> <reason>" → the error-reason value.
  absl::flat_hash_map<std::string, const google::protobuf::EnumValueDescriptor*> reasons_;
  const google::protobuf::EnumDescriptor* codes_ = nullptr;  // google.rpc.Code, when labelled
  std::vector<const google::protobuf::EnumDescriptor*> enums_;
  std::string version_;
};

// True for an enum of refusal reasons: declared in a service's errors.proto (its values travel as
// google.rpc.ErrorInfo.reason, docs/api-conventions.md).
bool IsErrorReasonEnum(const google::protobuf::EnumDescriptor& type);

// The enums a rider or staff member can meet, by full name: every enum of the files that declare
// the suite's services and of the files they import, however deep (so every field of every
// request and answer), each service package's errors.proto, and google.rpc.Code; not the method
// options' own (civicpoints.options) nor protobuf's.
std::vector<const google::protobuf::EnumDescriptor*> ShownEnums(
    const google::protobuf::DescriptorPool& pool);

}  // namespace civicpoints::labels

#endif  // CIVICPOINTS_COMMON_LABELS_LABEL_CATALOGUE_H_
