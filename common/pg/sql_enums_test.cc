// Proto enum values by name in SQL, against a real PostgreSQL.
#include "common/pg/sql_enums.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "common/pg/migrations.h"
#include "common/testing/test_env.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/struct.pb.h"

namespace civicpoints::pg {
namespace {

using ::testing::HasSubstr;
using FieldType = google::protobuf::FieldDescriptorProto_Type;

const SqlEnums kEnums = {google::protobuf::FieldDescriptorProto_Type_descriptor(),
                         google::protobuf::NullValue_descriptor()};

TEST(SqlEnumsTest, NamesDropThePrefixEveryValueShares) {
  const auto* type = google::protobuf::FieldDescriptorProto_Type_descriptor();
  EXPECT_EQ(SqlEnumFunctionName(*type), "type");
  EXPECT_EQ(SqlEnumValueName(
                *type->FindValueByNumber(google::protobuf::FieldDescriptorProto::TYPE_INT64)),
            "INT64");
  // NullValue's one value is NULL_VALUE: no shared prefix to drop.
  const auto* null = google::protobuf::NullValue_descriptor();
  EXPECT_EQ(SqlEnumFunctionName(*null), "null_value");
  EXPECT_EQ(SqlEnumValueName(*null->value(0)), "NULL_VALUE");
}

class SqlEnumsDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ApplyMigrations(c_, "enums",
                                *MigrationsFromFiles({{"0001_rows.sql",
                                                       "CREATE TABLE rows (id int, type smallint "
                                                       "CHECK (type_defined(type)), code text);"
                                                       "CREATE UNIQUE INDEX rows_code ON rows "
                                                       "(code) WHERE type = type('STRING');"}}),
                                kEnums)
                    .ok());
  }
  std::string One(const std::string& sql) {
    pqxx::work tx(c_);
    tx.exec("SET LOCAL search_path TO enums");
    return tx.exec1(sql)[0].c_str();
  }
  testing::ScratchDatabase db_;
  pqxx::connection c_{db_.url()};
};

TEST_F(SqlEnumsDbTest, EveryValueMapsBothWays) {
  const auto* type = google::protobuf::FieldDescriptorProto_Type_descriptor();
  for (int i = 0; i < type->value_count(); ++i) {
    const auto* v = type->value(i);
    EXPECT_EQ(One("SELECT type('" + SqlEnumValueName(*v) + "')"), std::to_string(v->number()));
    EXPECT_EQ(One("SELECT type_name(" + std::to_string(v->number()) + ")"), SqlEnumValueName(*v));
  }
  EXPECT_EQ(One("SELECT type_defined(9)"), "t");
  EXPECT_EQ(One("SELECT type_defined(0)"), "f");
  EXPECT_EQ(One("SELECT type_defined(19)"), "f");
  EXPECT_EQ(One("SELECT type_defined(NULL)"), "f");
  EXPECT_EQ(One("SELECT null_value('NULL_VALUE')"), "0");
  EXPECT_EQ(One("SELECT coalesce(type_name(99), 'none')"), "none");
}

TEST_F(SqlEnumsDbTest, AMisspeltNameFailsNamingTheEnumAndTheValue) {
  try {
    One("SELECT count(*) FROM rows WHERE type = type('STRIGN')");
    ADD_FAILURE() << "a misspelt value was accepted";
  } catch (const pqxx::sql_error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("google.protobuf.FieldDescriptorProto.Type has no value STRIGN"));
  }
}

TEST_F(SqlEnumsDbTest, ANamedValueIsFoldedSoAPartialIndexServes) {
  {
    pqxx::work tx(c_);
    tx.exec(
        "INSERT INTO enums.rows SELECT g, g % 18 + 1, g::text FROM generate_series(1, 20000) g");
    tx.exec("ANALYZE enums.rows");
    tx.commit();
  }
  pqxx::work tx(c_);
  tx.exec("SET LOCAL search_path TO enums");
  std::string plan;
  for (const auto& row : tx.exec_params(
           "EXPLAIN SELECT id FROM rows WHERE code = $1 AND type = type('STRING')", "9")) {
    plan += row[0].c_str();
  }
  EXPECT_THAT(plan, HasSubstr("rows_code")) << plan;
  EXPECT_THAT(plan, ::testing::Not(HasSubstr("type("))) << plan;
}

TEST_F(SqlEnumsDbTest, AColumnCheckedByNameRefusesAValueTheEnumLacks) {
  pqxx::work tx(c_);
  tx.exec("INSERT INTO enums.rows VALUES (1, 18, 'a')");
  EXPECT_THROW(tx.exec("INSERT INTO enums.rows VALUES (2, 19, 'b')"), pqxx::check_violation);
}

TEST_F(SqlEnumsDbTest, EveryStartReplacesTheFunctionsHarmlessly) {
  EXPECT_TRUE(ApplyMigrations(c_, "enums", {}, kEnums).ok());
  EXPECT_EQ(One("SELECT type('STRING')"),
            std::to_string(google::protobuf::FieldDescriptorProto::TYPE_STRING));
}

}  // namespace
}  // namespace civicpoints::pg
