#include "services/activity/attachments.h"

#include "absl/strings/str_cat.h"

namespace civicpoints::activity {

absl::Status CheckAttachment(const v1::Attachment& a, absl::string_view field) {
  if (a.ref().empty() || a.ref().size() > 512) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".ref: must be 1–512 characters"));
  }
  for (unsigned char c : a.ref()) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".ref: must be printable ASCII without spaces"));
    }
  }
  if (a.content_type().size() > 100) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".content_type: is over 100 characters"));
  }
  if (!a.sha256().empty() &&
      (a.sha256().size() != 64 ||
       a.sha256().find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".sha256: must be 64 lowercase hex digits"));
  }
  return absl::OkStatus();
}

absl::Status CheckAttachments(const google::protobuf::RepeatedPtrField<v1::Attachment>& list,
                              absl::string_view field) {
  if (list.size() > kMaxAttachments) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxAttachments, " (got ", list.size(), ")"));
  }
  for (int i = 0; i < list.size(); ++i) {
    if (absl::Status s = CheckAttachment(list[i], absl::StrCat(field, "[", i, "]")); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

std::string AttachmentBytes(const google::protobuf::RepeatedPtrField<v1::Attachment>& list) {
  v1::ServiceRecord holder;
  *holder.mutable_attachments() = list;
  return holder.SerializeAsString();
}

google::protobuf::RepeatedPtrField<v1::Attachment> AttachmentsFromBytes(const std::string& bytes) {
  v1::ServiceRecord holder;
  holder.ParseFromString(bytes);
  return std::move(*holder.mutable_attachments());
}

}  // namespace civicpoints::activity
