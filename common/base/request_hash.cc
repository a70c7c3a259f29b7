#include "common/base/request_hash.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <sodium.h>

#include <memory>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace civicpoints {

std::string RequestHash(const google::protobuf::Message& request, absl::string_view omit_field) {
  const google::protobuf::Message* hashed = &request;
  std::unique_ptr<google::protobuf::Message> copy;
  if (!omit_field.empty()) {
    if (const auto* field = request.GetDescriptor()->FindFieldByName(std::string(omit_field))) {
      copy.reset(request.New());
      copy->CopyFrom(request);
      copy->GetReflection()->ClearField(copy.get(), field);
      hashed = copy.get();
    }
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    hashed->SerializeToCodedStream(&coded);
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

}  // namespace civicpoints
