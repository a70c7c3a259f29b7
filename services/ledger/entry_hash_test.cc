#include "services/ledger/entry_hash.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "absl/strings/escaping.h"

namespace civicpoints::ledger {
namespace {

v1::Entry Sample() {
  v1::Entry e;
  e.set_person_id("rider-1");
  e.set_account_sequence(3);
  e.set_kind(v1::ENTRY_KIND_AWARD);
  e.set_amount(5);
  e.set_available_delta(5);
  e.set_earned_delta(5);
  e.set_available_after(12);
  e.set_source_kind(v1::SOURCE_KIND_ACTIVITY_ATTENDANCE);
  e.set_source_id("act-9");
  e.set_points_rule_id("rule_1");
  e.set_verified_by_person_id("staff_1");
  e.mutable_org_path()->set_district_id("d_pingcheng");
  e.mutable_org_path()->set_street_id("s_qingyuan");
  e.mutable_org_path()->set_community_id("c_west");
  e.set_reason("环境整治 🚲");
  e.set_actor_id("svc:activity");
  e.mutable_occur_time()->set_seconds(1765000000);
  e.mutable_occur_time()->set_nanos(123456000);
  e.mutable_create_time()->set_seconds(1765000001);
  e.mutable_create_time()->set_nanos(654321000);
  e.set_prev_hash(std::string(32, '\0'));
  e.set_sequence(77);  // not hashed
  return e;
}

TEST(EntryHashTest, HashesTheFieldsAsTheDatabaseSpellsThem) {
  ASSERT_GE(sodium_init(), 0);
  // SHA-256 of 32 zero bytes and "7:rider-11:31:11:5...": each field's length in characters (the
  // reason's seven, not its bytes), a colon and its text; computed apart from this code.
  EXPECT_EQ(absl::BytesToHexString(EntryHash(Sample())),
            "7717ff24a3c6f6e23a5419a9e6e880d95b24e5ea22ba77bbbe3ec357fd7ddb7a");
}

TEST(EntryHashTest, EveryHashedFieldAndThePreviousHashChangeIt) {
  ASSERT_GE(sodium_init(), 0);
  const std::string base = EntryHash(Sample());
  v1::Entry other = Sample();
  other.set_sequence(78);
  EXPECT_EQ(EntryHash(other), base) << "the ledger-wide sequence is not part of the hash";
  other = Sample();
  other.mutable_occur_time()->set_nanos(123457000);
  EXPECT_NE(EntryHash(other), base);
  other = Sample();
  other.set_prev_hash(std::string(31, '\0') + "\x01");
  EXPECT_NE(EntryHash(other), base);
  other = Sample();
  other.set_reason("环境整治🚲 ");  // same characters, moved
  EXPECT_NE(EntryHash(other), base);
}

}  // namespace
}  // namespace civicpoints::ledger
