#include "tools/cpctl/importer.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "gtest/gtest.h"

namespace civicpoints::cpctl {
namespace {

// Rows "name,n": n empty is a local error; the "server" answers by name from a script of statuses.
class ScriptedImporter : public RowImporter {
 public:
  std::map<std::string, std::vector<absl::Status>> answers;
  std::vector<std::pair<std::string, std::string>> sent;  // (name, key)

  std::vector<std::string> RequiredColumns() const override { return {"name"}; }
  std::vector<std::string> OptionalColumns() const override { return {"n"}; }
  absl::Status Check(const CsvTable& t, const CsvRow& row, std::string* field) override {
    if (t.Field(row, "n").empty()) {
      *field = "n";
      return absl::InvalidArgumentError("n is empty");
    }
    return absl::OkStatus();
  }
  absl::Status Send(const CsvTable& t, const CsvRow& row, const std::string& key, absl::Time,
                    bool* created, std::string* field) override {
    const std::string name = t.Field(row, "name");
    sent.emplace_back(name, key);
    std::vector<absl::Status>& script = answers[name];
    if (script.empty()) return absl::OkStatus();
    absl::Status s = script.front();
    script.erase(script.begin());
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      *created = false;
      return absl::OkStatus();
    }
    *field = "name";
    return s;
  }
};

CsvTable Table(const std::string& text) { return *ParseCsv(text); }

TEST(ImporterTest, GoodRowsGoOnceBadRowsAreReportedWithTheirNumbers) {
  ScriptedImporter rows;
  rows.answers["b"] = {absl::NotFoundError("community: no such node")};
  rows.answers["c"] = {absl::AlreadyExistsError("")};  // an earlier run made it
  absl::StatusOr<ImportResult> r =
      RunImport(Table("name,n\na,1\nb,2\nx,\nc,3\n"), rows, {.max_wait = absl::Seconds(1)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows, 4u);
  EXPECT_EQ(r->created, 1u);
  EXPECT_EQ(r->existing, 1u);
  ASSERT_EQ(r->errors.size(), 2u);
  EXPECT_EQ(r->errors[0].row, 3);
  EXPECT_EQ(r->errors[0].code, "NOT_FOUND");
  EXPECT_EQ(r->errors[1].row, 4);
  EXPECT_EQ(r->errors[1].field, "n");
  EXPECT_EQ(r->errors[1].code, "INVALID_ROW");
  EXPECT_EQ(rows.sent.size(), 3u);  // the locally bad row was never sent
}

TEST(ImporterTest, ThrottledRowIsRetriedUnderTheSameKey) {
  ScriptedImporter rows;
  rows.answers["a"] = {absl::ResourceExhaustedError("slow down"), absl::UnavailableError("")};
  absl::StatusOr<ImportResult> r =
      RunImport(Table("name,n\na,1\n"), rows, {.max_wait = absl::Seconds(5)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->created, 1u);
  ASSERT_EQ(rows.sent.size(), 3u);
  EXPECT_EQ(rows.sent[0].second, rows.sent[2].second);
}

TEST(ImporterTest, RefusedSessionStopsTheImport) {
  ScriptedImporter rows;
  rows.answers["b"] = {absl::UnauthenticatedError("session ended")};
  absl::StatusOr<ImportResult> r = RunImport(Table("name,n\na,1\nb,2\nc,3\n"), rows, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(rows.sent.size(), 2u);
}

TEST(ImporterTest, HeaderMustNameTheRequiredAndOnlyKnownColumns) {
  ScriptedImporter rows;
  EXPECT_EQ(RunImport(Table("n\n1\n"), rows, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunImport(Table("name,colour\na,red\n"), rows, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(rows.sent.empty());
}

TEST(ImporterTest, KeyDependsOnContentNotColumnOrder) {
  CsvTable a = Table("name,n\nx,1\nx,2\n");
  CsvTable b = Table("n,name\n1,x\n");
  EXPECT_EQ(RowKey("p", a, a.rows[0]), RowKey("p", b, b.rows[0]));
  EXPECT_NE(RowKey("p", a, a.rows[0]), RowKey("p", a, a.rows[1]));
  EXPECT_NE(RowKey("p", a, a.rows[0]), RowKey("q", a, a.rows[0]));
  EXPECT_LE(RowKey("cpctl-import-places", a, a.rows[0]).size(), 128u);
}

TEST(ImporterTest, ErrorReportIsCsv) {
  const std::string path = std::filesystem::temp_directory_path() / "cpctl_importer_test.csv";
  ASSERT_TRUE(
      WriteErrorReport(path, {{4, "latitude", "INVALID_ROW", "not a number, really"}}).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(),
            "row,field,code,message\n4,latitude,INVALID_ROW,\"not a number, really\"\n");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace civicpoints::cpctl
