// Statistical division codes, pure: the form of each level's code and the prefix a child's code
// shares with its parent's.
#include "services/identity/division_code.h"

#include <gtest/gtest.h>

namespace civicpoints::identity {
namespace {

using common::v1::ORG_LEVEL_CITY;
using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

TEST(DivisionCodeTest, EachLevelHasItsOwnDigitsAndZerosBelow) {
  EXPECT_TRUE(CheckDivisionCode("", ORG_LEVEL_STREET, "division_code").ok()) << "none is fine";
  EXPECT_TRUE(CheckDivisionCode("140200000000", ORG_LEVEL_CITY, "division_code").ok());
  EXPECT_TRUE(CheckDivisionCode("140213000000", ORG_LEVEL_DISTRICT, "division_code").ok());
  EXPECT_TRUE(CheckDivisionCode("140213001000", ORG_LEVEL_STREET, "division_code").ok());
  EXPECT_TRUE(CheckDivisionCode("140213001001", ORG_LEVEL_COMMUNITY, "division_code").ok());
  EXPECT_TRUE(CheckDivisionCode("140213100200", ORG_LEVEL_COMMUNITY, "division_code").ok());

  // A street's code given for a district: digits below the district are not zeros.
  absl::Status s = CheckDivisionCode("140213001000", ORG_LEVEL_DISTRICT, "division_code");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "division_code: 140213001000 is not a district's code: its own digits are 5–6, the "
            "rest zeros (e.g. 140213000000)");
  // A district's code given for a street: the street's own digits are zeros.
  s = CheckDivisionCode("140213000000", ORG_LEVEL_STREET, "division_code");
  EXPECT_EQ(s.message(),
            "division_code: 140213000000 is not a street's code: its own digits are 7–9, the "
            "rest zeros (e.g. 140213001000)");
  s = CheckDivisionCode("140213001000", ORG_LEVEL_COMMUNITY, "node.division_code");
  EXPECT_EQ(s.message(),
            "node.division_code: 140213001000 is not a community's code: its own digits are "
            "10–12 (e.g. 140213001001)");
  EXPECT_FALSE(CheckDivisionCode("000000000000", ORG_LEVEL_CITY, "division_code").ok());

  for (const char* bad : {"14021300100", "1402130010001", "14021300100a", "１40213001000",
                          " 40213001000", "140213-01000"}) {
    s = CheckDivisionCode(bad, ORG_LEVEL_STREET, "division_code");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.message(),
              "division_code: must be the 12 digits of a statistical division code (e.g. "
              "140213001000)")
        << bad;
  }
}

TEST(DivisionCodeTest, AChildsCodeStartsWithItsParentsOwnDigits) {
  EXPECT_TRUE(
      CheckDivisionCodeUnder("140213001000", "140213000000", ORG_LEVEL_DISTRICT, "dc").ok());
  EXPECT_TRUE(CheckDivisionCodeUnder("140213001001", "140213001000", ORG_LEVEL_STREET, "dc").ok());
  EXPECT_TRUE(CheckDivisionCodeUnder("140214000000", "140200000000", ORG_LEVEL_CITY, "dc").ok());
  EXPECT_TRUE(CheckDivisionCodeUnder("", "140213000000", ORG_LEVEL_DISTRICT, "dc").ok());
  EXPECT_TRUE(CheckDivisionCodeUnder("140213001000", "", ORG_LEVEL_DISTRICT, "dc").ok());

  absl::Status s =
      CheckDivisionCodeUnder("140214001000", "140213000000", ORG_LEVEL_DISTRICT, "division_code");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "division_code: 140214001000 is not under 140213000000, the code above it (a code "
            "under it starts with 140213)");
  EXPECT_FALSE(CheckDivisionCodeUnder("140213002001", "140213001000", ORG_LEVEL_STREET, "dc").ok());
}

}  // namespace
}  // namespace civicpoints::identity
