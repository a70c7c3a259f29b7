// A JWKS document as the gateway and the services read identity's published keys (and a
// development key file). Property: a document accepted is written back by ToJwks as one that
// reads to the same keys.
#include "common/auth/jwt.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using civicpoints::auth::KeySet;
  const absl::StatusOr<KeySet> keys =
      KeySet::FromJwks(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!keys.ok()) {
    FUZZ_CHECK(keys.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  const std::string written = keys->ToJwks();
  const absl::StatusOr<KeySet> again = KeySet::FromJwks(written);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->ToJwks() == written);
  return 0;
}
