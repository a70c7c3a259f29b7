// Checks of the photo and video references riders and staff attach (service records, appeals,
// problem cases' progress and after-photos): the suite stores only the reference to an object
// uploaded beforehand.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_ATTACHMENTS_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_ATTACHMENTS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "civicpoints/activity/v1/service_record.pb.h"

namespace civicpoints::activity {

inline constexpr int kMaxAttachments = 9;

// INVALID_ARGUMENT naming `field` unless the ref is 1–512 printable ASCII characters without
// spaces, the content type at most 100 characters and the SHA-256, if any, 64 lowercase hex digits.
absl::Status CheckAttachment(const v1::Attachment& attachment, absl::string_view field);
// The same for each of at most kMaxAttachments, named `field[i]`.
absl::Status CheckAttachments(const google::protobuf::RepeatedPtrField<v1::Attachment>& list,
                              absl::string_view field);

// How a list of attachments is stored in a bytea column: a ServiceRecord holding only them
// (the service records' encoding, which every table with attachments shares).
std::string AttachmentBytes(const google::protobuf::RepeatedPtrField<v1::Attachment>& list);
google::protobuf::RepeatedPtrField<v1::Attachment> AttachmentsFromBytes(const std::string& bytes);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_ATTACHMENTS_H_
