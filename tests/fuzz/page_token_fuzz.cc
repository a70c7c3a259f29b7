// Page tokens as every list method reads the page_token a client sends back, and the event feed's
// cursors as Subscribe and ListEvents read `after`. The first byte is the number of keys expected,
// the next string the filter tag, the rest the token. Properties: a token is refused with
// INVALID_ARGUMENT or yields exactly that many keys, and a token made from keys reads back to the
// same keys; the same bytes as a cursor are refused with INVALID_ARGUMENT or name a position that
// encodes back to the same cursor.
#include "absl/strings/escaping.h"
#include "common/pg/paging.h"
#include "services/events/cursor.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace civicpoints;
  fuzz::FuzzInput in(data, size);
  const size_t key_count = 1 + in.Byte() % 3;
  // Tags are hex (FilterTag: 16 characters of a SHA-256).
  const std::string tag = absl::BytesToHexString(in.String(8));
  const std::string token = in.Rest();
  const absl::StatusOr<std::vector<std::string>> keys = pg::DecodePageToken(token, tag, key_count);
  if (!keys.ok()) {
    FUZZ_CHECK(keys.status().code() == absl::StatusCode::kInvalidArgument);
  } else if (!token.empty()) {
    FUZZ_CHECK(keys->size() == key_count);
  }
  (void)pg::PageKeyInt(keys.ok() ? *keys : std::vector<std::string>{token});

  // Keys taken from the token's bytes, in a token and back.
  fuzz::FuzzInput again(reinterpret_cast<const uint8_t*>(token.data()), token.size());
  std::vector<std::string> made;
  // Keys as lists use them: a time and an id, well under the token's 512 characters.
  for (size_t i = 0; i < key_count; ++i) made.push_back(again.String(32));
  const absl::StatusOr<std::vector<std::string>> read =
      pg::DecodePageToken(pg::EncodePageToken(tag, made), tag, key_count);
  FUZZ_CHECK(read.ok());
  FUZZ_CHECK(*read == made);

  const absl::StatusOr<int64_t> position = events::DecodeCursor(token, "after");
  if (!position.ok()) {
    FUZZ_CHECK(position.status().code() == absl::StatusCode::kInvalidArgument);
  } else {
    FUZZ_CHECK(*position >= 0);
    // Leading zeros read the same position; its own spelling reads back to it.
    FUZZ_CHECK(events::DecodeCursor(events::EncodeCursor(*position), "after").value() == *position);
  }
  return 0;
}
