#include "common/pg/paging.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <sodium.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace civicpoints::pg {
namespace {

std::string Base64Url(const std::string& bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

bool FromBase64Url(const std::string& text, std::string* bytes) {
  bytes->assign(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes->data()), bytes->size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return false;
  }
  bytes->resize(len);
  return true;
}

}  // namespace

absl::StatusOr<int> PageSize(int32_t requested, int max) {
  if (requested < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  if (requested == 0) return std::min(20, max);
  return std::min<int>(requested, max);
}

int64_t PageKeyInt(const std::vector<std::string>& keys) {
  int64_t value = 0;
  if (keys.empty() || !absl::SimpleAtoi(keys[0], &value)) return 0;
  return value;
}

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

std::string FilterTag(const google::protobuf::Message& request_without_paging) {
  const std::string bytes = DeterministicBytes(request_without_paging);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return absl::BytesToHexString(
             absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest))
      .substr(0, 16);
}

std::string EncodePageToken(const std::string& filter_tag, const std::vector<std::string>& keys) {
  std::vector<std::string> parts = {"v1", filter_tag};
  for (const std::string& k : keys) parts.push_back(absl::BytesToHexString(k));
  return Base64Url(absl::StrJoin(parts, "|"));
}

absl::StatusOr<std::vector<std::string>> DecodePageToken(const std::string& token,
                                                         const std::string& filter_tag,
                                                         size_t key_count) {
  if (token.empty()) return std::vector<std::string>{};
  const absl::Status bad =
      absl::InvalidArgumentError("page_token: is not a token from a previous page of this list");
  std::string raw;
  if (token.size() > 512 || !FromBase64Url(token, &raw)) return bad;
  std::vector<std::string> parts = absl::StrSplit(raw, '|');
  if (parts.size() != key_count + 2 || parts[0] != "v1") return bad;
  if (parts[1] != filter_tag) {
    return absl::InvalidArgumentError(
        "page_token: was made for a list with other filters; keep the filters while paging");
  }
  std::vector<std::string> keys;
  for (size_t i = 2; i < parts.size(); ++i) {
    if (parts[i].size() % 2 != 0 ||
        parts[i].find_first_not_of("0123456789abcdef") != std::string::npos) {
      return bad;
    }
    keys.push_back(absl::HexStringToBytes(parts[i]));
  }
  return keys;
}

std::string FillPage(const pqxx::result& rows, const Paging& paging,
                     const std::function<void(const pqxx::row&)>& fill,
                     const std::function<std::vector<std::string>(const pqxx::row&)>& last_keys) {
  const int n = std::min(static_cast<int>(rows.size()), paging.size);
  for (int i = 0; i < n; ++i) fill(rows[i]);
  if (static_cast<int>(rows.size()) <= paging.size) return "";
  return EncodePageToken(paging.tag, last_keys(rows[paging.size - 1]));
}

std::string FillPage(const pqxx::result& rows, const Paging& paging, int time_col,
                     const std::function<void(const pqxx::row&)>& fill) {
  return FillPage(rows, paging, fill, [time_col](const pqxx::row& last) {
    return std::vector<std::string>{std::to_string(last[time_col].as<int64_t>()),
                                    last[0].as<std::string>()};
  });
}

}  // namespace civicpoints::pg
