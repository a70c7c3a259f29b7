#include "common/base/text.h"

#include <gtest/gtest.h>

namespace civicpoints::text {
namespace {

TEST(TextTest, CountsCodePointsAndRefusesInvalidUtf8) {
  EXPECT_EQ(Utf8Length("清远西街社区"), 6u);
  EXPECT_EQ(Utf8Length("a😀"), 2u);
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("\xff\xfe"), std::nullopt);
  EXPECT_EQ(Utf8Length("\xe6\xb8"), std::nullopt);      // truncated
  EXPECT_EQ(Utf8Length("\xc0\xaf"), std::nullopt);      // overlong '/'
  EXPECT_EQ(Utf8Length("\xed\xa0\x80"), std::nullopt);  // a surrogate
  EXPECT_EQ(CountChars("清远 road"), 7u);
}

TEST(TextTest, ChecksLengthRequirednessAndControlCharacters) {
  const TextRule name{.max = 6, .required = true};
  EXPECT_TRUE(CheckText("清远西街社区", "name", name).ok());
  absl::Status long_name = CheckText("清远西街社区站", "name", name);
  EXPECT_EQ(long_name.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(long_name.message(), "name: is longer than 6 characters (7)");
  EXPECT_EQ(CheckText("", "name", name).message(), "name: is required");
  EXPECT_TRUE(CheckText("", "name", {.max = 6}).ok());
  EXPECT_EQ(CheckText("\xff", "name", name).message(), "name: is not valid UTF-8");
  EXPECT_FALSE(CheckText("a\nb", "name", name).ok());
  EXPECT_FALSE(CheckText("a\x7f", "name", name).ok());
  EXPECT_FALSE(CheckText("a\xc2\x85", "name", name).ok());  // C1 next line
  const TextRule note{.max = 10, .lines = Lines::kMany};
  EXPECT_TRUE(CheckText("a\r\nb\tc", "note", note).ok());
  EXPECT_FALSE(CheckText("a\x01", "note", note).ok());
}

TEST(TextTest, IdempotencyKeysArePrintableAsciiUpTo128Characters) {
  EXPECT_TRUE(CheckIdempotencyKey("4f9c-aa").ok());
  EXPECT_TRUE(CheckIdempotencyKey(std::string(128, 'k')).ok());
  EXPECT_EQ(CheckIdempotencyKey("").message(), "idempotency_key: is required");
  EXPECT_FALSE(CheckIdempotencyKey("has space").ok());
  EXPECT_FALSE(CheckIdempotencyKey("键").ok());
  EXPECT_FALSE(CheckIdempotencyKey(std::string(129, 'k')).ok());
}

TEST(TextTest, DecodesAndSplitsCharacters) {
  EXPECT_EQ(DecodeUtf8("王a"), std::u32string({U'王', U'a'}));
  EXPECT_EQ(DecodeUtf8("\xE7\x8E"), std::nullopt);
  const std::vector<absl::string_view> chars = SplitChars("王建a");
  ASSERT_EQ(chars.size(), 3u);
  EXPECT_EQ(chars[0], "王");
  EXPECT_EQ(chars[1], "建");
  EXPECT_EQ(chars[2], "a");
  EXPECT_TRUE(SplitChars("").empty());
}

}  // namespace
}  // namespace civicpoints::text
