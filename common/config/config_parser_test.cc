#include "common/config/config_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace civicpoints::config {
namespace {

using ::testing::HasSubstr;

struct Settings {
  std::string pg_url;
  int grpc_port = 50053;
  int64_t pool_size = 8;
  absl::Duration grace = absl::Seconds(5);
  bool demo = true;
};

class ConfigParserTest : public ::testing::Test {
 protected:
  ConfigParserTest() : parser_("ledger", "test service") {
    parser_.AddSecret("pg_url", "PostgreSQL URI", &s_.pg_url, /*required=*/true);
    parser_.AddPort("grpc_port", "gRPC port", &s_.grpc_port);
    parser_.AddInt("pg_pool_size", "pool size", &s_.pool_size, 1, 64);
    parser_.AddDuration("shutdown_grace", "drain time", &s_.grace, absl::ZeroDuration(),
                        absl::Minutes(1));
    parser_.AddBool("demo", "load demo data", &s_.demo);
  }

  absl::Status Parse(std::vector<const char*> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), "ledger");
    return parser_.Parse(static_cast<int>(args.size()), args.data(), MapEnvironment(env));
  }

  Settings s_;
  ConfigParser parser_;
};

TEST_F(ConfigParserTest, DefaultsStandWhenNothingIsGiven) {
  ASSERT_TRUE(Parse({"--pg_url=postgresql:///x"}).ok());
  EXPECT_EQ(s_.grpc_port, 50053);
  EXPECT_EQ(s_.pool_size, 8);
  EXPECT_EQ(s_.grace, absl::Seconds(5));
  EXPECT_TRUE(s_.demo);
}

TEST_F(ConfigParserTest, EnvironmentOverridesDefaultsAndFlagsOverrideEnvironment) {
  ASSERT_TRUE(Parse({"--grpc-port", "7000"}, {{"CP_PG_URL", "postgresql:///env"},
                                              {"CP_GRPC_PORT", "6000"},
                                              {"CP_SHUTDOWN_GRACE", "250ms"},
                                              {"CP_DEMO", "false"}})
                  .ok());
  EXPECT_EQ(s_.pg_url, "postgresql:///env");
  EXPECT_EQ(s_.grpc_port, 7000);
  EXPECT_EQ(s_.grace, absl::Milliseconds(250));
  EXPECT_FALSE(s_.demo);
}

TEST_F(ConfigParserTest, MalformedIntegerNamesTheSettingAndItsSource) {
  absl::Status s = Parse({"--pg_url=x"}, {{"CP_GRPC_PORT", "fifty"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--grpc_port (CP_GRPC_PORT) from environment"));
  EXPECT_THAT(s.message(), HasSubstr("'fifty' is not a port number"));
}

TEST_F(ConfigParserTest, OutOfRangeValuesAreRefused) {
  EXPECT_THAT(Parse({"--pg_url=x", "--grpc_port=70000"}).message(),
              HasSubstr("outside the port range"));
  EXPECT_THAT(Parse({"--pg_url=x", "--pg_pool_size=0"}).message(), HasSubstr("outside 1..64"));
  EXPECT_THAT(Parse({"--pg_url=x", "--shutdown_grace=2h"}).message(), HasSubstr("outside"));
}

TEST_F(ConfigParserTest, MalformedDurationAndBoolAreRefused) {
  EXPECT_THAT(Parse({"--pg_url=x", "--shutdown_grace=soon"}).message(),
              HasSubstr("is not a duration"));
  EXPECT_THAT(Parse({"--pg_url=x", "--demo=maybe"}).message(), HasSubstr("is not a boolean"));
}

TEST_F(ConfigParserTest, BareBooleanFlagMeansTrueAndDoesNotEatTheNextArgument) {
  s_.demo = false;
  ASSERT_TRUE(Parse({"--demo", "--pg_url=x"}).ok());
  EXPECT_TRUE(s_.demo);
  EXPECT_EQ(s_.pg_url, "x");
}

TEST_F(ConfigParserTest, MissingRequiredSettingIsNamed) {
  absl::Status s = Parse({});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--pg_url (CP_PG_URL) is required"));
}

TEST_F(ConfigParserTest, UnknownFlagAndStrayArgumentAreRefused) {
  EXPECT_THAT(Parse({"--pg_url=x", "--grpc_prot=1"}).message(),
              HasSubstr("unknown flag --grpc_prot"));
  EXPECT_THAT(Parse({"--pg_url=x", "50053"}).message(), HasSubstr("unexpected argument '50053'"));
  EXPECT_THAT(Parse({"--pg_url"}).message(), HasSubstr("flag has no value"));
}

TEST_F(ConfigParserTest, HelpIsReportedAndUsageListsEverySetting) {
  ASSERT_TRUE(Parse({"--help"}).ok());
  EXPECT_TRUE(parser_.help_requested());
  const std::string usage = parser_.Usage();
  EXPECT_THAT(usage, HasSubstr("CP_PG_POOL_SIZE"));
  EXPECT_THAT(usage, HasSubstr("--shutdown_grace"));
}

TEST_F(ConfigParserTest, SecretsAreMaskedInTheEffectiveSettings) {
  ASSERT_TRUE(Parse({"--pg_url=postgresql://u:pw@h/db"}).ok());
  for (const auto& [name, value] : parser_.Effective()) {
    if (name == "pg_url") {
      EXPECT_EQ(value, "****");
    }
  }
}

TEST_F(ConfigParserTest, MisspeltVariablesAreNamedWithTheSettingTheyWereMeantFor) {
  const auto unknown = parser_.UnknownVariables(
      {"CP_PG_POOLSIZE", "CP_PG_POOL_SIZE", "CP_SUITE_GATEWAY_ADDR", "HOME", "CP_SHUTDOWN_GARCE"});
  ASSERT_EQ(unknown.size(), 3u);
  EXPECT_EQ(unknown[0], (std::pair<std::string, std::string>{"CP_PG_POOLSIZE", "CP_PG_POOL_SIZE"}));
  EXPECT_EQ(unknown[1].first, "CP_SUITE_GATEWAY_ADDR");
  EXPECT_EQ(unknown[1].second, "");  // another program's variable, not a slip
  EXPECT_EQ(unknown[2].second, "CP_SHUTDOWN_GRACE");
}

}  // namespace
}  // namespace civicpoints::config
