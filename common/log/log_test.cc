#include "common/log/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace civicpoints::log {
namespace {

TEST(LogTest, LineIsOneJsonObjectWithServiceLevelMessageAndFields) {
  Init("ledger", Level::kInfo);
  const std::string line = FormatLine(Level::kWarn, "award refused",
                                      {{"person_id", "p_1"}, {"points", 5}, {"ok", false}});
  auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["service"], "ledger");
  EXPECT_EQ(json["level"], "warn");
  EXPECT_EQ(json["msg"], "award refused");
  EXPECT_EQ(json["person_id"], "p_1");
  EXPECT_EQ(json["points"], 5);
  EXPECT_EQ(json["ok"], false);
  EXPECT_FALSE(json.contains("request_id"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogTest, RequestIdFollowsTheScopeOnThisThread) {
  {
    ScopedRequestId outer("r-outer");
    EXPECT_EQ(nlohmann::json::parse(FormatLine(Level::kInfo, "x", {}))["request_id"], "r-outer");
    {
      ScopedRequestId inner("r-inner");
      EXPECT_EQ(CurrentRequestId(), "r-inner");
    }
    EXPECT_EQ(CurrentRequestId(), "r-outer");
  }
  EXPECT_EQ(CurrentRequestId(), "");
}

TEST(LogTest, ChineseTextRoundTripsAndInvalidUtf8DoesNotThrow) {
  auto json =
      nlohmann::json::parse(FormatLine(Level::kInfo, "报到", {{"community", "清远西街社区"}}));
  EXPECT_EQ(json["msg"], "报到");
  EXPECT_EQ(json["community"], "清远西街社区");
  EXPECT_NO_THROW(FormatLine(Level::kInfo, "bad \xff bytes", {}));
}

TEST(LogTest, ParsesLevelsAndRefusesOthers) {
  Level level;
  EXPECT_TRUE(ParseLevel("debug", &level));
  EXPECT_EQ(level, Level::kDebug);
  EXPECT_FALSE(ParseLevel("verbose", &level));
}

TEST(LogTest, NewRequestIdsAreDistinctHex) {
  const std::string a = NewRequestId();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_NE(a, NewRequestId());
}

}  // namespace
}  // namespace civicpoints::log
