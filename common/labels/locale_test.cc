#include "common/labels/locale.h"

#include <gtest/gtest.h>

namespace civicpoints::labels {
namespace {

TEST(ParseLocaleTest, TakesAnyTagOfAnOfferedLanguage) {
  EXPECT_EQ(ParseLocale("zh-CN"), Locale::kZhCn);
  EXPECT_EQ(ParseLocale("zh"), Locale::kZhCn);
  EXPECT_EQ(ParseLocale("ZH-hans-cn"), Locale::kZhCn);
  EXPECT_EQ(ParseLocale("zh-TW"), Locale::kZhCn);
  EXPECT_EQ(ParseLocale("en"), Locale::kEn);
  EXPECT_EQ(ParseLocale(" en-GB "), Locale::kEn);
}

TEST(ParseLocaleTest, RefusesOtherLanguagesAndMalformedTags) {
  EXPECT_EQ(ParseLocale(""), std::nullopt);
  EXPECT_EQ(ParseLocale("fr"), std::nullopt);
  EXPECT_EQ(ParseLocale("eng"), std::nullopt);  // another primary language, not "en"
  EXPECT_EQ(ParseLocale("zh_CN"), std::nullopt);
  EXPECT_EQ(ParseLocale("zh--CN"), std::nullopt);
  EXPECT_EQ(ParseLocale("en-"), std::nullopt);
  EXPECT_EQ(ParseLocale("en-abcdefghi"), std::nullopt);
  EXPECT_EQ(ParseLocale("中文"), std::nullopt);
}

TEST(NegotiateLocaleTest, PicksTheHeaviestOfferedTagAndTheEarlierOnATie) {
  EXPECT_EQ(NegotiateLocale("en-US,en;q=0.9"), Locale::kEn);
  EXPECT_EQ(NegotiateLocale("zh-CN,zh;q=0.9,en;q=0.8"), Locale::kZhCn);
  EXPECT_EQ(NegotiateLocale("fr-FR, en;q=0.5, zh;q=0.4"), Locale::kEn);
  EXPECT_EQ(NegotiateLocale("zh;q=0.3, en;q=0.7"), Locale::kEn);
  EXPECT_EQ(NegotiateLocale("en, zh"), Locale::kEn);
  EXPECT_EQ(NegotiateLocale("en;Q=0.2,zh-Hans;q=0.2"), Locale::kEn);
}

TEST(NegotiateLocaleTest, FallsBackToChineseWhenNothingOfferedIsAsked) {
  EXPECT_EQ(NegotiateLocale(""), Locale::kZhCn);
  EXPECT_EQ(NegotiateLocale("fr, de;q=0.5"), Locale::kZhCn);
  EXPECT_EQ(NegotiateLocale("*"), Locale::kZhCn);
  EXPECT_EQ(NegotiateLocale("en;q=0"), Locale::kZhCn);  // q=0: "not this one"
  EXPECT_EQ(NegotiateLocale("en;q=2"), Locale::kZhCn);  // a weight out of range counts for nothing
  EXPECT_EQ(NegotiateLocale("en;q=abc, fr"), Locale::kZhCn);
  EXPECT_EQ(NegotiateLocale(",,;;"), Locale::kZhCn);
}

TEST(LocaleTagTest, NamesEachOfferedLocale) {
  EXPECT_EQ(LocaleTag(Locale::kZhCn), "zh-CN");
  EXPECT_EQ(LocaleTag(Locale::kEn), "en");
  for (Locale locale : kLocales) EXPECT_EQ(ParseLocale(LocaleTag(locale)), locale);
}

}  // namespace
}  // namespace civicpoints::labels
