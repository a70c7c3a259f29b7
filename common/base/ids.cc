#include "common/base/ids.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"

namespace civicpoints {

std::string NewId(absl::string_view prefix) {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
  static constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  std::string id = absl::StrCat(prefix, "_");
  for (unsigned char c : raw) id.push_back(kBase32[c % 32]);
  return id;
}

}  // namespace civicpoints
