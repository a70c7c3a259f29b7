#include "services/identity/ranking_name.h"

#include <gtest/gtest.h>

namespace civicpoints::identity {
namespace {

TEST(RankingNameTest, MasksAllButTheFirstAndLastCharacters) {
  EXPECT_EQ(MaskedName("王建军"), "王*军");
  EXPECT_EQ(MaskedName("欧阳娜娜"), "欧**娜");
  EXPECT_EQ(MaskedName("李四"), "李*");
  EXPECT_EQ(MaskedName("王"), "王*");
  EXPECT_EQ(MaskedName("Li Lei"), "L****i");
  EXPECT_EQ(MaskedName(""), "");
}

TEST(RankingNameTest, FollowsTheRidersChoice) {
  RankingNameParts parts{.display_name = "王建军", .nickname = "飞毛腿", .rider_number = 12};
  EXPECT_EQ(RankingNameOf(parts), "王*军");
  parts.choice = v1::RANKING_NAME_CHOICE_NICKNAME;
  EXPECT_EQ(RankingNameOf(parts), "飞毛腿");
  parts.choice = v1::RANKING_NAME_CHOICE_ANONYMOUS;
  EXPECT_EQ(RankingNameOf(parts), "小哥 #0012");
  parts.choice = v1::RANKING_NAME_CHOICE_UNSPECIFIED;
  EXPECT_EQ(RankingNameOf(parts), "王*军");
  // A nickname choice left without a nickname, and a closed account, show no name at all.
  parts.choice = v1::RANKING_NAME_CHOICE_NICKNAME;
  parts.nickname.clear();
  EXPECT_EQ(RankingNameOf(parts), "小哥 #0012");
  parts.choice = v1::RANKING_NAME_CHOICE_MASKED_NAME;
  parts.status = v1::PERSON_STATUS_CLOSED;
  EXPECT_EQ(RankingNameOf(parts), "小哥 #0012");
  EXPECT_EQ(AnonymousName(123456), "小哥 #123456");
}

TEST(RankingNameTest, NicknamesHoldLettersDigitsAndAFewMarks) {
  for (const char* ok :
       {"飞毛腿", "Rider 9", "小王_2", "A·B", "ab", "骑手-北.站", "十二个字的昵称也可以吧"}) {
    EXPECT_TRUE(CheckNickname(ok).ok()) << ok;
  }
  const auto refused = [](const char* nickname) {
    const absl::Status s = CheckNickname(nickname);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << nickname;
    EXPECT_EQ(std::string(s.message()).rfind("nickname: ", 0), 0u) << s.message();
    return std::string(s.message());
  };
  EXPECT_EQ(refused(""), "nickname: is required");
  EXPECT_NE(refused("   ").find("spaces"), std::string::npos);
  EXPECT_NE(refused(" ab").find("spaces"), std::string::npos);
  EXPECT_NE(refused("a  b").find("spaces"), std::string::npos);
  EXPECT_NE(refused("ab\x01").find("control"), std::string::npos);
  EXPECT_NE(refused("小哥 #0012").find("only Chinese"), std::string::npos);
  EXPECT_NE(refused("ab😀").find("only Chinese"), std::string::npos);
  EXPECT_NE(refused("a").find("2-12 characters, not 1"), std::string::npos);
  EXPECT_NE(refused("一二三四五六七八九十一二三").find("not 13"), std::string::npos);
  EXPECT_NE(refused("__").find("must hold a letter"), std::string::npos);
  EXPECT_NE(refused("\xE7\x8E").find("UTF-8"), std::string::npos);
}

}  // namespace
}  // namespace civicpoints::identity
